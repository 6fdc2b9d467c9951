"""The shape of a standard file (tracker/standards/*.yaml).

A standard is data: thresholds, CV limits, the per-school rule, how each indicator is
judged, its default responsible units. The assessment engine reads only this model, so a
new provincial standard is a new YAML file, not new code. Check *kinds* (``class_size``,
``school_size``, ``rooms_per_classes``, see ``Check``) and allowance ``condition`` keys
(see ``Allowance``) are the only vocabulary code has to know.

Cross-field rules (unique codes, references between entries, points summing up) are
checked by the loader, tracker.standards.load_standard_file, which names file and field.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Stage = Literal["primary", "junior"]
STAGES: tuple[Stage, ...] = ("primary", "junior")
STAGE_NAMES: dict[str, str] = {"primary": "小学", "junior": "初中", "senior": "高中"}


class Judged(str, Enum):
    """How an indicator is judged."""

    per_school_value = "per_school_value"  # indicators 1–7: a value per school section, thresholds + CV
    per_school_check = "per_school_check"  # a rule checked at every school (class size, rooms …)
    county_figure = "county_figure"  # one county number against a threshold (e.g. retention ≥ 95%)
    attestation = "attestation"  # the county attests with evidence (pass/fail/unknown)
    scored = "scored"  # Hunan B indicators: points out of a maximum


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueFormula(_Strict):
    """value = scale × (Σ numerator − Σ subtract) ÷ students of the section.

    Field names are SchoolSection attributes (see tracker.standards.records).
    ``shared`` fields are facilities split between stages by weighted enrolment.
    """

    numerator: list[str]
    subtract: list[str] = []
    scale: float = 1.0
    shared: bool = False


class Allowance(_Strict):
    """A dated relaxation (the 2019 work rules): applies only where enabled and in force.

    ``condition`` keys the school-level test; its numbers are in ``condition_params``:

    - ``built_2016_or_earlier``: year_built ≤ condition_params["built_year_max"] (2016)
    - ``rural_small_school``: rural_small_school is true and the largest class
      < condition_params["max_class_size_below"] (30)
    - ``built_2010_or_earlier_or_migrant_over_50pct``: year_built ≤ built_year_max (2010)
      or migrant_share > migrant_share_over (0.5)
    - ``dense_city_center``: not computed (``computed: false``); the county declares it

    ``params`` override the check's params of the same name while the allowance applies;
    a name ending in ``_primary`` / ``_junior`` overrides that stage only
    (``music_min_area_primary: 54`` replaces ``music_min_area`` for the primary stage).
    """

    id: str
    title: str
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    condition: str  # machine key, see above
    params: dict[str, float] = {}
    requires_plan: bool = False  # a construction plan + follow-up task reaching full standard in N years
    years_to_full_standard: int | None = None
    # additive fields (standards helper)
    condition_params: dict[str, float] = {}  # the numbers of the condition itself
    applies_to: list[str] = []  # indicator codes the allowance relaxes
    computed: bool = True  # False: cannot be decided from school data (county declares it)
    note: str = ""


class Check(_Strict):
    """A per-school check; ``kind`` selects code, ``params`` are the numbers.

    Kinds the engine implements (exact kind and param names):

    - ``class_size``: params ``primary_max`` (45), ``junior_max`` (50); compares
      SchoolRecord.primary_max_class_size / junior_max_class_size.
    - ``school_size``: params ``max_students`` (2000, a 小学 or 初中, and a 完全中学's
      compulsory stages), ``max_students_through`` (2500, the compulsory stages of a
      九年一贯制 / 十二年一贯制 school); allowance ``school_size_2019``.
    - ``rooms_per_classes``: params ``classes_per_room`` (12: at least ceil(classes / 12)
      music rooms and as many art rooms per school), ``music_min_area`` (96 m²),
      ``art_min_area`` (90 m², compared with the smallest room); allowances
      ``rooms_built_2016``, ``rooms_rural_small``.

    ``allowances`` are ids of Standard.allowances entries that may relax the check.
    """

    kind: str  # "class_size" | "school_size" | "rooms_per_classes" | ...
    params: dict[str, float] = {}
    allowances: list[str] = []  # ids of Allowance entries that may relax this check


class Threshold(_Strict):
    """For county figures: value ``op`` target (e.g. ">= 95", unit "%").

    An indicator with several figures (交流轮岗 10 % and 骨干 20 % of those; 就近入学
    primary 100 % and junior 95 %; 监测 level Ⅲ and difference rate < 0.15) has the first
    in ``Indicator.threshold`` and the rest in ``Indicator.extra_thresholds``; then every
    one carries a ``key`` (unique in the indicator) under which the county enters it.
    """

    op: Literal[">=", "<=", ">", "<", "=="] = ">="
    value: float
    unit: str = ""
    # additive fields (standards helper)
    key: str = ""  # entry key when an indicator has several figures; "" = the indicator code
    label: str = ""  # what the figure is, in Chinese
    stage: Stage | None = None  # the figure applies to one stage only


class Indicator(_Strict):
    code: str  # "1".."7" for resource indicators; "8".. etc. as the document numbers them
    area: str  # area code, see Standard.areas
    title: str
    judged: Judged
    klass: Literal["A", "B"] | None = Field(default=None, alias="class")  # Hunan hard/scored
    # per_school_value
    formula: ValueFormula | None = None
    thresholds: dict[Stage, float] = {}
    unit: str = ""  # unit of the value, e.g. "人/百生", "m²/生", "元/生", "间/百生"
    shortfall_unit: str = ""  # what people act on: "人", "m²", "万元", "间"
    # per_school_check
    check: Check | None = None
    # county_figure
    threshold: Threshold | None = None
    # scored
    points: float | None = None
    sub_items: list[dict[str, object]] = []  # Hunan 分项分值: [{"title":…, "points":…}]
    school_can_fix: bool = False  # a school is the responsible unit for its own shortfall
    departments: list[str] = []  # default responsible units as the seeds' 分工表 list them
    note: str = ""
    # additive fields (standards helper)
    extra_thresholds: list[Threshold] = []  # further county figures that must all hold too
    criteria: list[str] = []  # 评估要点: what reviewers look at (evidence for attestations)
    bureau_units: list[str] = []  # education-bureau sections (seed 000's 责任科室); a plan may differ
    national_code: str = ""  # provincial standards: the matching national-2017 indicator

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> "Indicator":
        if self.judged is Judged.per_school_value and (self.formula is None or not self.thresholds):
            raise ValueError("per_school_value 指标必须有 formula 和 thresholds")
        if self.judged is Judged.per_school_check and self.check is None:
            raise ValueError("per_school_check 指标必须有 check")
        if self.judged is Judged.county_figure and self.threshold is None:
            raise ValueError("county_figure 指标必须有 threshold")
        if self.judged is Judged.scored and self.points is None:
            raise ValueError("scored 指标必须有 points")
        return self

    @property
    def all_thresholds(self) -> list[Threshold]:
        """Every county figure the indicator requires (``threshold`` first)."""
        return ([self.threshold] if self.threshold else []) + list(self.extra_thresholds)


class PerSchoolRule(_Strict):
    """national: 6 of the 7 met, the 7th at least 85 %; Hunan: all, and the county too."""

    indicators: list[str]
    min_met: int
    rest_min_ratio: float | None = None  # the unmet ones must reach this share of the threshold
    county_must_meet: bool = False  # Hunan: the county value must meet each indicator too


class Area(_Strict):
    code: str
    title: str


class Condition(_Strict):
    """An application condition (申报条件) or a veto (一票否决)."""

    code: str
    title: str
    departments: list[str] = []
    # additive fields (standards helper)
    params: dict[str, float] = {}  # the numbers in the condition (years, CV limits, level …)
    bureau_units: list[str] = []
    note: str = ""


class Scoring(_Strict):
    """Hunan-style scoring of B indicators."""

    total_points: float
    pass_total: float
    per_indicator_min_ratio: float
    grades: list[dict[str, object]]  # [{"min": 80, "max": 85, "name": "合格"}, …]
    note: str = ""  # additive


class SurveyRule(_Strict):
    """How the satisfaction survey (tracker.surveys) gives the recognition indicator its rate:
    an answer in ``satisfied`` counts as satisfied, one in ``left_out`` is not counted at all;
    rate = satisfied answers ÷ counted answers; a question below ``threshold`` is a shortfall."""

    indicator: str  # the indicator the overall rate fills (national 32, Hunan 36), in percent
    satisfied: list[str]
    left_out: list[str] = []
    threshold: float = Field(0.85, gt=0, le=1)  # a fraction, as the results give rates
    questionnaire: str  # the shipped questionnaire's id (tracker/surveys/questionnaires/<id>.yaml)


class Standard(_Strict):
    id: str
    title: str
    document: str  # e.g. 教督〔2017〕6号
    issued: dt.date | None = None
    region: str = "全国"
    areas: list[Area]
    stages: dict[Stage, dict[str, float]]  # {"primary": {"cv_limit": 0.50}, "junior": {"cv_limit": 0.45}}
    splitting: dict[str, list[float]]  # {"九年一贯制": [1, 1.1], "十二年一贯制": [1, 1.1, 1.32], "完全中学": [1, 1.2]}
    teaching_point_min_students: int = 50
    per_school_rule: PerSchoolRule
    indicators: list[Indicator]
    allowances: list[Allowance] = []
    application_conditions: list[Condition] = []
    vetoes: list[Condition] = []
    scoring: Scoring | None = None
    survey: SurveyRule | None = None  # the satisfaction survey's rule (issue 13 §3)
    rounding: dict[str, int] = {"school_value": 2, "county_value": 2, "cv": 3}
    note: str = ""  # additive: where the data comes from, what was inferred

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    def allowance(self, allowance_id: str) -> Allowance:
        for allowance in self.allowances:
            if allowance.id == allowance_id:
                return allowance
        raise KeyError(allowance_id)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {code: n for n, code in enumerate(self.indicator_order())}

    def indicator_order(self) -> list[str]:
        """Every code of the standard in the file's order: the indicators, then the application
        conditions, then the vetoes. The one indicator order: the breakdown, the board, the
        briefing, the plan's 分工 and the evidence archive all list indicators by it."""
        return ([i.code for i in self.indicators] + [c.code for c in self.application_conditions]
                + [v.code for v in self.vetoes])

    def indicator_sort_key(self, code: str | None) -> tuple[int, int, str]:
        """Sort key for an indicator code: its place in ``indicator_order``; a code the standard
        does not have after those (by its number, then its text), no code (None) last."""
        position = self._positions.get(code) if code is not None else None
        return (0, position, "") if position is not None else _unknown_code_key(code)

    @property
    def resource_indicators(self) -> list[Indicator]:
        return [i for i in self.indicators if i.judged is Judged.per_school_value]

    def cv_limit(self, stage: Stage) -> float:
        return self.stages[stage]["cv_limit"]


def _unknown_code_key(code: str | None) -> tuple[int, int, str]:
    """After the standard's own codes: other codes by their number, then by their text; None last."""
    if code is None:
        return (3, 0, "")
    digits = "".join(ch for ch in code if ch.isdigit())
    return (1, int(digits), code) if digits else (2, 0, code)


def indicator_sort_key(standard: Standard | None, code: str | None) -> tuple[int, int, str]:
    """``standard.indicator_sort_key(code)``; without a standard (its file gone), codes by number."""
    return standard.indicator_sort_key(code) if standard is not None else _unknown_code_key(code)
