"""The campaign plan file (方案): parsing and validating it, and the resolved plan other rooms read.

Import from here (``from tracker.plans import CampaignPlan, load_plan``): how the parsing is
split into modules is this room's own business.
"""

from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.plans.plan import (
    DEFAULT_PHASES,
    GROUP_ROLES,
    PHASE_KIND_LABELS,
    PHASE_KIND_NAMES,
    REDATE_WORKING_DAYS,
    REDATE_WORKING_DAYS_MAX,
    TOWNSHIPS_PLACEHOLDER,
    UNIT_KIND_LABELS,
    UNIT_KIND_NAMES,
    UNKNOWN_DATE_WORDS,
    URGENT_RUNG_NAMES,
    AssignmentEntry,
    CampaignPlan,
    DepartmentEntry,
    PhaseEntry,
    PlanDepartment,
    PlanError,
    PlanPerson,
    PreparatoryTask,
    ReminderLadder,
    load_plan,
    parse_plan,
)

__all__ = [
    "DEFAULT_PHASES", "GROUP_ROLES", "PHASE_KIND_LABELS", "PHASE_KIND_NAMES", "REDATE_WORKING_DAYS",
    "REDATE_WORKING_DAYS_MAX", "TOWNSHIPS_PLACEHOLDER", "UNIT_KIND_LABELS", "UNIT_KIND_NAMES", "UNKNOWN_DATE_WORDS",
    "URGENT_RUNG_NAMES", "AssignmentEntry", "CampaignPlan", "DepartmentEntry", "PhaseEntry", "PhaseKind",
    "PlanDepartment", "PlanError", "PlanPerson", "PreparatoryTask", "ReminderLadder", "UnitKind", "load_plan",
    "parse_plan",
]
