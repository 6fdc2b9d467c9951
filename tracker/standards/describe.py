"""Chinese one-line descriptions of what a standard requires, for CLI, pages and notices."""

from __future__ import annotations

from tracker.standards.schema import STAGE_NAMES, Check, Indicator, Judged, Scoring, Standard, Threshold

JUDGED_NAMES: dict[Judged, str] = {
    Judged.per_school_value: "按校计算",
    Judged.per_school_check: "逐校检查",
    Judged.county_figure: "县级数值",
    Judged.attestation: "佐证认定",
    Judged.scored: "计分",
}
_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


def number(value: float) -> str:
    """4.2 → "4.2", 2000.0 → "2000"."""
    return f"{value:g}"


def threshold_text(threshold: Threshold) -> str:
    label = threshold.label or "数值"
    unit = threshold.unit if threshold.unit in ("%", "") else f" {threshold.unit}"
    return f"{label} {_OPS[threshold.op]} {number(threshold.value)}{unit}"


def check_text(check: Check) -> str:
    p = check.params
    if check.kind == "class_size":
        text = f"班额：小学 ≤ {number(p['primary_max'])} 人，初中 ≤ {number(p['junior_max'])} 人"
    elif check.kind == "school_size":
        text = (
            f"规模：小学、初中 ≤ {number(p['max_students'])} 人，"
            f"一贯制义务教育阶段 ≤ {number(p['max_students_through'])} 人"
        )
    elif check.kind == "rooms_per_classes":
        text = (
            f"每 {number(p['classes_per_room'])} 个班音乐、美术专用教室各 1 间以上，"
            f"音乐 ≥ {number(p['music_min_area'])} m²，美术 ≥ {number(p['art_min_area'])} m²"
        )
    else:
        text = f"{check.kind}：" + "，".join(f"{k}={number(v)}" for k, v in p.items())
    if check.allowances:
        text += f"（可放宽：{'、'.join(check.allowances)}）"
    return text


def requirement_text(indicator: Indicator) -> str:
    """What the indicator requires, e.g. "小学 ≥ 4.2 人/百生；初中 ≥ 5.3 人/百生"."""
    if indicator.judged is Judged.per_school_value:
        return "；".join(
            f"{STAGE_NAMES[stage]} ≥ {number(value)} {indicator.unit}".rstrip()
            for stage, value in indicator.thresholds.items()
        )
    if indicator.judged is Judged.per_school_check and indicator.check is not None:
        return check_text(indicator.check)
    if indicator.judged is Judged.scored:
        return f"{number(indicator.points or 0)} 分（{len(indicator.sub_items)} 个分项）"
    if indicator.all_thresholds:
        return "；".join(threshold_text(t) for t in indicator.all_thresholds)
    return "以材料佐证"


def per_school_rule_text(standard: Standard) -> str:
    rule = standard.per_school_rule
    codes = "、".join(rule.indicators)
    if rule.min_met >= len(rule.indicators):
        text = f"每所学校指标 {codes} 全部达标"
    else:
        text = f"每所学校指标 {codes} 中至少 {rule.min_met} 项达标"
        if rule.rest_min_ratio is not None:
            text += f"，余项不低于标准的 {number(rule.rest_min_ratio * 100)}%"
    if rule.county_must_meet:
        text += "；全县数值也须逐项达标"
    return text


def grade_for(scoring: Scoring, total: float, tolerance: float = 1e-9) -> dict[str, object] | None:
    """The grade of a total: the highest band whose lower bound it reaches. A total between two
    bands (85.5 between 80–85 and 86–90) stays in the lower one until it reaches the next bound."""
    fitting = [g for g in scoring.grades if float(g["min"]) <= total + tolerance]  # type: ignore[arg-type]
    return max(fitting, key=lambda g: float(g["min"])) if fitting else None  # type: ignore[arg-type]


def grade_gaps(scoring: Scoring) -> list[tuple[dict[str, object], dict[str, object]]]:
    """Consecutive bands with room between them (85 and 86): totals there need a rule."""
    grades = sorted(scoring.grades, key=lambda g: float(g["min"]))  # type: ignore[arg-type]
    return [(low, high) for low, high in zip(grades, grades[1:])
            if float(high["min"]) > float(low["max"])]  # type: ignore[arg-type]


def grade_rule_text(scoring: Scoring) -> str:
    """The banding rule in Chinese, with what happens between bands, e.g. "85.5 分定为 合格"."""
    bands = "，".join(f"{number(float(g['min']))}–{number(float(g['max']))} 分{g['name']}"  # type: ignore[arg-type]
                      for g in scoring.grades)
    text = f"按总分定等：{bands}"
    gaps = grade_gaps(scoring)
    if gaps:
        examples = "；".join(
            f"{number(float(low['max']))} 与 {number(float(high['min']))} 之间（如 "  # type: ignore[arg-type]
            f"{number((float(low['max']) + float(high['min'])) / 2)} 分）定为{low['name']}"  # type: ignore[arg-type]
            for low, high in gaps)
        text += f"。落在两段之间的总分归入较低一段，达到高一段的下限才升段：{examples}"
    return text
