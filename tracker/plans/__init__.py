"""The campaign plan file (方案): parsing and validating it, and the resolved plan other rooms read.

Import from here (``from tracker.plans import CampaignPlan, load_plan``): how the parsing is
split into modules is this room's own business. The modules, from the bottom up:

- ``kinds``: phase and unit kinds and their Chinese names; the default phases
- ``fields``: how values are written (dates, times, 是/否, name lists), length bounds, the base model
- ``sections``: the entries as written (people, group, office, units, 分工, 阶段, 准备工作, 提醒, 考核)
- ``resolved``: ``CampaignPlan`` and its resolved people and units (what is stored)
- ``checker``: problems with line and key, ``PlanError``
- ``state``, ``organisation``, ``work``, ``resolve``: one function per section, called in order
- ``loader``: ``load_plan`` / ``parse_plan`` (YAML via ``tracker.yamlfile``)
"""

from tracker.plans.checker import PlanError
from tracker.plans.fields import (
    CODE_MAX,
    GROUP_ROLES,
    NAME_MAX,
    REDATE_WORKING_DAYS,
    REDATE_WORKING_DAYS_MAX,
    TEXT_MAX,
    TOWNSHIPS_PLACEHOLDER,
    UNKNOWN_DATE_WORDS,
    mobile_of,
)
from tracker.plans.kinds import (
    DEFAULT_PHASES,
    PHASE_KIND_LABELS,
    PHASE_KIND_NAMES,
    UNIT_KIND_LABELS,
    UNIT_KIND_NAMES,
    PhaseKind,
    UnitKind,
)
from tracker.plans.loader import load_plan, parse_plan
from tracker.plans.resolved import CampaignPlan, PlanDepartment, PlanPerson
from tracker.plans.sections import (
    RANK_BY_NAMES,
    URGENT_RUNG_NAMES,
    AppraisalRule,
    AssignmentEntry,
    DepartmentEntry,
    PhaseEntry,
    PreparatoryTask,
    ReminderLadder,
)

__all__ = [
    "CODE_MAX", "DEFAULT_PHASES", "GROUP_ROLES", "NAME_MAX", "PHASE_KIND_LABELS", "PHASE_KIND_NAMES",
    "REDATE_WORKING_DAYS", "REDATE_WORKING_DAYS_MAX", "TEXT_MAX", "TOWNSHIPS_PLACEHOLDER", "UNIT_KIND_LABELS",
    "UNIT_KIND_NAMES", "UNKNOWN_DATE_WORDS", "RANK_BY_NAMES", "AppraisalRule", "URGENT_RUNG_NAMES", "AssignmentEntry", "CampaignPlan",
    "DepartmentEntry", "PhaseEntry", "PhaseKind", "PlanDepartment", "PlanError", "PlanPerson", "PreparatoryTask",
    "ReminderLadder", "UnitKind", "load_plan", "mobile_of", "parse_plan",
]
