"""Resolving a plan: one function per section of the file, called in order, each adding its
problems to the checker. Later sections read what earlier ones found (units by any spelling,
people merged by name, phases by code), so the order is part of the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from tracker.plans import organisation, work
from tracker.plans.checker import Checker
from tracker.plans.resolved import CampaignPlan
from tracker.plans.state import Resolution

SECTIONS: tuple[tuple[str, Callable[[Resolution], None]], ...] = (
    ("顶层键", organisation.top_keys),
    ("编号、名称、县、标准", organisation.header),
    ("领导小组", organisation.leading_group),
    ("责任单位", organisation.department_entries),
    ("办公室", organisation.office_entry),
    ("单位名称、简称、别名", organisation.unit_spellings),
    ("领导小组成员", organisation.group_members),
    ("分管领导", organisation.supervisors),
    ("责任单位负责人、联系人", organisation.department_people),
    ("办公室人员", organisation.office_people),
    ("学校联系人", organisation.school_contacts),
    ("人员完整性", organisation.people_complete),
    ("群机器人", organisation.group_robots),
    ("阶段", work.phases),
    ("分工", work.assignments),
    ("学校自行整改", work.school_fixable),
    ("准备工作", work.preparatory_tasks),
    ("提醒", work.reminders),
    ("考核", work.appraisal),
    ("幼儿班折算", work.kindergarten_weight),
)


def resolve(checker: Checker, data: dict[str, Any], robots: Collection[str] | None = None) -> CampaignPlan | None:
    """The resolved plan, or None when the checker holds problems. ``robots``: the names of the
    group robots configured (JUNHENG_WEBHOOKS); given, every 群机器人 must be one of them."""
    r = Resolution(checker=checker, data=data, robots=robots)
    for _, section in SECTIONS:
        section(r)
    if checker.problems or r.header is None or r.group is None or r.office is None or r.standard is None:
        return None
    return CampaignPlan(
        code=r.header.code, name=r.header.name, county=r.header.county, standard=r.header.standard,
        leading_group=r.group, office=r.office, departments=r.unit_list, people=list(r.people.values()),
        assignments=r.assignments, school_fixable=r.school_fixable,
        phases=[e for _, e in sorted(r.phases, key=lambda p: p[1].order or 0)],
        preparatory_tasks=r.preparatory, reminders=r.reminders, school_contacts=r.school_contacts,
        appraisal=r.appraisal, kindergarten_weight=r.kindergarten_weight,
    )
