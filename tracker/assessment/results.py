"""What an assessment returns: verdicts per section, indicator and stage, county items, scoring.

Plain dataclasses, built by ``engine.assess``; ``report`` turns them into the JSON contract and
the official tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from tracker.assessment.checks import CheckFinding, CheckOutcome
from tracker.assessment.inputs import Status
from tracker.assessment.resource import ResourceArrays
from tracker.assessment.sections import ExcludedSchool
from tracker.assessment.shortfalls import Shortfall
from tracker.errors import ErrorDetail, JunhengError
from tracker.standards.schema import STAGE_NAMES

# Decimals on the official forms (domain.md) unless the standard's ``rounding`` says otherwise.
DEFAULT_ROUNDING: dict[str, int] = {"school_value": 2, "county_value": 2, "cv": 3}


def rounding_note(rounding: Mapping[str, int]) -> str:
    return (f"达标判定按未四舍五入的数值计算；报表中的数值按官方表式四舍五入（校值保留 {rounding['school_value']} 位、"
            f"县域均值 {rounding['county_value']} 位、差异系数 {rounding['cv']} 位小数）。")


class AssessmentInputError(JunhengError, ValueError):
    """County inputs that cannot be used; ``problems`` are Chinese, one per entry."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems), details=[ErrorDetail(p) for p in problems])


OP_TEXT = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class SectionResult:
    school: str
    school_key: str
    stage: str
    students: float
    values: dict[str, float]  # unrounded
    met: list[str]
    ok: bool
    blocking: list[str]  # unmet indicators that must be fixed for the school to pass


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    code: str
    title: str
    stage: str
    threshold: float
    county_value: float | None  # ratio of totals (= the weighted mean), unrounded
    county_met: bool | None
    cv: float | None
    cv_limit: float
    cv_ok: bool | None
    sections: int
    schools_below: int  # sections below the threshold


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: str
    schools: list[SectionResult]
    indicators: dict[str, IndicatorResult]

    @property
    def schools_not_ok(self) -> int:
        return sum(not s.ok for s in self.schools)


@dataclass(frozen=True, slots=True)
class Figure:
    """One county figure of an indicator (most have one; some have two, e.g. 10 % and 20 %)."""

    key: str
    label: str
    stage: str | None
    value: float | None  # None: not entered
    op: str
    required: float
    unit: str
    status: Status

    @property
    def requirement(self) -> str:
        return f"{OP_TEXT[self.op]} {self.required:g}{self.unit}"


@dataclass(frozen=True, slots=True)
class CountyItem:
    """A county-level indicator, application condition or veto: pass, fail or unknown."""

    code: str
    title: str
    kind: str  # the Judged value, or "condition" / "veto"
    status: Status
    value: object = None  # the input as given (a figure, a verdict, or {key: figure})
    required: str = ""  # e.g. "≥ 95%"
    detail: str = ""
    departments: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ScoredItem:
    code: str
    title: str
    max_points: float
    min_points: float  # per_indicator_min_ratio × max_points
    points: float | None  # None: not scored yet
    ok: bool | None
    # points per sub-item where entered that way (8.1, 8.2 …; None: not yet); they add up to ``points``
    sub_points: list[float | None] = field(default_factory=list)
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ScoringResult:
    """Hunan B indicators: each ≥ 80 % of its points and the total ≥ pass_total; then a grade."""

    items: list[ScoredItem]
    total: float | None  # None until every item is scored
    pass_total: float
    ok: bool | None
    grade: str | None
    grade_rule: str = ""  # how totals are banded, incl. between bands (85.5)
    grade_note: str = ""  # said when the total falls between two bands


@dataclass(slots=True)
class Assessment:
    standard: str
    standard_title: str
    as_of: dt.date
    ok: bool | None  # the resource-allocation verdict (indicators 1–7); None when unknowable
    stages: dict[str, StageResult]
    excluded: list[ExcludedSchool]
    checks: list[CheckOutcome]  # per-school check indicators (class size, school size, rooms)
    check_findings: list[CheckFinding]
    county: list[CountyItem]
    scoring: ScoringResult | None
    shortfalls: list[Shortfall]
    resource: ResourceArrays
    notes: list[str] = field(default_factory=list)
    county_must_meet: bool = False  # the standard's per-school rule requires the county values too
    # decimals the official tables show (school_value, county_value, cv); verdicts never use them
    rounding: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ROUNDING))
    kindergarten_weight: float = 1.0  # a kindergarten pupil's weight in the split (plan, setting or 1)

    def verdict_reasons(self) -> list[str]:
        """Why ``ok`` is False or None, in Chinese (empty when it is True)."""
        reasons = []
        must_meet = any(i.county_met is False for sr in self.stages.values() for i in sr.indicators.values())
        for stage, sr in self.stages.items():
            name = STAGE_NAMES[stage]
            if not sr.schools:
                reasons.append(f"没有{name}学校（学段），无法评估")
                continue
            if sr.schools_not_ok:
                reasons.append(f"{name} {sr.schools_not_ok} 个学段未达到每校标准")
            over = [c for c, i in sr.indicators.items() if i.cv_ok is False]
            if over:
                reasons.append(f"{name}指标 {'、'.join(over)} 的差异系数超过 {sr.indicators[over[0]].cv_limit:g}")
            if any(i.cv is None for i in sr.indicators.values()):
                reasons.append(f"{name}差异系数无法计算（少于 2 个学段或均值为 0）")
            if self.county_must_meet and must_meet:
                below = [c for c, i in sr.indicators.items() if i.county_met is False]
                if below:
                    reasons.append(f"{name}县域值未达标：指标 {'、'.join(below)}")
        return reasons

    @property
    def county_ok(self) -> bool | None:
        """The county-level items (incl. per-school checks, conditions, vetoes, scoring)."""
        statuses = [c.status for c in self.county] + [c.status for c in self.checks]
        if self.scoring is not None:
            statuses.append({True: "pass", False: "fail", None: "unknown"}[self.scoring.ok])
        if "fail" in statuses:
            return False
        if "unknown" in statuses:
            return None
        return True
