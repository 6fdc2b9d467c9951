"""What the resolution of a plan has found so far, passed from one section to the next, and the
two lookups every section uses: a unit by any of its spellings, and a person merged by name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracker.plans.checker import Checker, KeyPath, suggest
from tracker.plans.fields import TOWNSHIPS_PLACEHOLDER
from tracker.plans.resolved import PlanDepartment, PlanPerson
from tracker.plans.sections import (
    AppraisalRule,
    AssignmentEntry,
    DepartmentEntry,
    LeadingGroup,
    Office,
    PersonEntry,
    PhaseEntry,
    PlanHeader,
    PreparatoryTask,
    ReminderLadder,
)

if TYPE_CHECKING:
    from tracker.standards.schema import Standard


@dataclass
class Resolution:
    """The plan's raw data, the checker collecting its problems, and each section's result."""

    checker: Checker
    data: dict[str, Any]
    # the group robots configured (JUNHENG_WEBHOOKS names), when the caller knows them
    robots: Collection[str] | None = None
    # 县 / header
    header: PlanHeader | None = None
    standard: Standard | None = None
    # 领导小组
    group_raw: Any = None
    group_key: str = "领导小组"
    group: LeadingGroup | None = None
    group_names: set[str] = field(default_factory=set)
    # 责任单位 and 办公室
    dept_raw: list[Any] = field(default_factory=list)
    dept_key: str = "责任单位"
    departments: list[tuple[int, DepartmentEntry]] = field(default_factory=list)
    office_raw: Any = None
    office_key: str = "办公室"
    office: Office | None = None
    lookup: dict[str, str] = field(default_factory=dict)  # any spelling of a unit → its full name
    unit_list: list[PlanDepartment] = field(default_factory=list)  # the office first
    plan_departments: list[PlanDepartment] = field(default_factory=list)
    townships: list[str] = field(default_factory=list)
    # people, merged by name
    people: dict[str, PlanPerson] = field(default_factory=dict)
    seen_at: dict[str, KeyPath] = field(default_factory=dict)
    strong_dept: dict[str, str] = field(default_factory=dict)  # name → the unit they belong to
    pending_email: list[tuple[str, KeyPath]] = field(default_factory=list)
    pending_reference: list[tuple[str, KeyPath]] = field(default_factory=list)
    school_contacts: dict[str, str] = field(default_factory=dict)
    # 阶段, 分工, 学校自行整改, 准备工作, 提醒
    phases: list[tuple[int, PhaseEntry]] = field(default_factory=list)
    phase_spellings: set[str] = field(default_factory=set)
    assignments: dict[str, AssignmentEntry] = field(default_factory=dict)
    school_fixable: list[str] = field(default_factory=list)
    preparatory: list[PreparatoryTask] = field(default_factory=list)
    reminders: ReminderLadder = field(default_factory=ReminderLadder)
    appraisal: AppraisalRule = field(default_factory=AppraisalRule)  # 考核
    kindergarten_weight: float | None = None  # 幼儿班折算: a kindergarten pupil's weight, a primary pupil's = 1

    def unit(self, name: str, path: KeyPath, *, allow_townships: bool) -> str | None:
        """The full name of the unit spelt ``name``, or None after recording the problem."""
        name = name.strip()
        if name == TOWNSHIPS_PLACEHOLDER:
            if not allow_townships:
                self.checker.problem(path, f"「{TOWNSHIPS_PLACEHOLDER}」只能作配合单位；牵头单位须是一个具体单位")
                return None
            if not self.townships and self.departments:
                self.checker.problem(path, f"用了「{TOWNSHIPS_PLACEHOLDER}」，但责任单位中没有类别为 乡镇 的单位")
                return None
            return TOWNSHIPS_PLACEHOLDER
        if name in self.lookup:
            return self.lookup[name]
        self.checker.problem(path, f"未知的单位「{name}」{suggest(name, self.lookup)}"
                                   "（须是「责任单位」或办公室中的名称、简称或别名）")
        return None

    def units(self, names: list[str], path: KeyPath) -> list[str]:
        out: list[str] = []
        for j, name in enumerate(names):
            resolved = self.unit(name, path + (j,), allow_townships=True)
            if resolved and resolved not in out:
                out.append(resolved)
        return out

    def person(self, entry: PersonEntry, path: KeyPath, *, department: str | None, strong: bool,
               reference_ok: bool, needs_email: bool, **flags: Any) -> None:
        """Merge one appearance of a person into ``people``; ``strong``: they belong to ``department``."""
        checker = self.checker
        is_reference = reference_ok and not (entry.email or entry.title or entry.phone)
        current = self.people.get(entry.name)
        if current is None:
            current = self.people[entry.name] = PlanPerson(name=entry.name)
            self.seen_at[entry.name] = path
        if entry.email:
            if current.email and current.email != entry.email:
                checker.problem(path + ("邮箱",), f"「{entry.name}」的邮箱与第 {checker.line_of(self.seen_at[entry.name])} "
                                                  f"行不一致（{current.email} / {entry.email}）")
            current.email = current.email or entry.email
        current.title = current.title or entry.title
        current.phone = current.phone or entry.phone
        if department is not None:
            if strong:
                other = self.strong_dept.get(entry.name)
                if other is not None and other != department:
                    checker.problem(path, f"「{entry.name}」同时属于「{other}」和「{department}」；"
                                          "同名的不同人员请加以区分，如「张伟（财政局）」")
                self.strong_dept[entry.name] = department
                current.department = department
            elif current.department is None and not is_reference:
                current.department = department
        for flag, value in flags.items():
            if value:
                setattr(current, flag, value)
        if needs_email:
            self.pending_email.append((entry.name, path))
