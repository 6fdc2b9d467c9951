"""Shortfalls: what is missing, where, in the units people act on, and who is responsible.

A shortfall is every resource indicator below its threshold at a school section (blocking when
it has to be fixed for the school to pass the per-school rule), every failed per-school check,
every county-level indicator that fails, and every difference coefficient over its limit.
Campaign planning (issue 3) turns each into a task; ``departments`` are the standard's defaults,
with "各乡镇" kept as written (the campaign resolves it to the school's township).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from tracker.standards.schema import STAGE_NAMES, Indicator, ValueFormula

ShortfallKind = Literal["school_value", "school_check", "county", "cv"]

# What the numerator of a formula counts, and in which unit the sheet reports it.
FIELD_NOUNS: dict[str, tuple[str, str]] = {
    "qualified_teachers": ("高于规定学历教师", "人"),
    "backbone_teachers": ("县级以上骨干教师", "人"),
    "pe_art_teachers": ("体育艺术专任教师", "人"),
    "teaching_area": ("教学及辅助用房面积", "m²"),
    "indoor_sports_area": ("室内体育用房面积", "m²"),
    "sports_area": ("体育运动场馆面积", "m²"),
    "equipment_value": ("教学仪器设备值", "万元"),
    "multimedia_rooms": ("网络多媒体教室", "间"),
}
COUNTED_UNITS = {"人", "间", "所", "个"}  # whole things: round the gap up to the next integer
# shortfall unit -> (factor from the field unit, rounding step)
_UNIT_CONVERSIONS: dict[tuple[str, str], float] = {("万元", "元"): 10_000.0, ("元", "万元"): 1 / 10_000}
_ROUNDING_STEP: dict[str, float] = {"m²": 0.1, "万元": 0.1, "元": 1.0}


@dataclass(frozen=True, slots=True)
class Shortfall:
    indicator: str  # indicator code ("1".."7", "11" …) or condition/veto code
    stage: str | None  # "primary" | "junior"; None where the indicator is not per stage
    school: str | None  # the school's name; None for a county shortfall
    actual: float | None
    required: float | None
    missing: float | None  # in ``unit``, the units people act on
    unit: str
    departments: list[str]
    blocking: bool  # breaks the school's verdict (school kinds) or the county's (county kinds)
    kind: ShortfallKind
    text: str  # the action in Chinese: "需增加体育艺术专任教师 3 人", "缺口 420 m²"
    title: str = ""  # the indicator's title
    school_key: str | None = None
    school_can_fix: bool = False
    # An allowance (2019 work rules) made it pass for now: a construction plan and follow-up
    # are required, reaching the full standard within ``years_to_full_standard`` years.
    allowance: str | None = None
    plan_required: bool = False
    years_to_full_standard: int | None = None
    schools: list[dict[str, object]] = field(default_factory=list)  # CV: the sections pulling it away

    @property
    def description(self) -> str:
        """One line for reports: where, what, the figures, and the action."""
        where = "全县" if self.school is None else self.school
        if self.stage:
            where += f"（{STAGE_NAMES.get(self.stage, self.stage)}）"
        return f"{where} {self.title}：{self.text}"


def round_up(value: float, step: float) -> float:
    """Round a gap up to ``step`` (a gap is never understated), ignoring float noise."""
    units = value / step
    return round(math.ceil(units - 1e-9) * step, 10)


def format_amount(value: float) -> str:
    """420.0 -> "420", 85.3 -> "85.3" (amounts are already rounded to their step)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def distinct_digits(value: float, limit: float, least: int = 3, most: int = 9) -> str:
    """``value`` with enough decimals that it does not print as ``limit`` (0.4503 over 0.45, not
    "0.450"): at least ``least``, at most ``most``."""
    for digits in range(least, most + 1):
        text = f"{value:.{digits}f}"
        if float(text) != limit:
            return text
    return f"{value:.{most}f}"


def noun_and_field_unit(formula: ValueFormula) -> tuple[str, str]:
    first = formula.numerator[0]
    return FIELD_NOUNS.get(first, (first, ""))


def shortfall_unit(indicator: Indicator) -> str:
    assert indicator.formula is not None
    return indicator.shortfall_unit or noun_and_field_unit(indicator.formula)[1]


def missing_amount(indicator: Indicator, required: float, students: float, have: float) -> float:
    """The gap in action units: required × students ÷ scale − have, converted and rounded up.

    ``have`` is Σnumerator − Σsubtract in the sheet's units (teachers, m², 万元, rooms), so for
    indicator 4 the indoor sports area is already taken off.
    """
    formula = indicator.formula
    assert formula is not None
    gap = required * students / formula.scale - have
    field_unit = noun_and_field_unit(formula)[1]
    unit = shortfall_unit(indicator)
    gap *= _UNIT_CONVERSIONS.get((field_unit, unit), 1.0)
    if gap <= 0:
        return 0.0
    step = 1.0 if unit in COUNTED_UNITS else _ROUNDING_STEP.get(unit, 0.01)
    return round_up(gap, step)


def value_text(indicator: Indicator, missing: float) -> str:
    """"需增加体育艺术专任教师 3 人" for things counted, "缺口 420 m²" for amounts."""
    assert indicator.formula is not None
    noun, _ = noun_and_field_unit(indicator.formula)
    unit = shortfall_unit(indicator)
    if unit in COUNTED_UNITS:
        return f"需增加{noun} {format_amount(missing)} {unit}"
    return f"缺口 {format_amount(missing)} {unit}"
