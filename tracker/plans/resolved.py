"""The resolved plan other rooms read: ``CampaignPlan`` with its people and units merged and
named by their full names. Stored as ``Campaign.plan`` (``model_dump(mode="json")``), i.e. with
the *English* field names (``plan["assignments"]["4"]["lead"]``, ``plan["reminders"]`` …).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from tracker.plans.kinds import UnitKind
from tracker.plans.sections import (
    AppraisalRule,
    AssignmentEntry,
    LeadingGroup,
    Office,
    PhaseEntry,
    PreparatoryTask,
    ReminderLadder,
)


class PlanPerson(BaseModel):
    """A person of the plan, merged from every place the plan names them (resolved, not input)."""

    name: str
    title: str = ""
    email: str = ""
    phone: str = ""
    department: str | None = None  # the full name of their unit
    group_role: Literal["组长", "副组长", "成员"] | None = None
    is_office: bool = False  # office people receive the office's notices and may 销号 / 退回
    is_contact: bool = False  # receives their unit's notices
    is_head: bool = False


class PlanDepartment(BaseModel):
    """A unit as resolved: the office is one too (kind ``office``)."""

    name: str
    short_name: str = ""
    kind: UnitKind
    aliases: list[str] = []
    head_name: str = ""
    head_email: str = ""
    contacts: list[str] = []  # person names
    supervisor: str | None = None  # 分管领导, a leading-group member's name
    robot: str | None = None  # its group robot's name in JUNHENG_WEBHOOKS (群机器人)

    def spellings(self) -> list[str]:
        return [s for s in (self.name, self.short_name, *self.aliases) if s]


class CampaignPlan(BaseModel):
    """The validated, resolved plan. Stored as ``Campaign.plan`` (``model_dump(mode="json")``)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    county: str
    standard: str
    leading_group: LeadingGroup
    office: Office
    departments: list[PlanDepartment]  # the office first, then the units in plan order
    people: list[PlanPerson]
    assignments: dict[str, AssignmentEntry]  # indicator code → lead + cooperating (full names)
    school_fixable: list[str]  # indicator codes a school fixes itself (its own task)
    phases: list[PhaseEntry]  # sorted by order
    preparatory_tasks: list[PreparatoryTask]  # lead/cooperating full names, phase = a phase code
    reminders: ReminderLadder
    # school (学校名称 or 学校标识码) → the person who receives the notices of the school's own tasks
    # (一校一案) and may act on them; schools come from the data sheet, so they are matched then
    school_contacts: dict[str, str] = {}
    appraisal: AppraisalRule = AppraisalRule()  # 考核: absent from the file (and older stored plans), the default rule
    # 幼儿班折算: a kindergarten pupil's weight in the split of shared facilities (a primary pupil's
    # is 1); None: the setting JUNHENG_KINDERGARTEN_WEIGHT
    kindergarten_weight: float | None = None
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """What the loader filled in or dropped and wants a person to confirm (Chinese)."""
        return self._warnings

    def with_warnings(self, warnings: list[str]) -> "CampaignPlan":
        self._warnings = list(warnings)
        return self

    def department(self, name: str) -> PlanDepartment:
        for dept in self.departments:
            if name in dept.spellings():
                return dept
        raise KeyError(name)

    @property
    def townships(self) -> list[PlanDepartment]:
        return [d for d in self.departments if d.kind is UnitKind.township]

    def phase(self, code: str) -> PhaseEntry:
        for phase in self.phases:
            if phase.code == code:
                return phase
        raise KeyError(code)

    def school_contact(self, key: str, name: str) -> PlanPerson | None:
        """The person of 学校联系人 for a school, by its 学校标识码 or its name."""
        person_name = self.school_contacts.get(key) or self.school_contacts.get(name)
        return next((p for p in self.people if p.name == person_name), None) if person_name else None

    @classmethod
    def from_stored(cls, data: dict) -> "CampaignPlan":
        """The plan as ``Campaign.plan`` holds it."""
        return cls.model_validate(data)
