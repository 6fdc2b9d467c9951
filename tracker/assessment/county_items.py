"""County-level items from what the county enters: figures, attested verdicts, vetoes, B scores.

Every input is read against the standard (an unknown code, a value that is not a number, a
verdict word that does not fit) and the problems are collected in Chinese, one per entry, so
``assess`` can refuse them all at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from tracker.assessment import coefficient
from tracker.assessment.inputs import Status, number, split_sub_item_code, sub_item_code, verdict_word, veto_answer
from tracker.assessment.results import OP_TEXT, CountyItem, Figure, ScoredItem, ScoringResult
from tracker.standards.describe import grade_for, grade_rule_text
from tracker.standards.schema import Indicator, Judged, Standard

TOL = coefficient.TOLERANCE

_OPS = {
    ">=": lambda a, b: a >= b - TOL * max(1.0, abs(b)),
    "<=": lambda a, b: a <= b + TOL * max(1.0, abs(b)),
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: abs(a - b) <= TOL * max(1.0, abs(b)),
}

def _combine(statuses: list[Status]) -> Status:
    if "fail" in statuses:
        return "fail"
    if "unknown" in statuses or not statuses:
        return "unknown"
    return "pass"


def _figures(ind: Indicator, raw: object, problems: list[str]) -> list[Figure] | None:
    """The indicator's figures from an input: a number (one figure) or {key: number}.
    None when ``raw`` is neither (the caller tries a verdict word)."""
    thresholds = ind.all_thresholds
    if isinstance(raw, Mapping):
        by_key = {(t.key or ind.code): t for t in thresholds}
        for key in raw:
            if key not in by_key:
                problems.append(f"指标 {ind.code}（{ind.title}）：没有名为「{key}」的数值（应为 {'、'.join(by_key)}）")
        entered = {key: raw.get(key) for key in by_key}
    elif len(thresholds) == 1 and number(raw) is not None:
        entered = {(thresholds[0].key or ind.code): raw}
    else:
        return None
    figures = []
    for t in thresholds:
        key = t.key or ind.code
        value = entered.get(key)
        figure = None if value is None else number(value)
        if value is not None and figure is None:
            problems.append(f"指标 {ind.code}（{ind.title}）：{t.label or key}「{value}」不是数字")
        status: Status = "unknown"
        if figure is not None:
            status = "pass" if _OPS[t.op](figure, t.value) else "fail"
        figures.append(Figure(key, t.label or ind.title, t.stage, figure, t.op, t.value, t.unit, status))
    return figures


def county_items(
    standard: Standard, inputs: Mapping[str, object], problems: list[str]
) -> list[CountyItem]:
    items: list[CountyItem] = []
    for ind in standard.indicators:
        if ind.judged not in (Judged.county_figure, Judged.attestation):
            continue
        raw = inputs.get(ind.code)
        required = "；".join(
            f"{t.label + ' ' if t.label and len(ind.all_thresholds) > 1 else ''}{OP_TEXT[t.op]} {t.value:g}{t.unit}"
            for t in ind.all_thresholds
        )
        status: Status = "unknown"
        detail = "尚未录入"
        figures: list[Figure] = []
        if raw is not None:
            word = verdict_word(raw)
            found = _figures(ind, raw, problems) if ind.judged is Judged.county_figure else None
            if word is not None:
                status, detail = word, "按认定结果"
            elif found is not None:
                figures = found
                status = _combine([f.status for f in figures])
                detail = "；".join(
                    f"{f.label} {'未录入' if f.value is None else f'{f.value:g}{f.unit}'}，要求 {f.requirement}"
                    for f in figures
                )
            elif ind.judged is Judged.county_figure:
                keys = "、".join(t.key or ind.code for t in ind.all_thresholds)
                problems.append(f"指标 {ind.code}（{ind.title}）：录入值「{raw}」应为数字"
                                f"（多个数值时按 {keys} 分别录入）或 通过/不通过")
            else:
                problems.append(f"指标 {ind.code}（{ind.title}）：认定结果「{raw}」应为 通过 或 不通过")
        items.append(CountyItem(ind.code, ind.title, ind.judged.value, status, raw, required, detail,
                                list(ind.departments), figures))
    for kind, conditions in (("condition", standard.application_conditions), ("veto", standard.vetoes)):
        for cond in conditions:
            raw = inputs.get(cond.code)
            status = "unknown"
            detail = "尚未录入"
            if raw is not None:
                if kind == "veto":
                    word, problem = veto_answer(cond.code, cond.title, raw)
                    if problem:
                        problems.append(problem)
                else:
                    word = verdict_word(raw)
                    if word is None:
                        problems.append(f"申报条件 {cond.code}（{cond.title}）：「{raw}」应为 通过 或 不通过")
                if word is not None:
                    status = word
                    if kind == "condition":
                        detail = "按认定结果"
                    else:
                        detail = "未发生" if word == "pass" else "发生，一票否决"
            items.append(CountyItem(cond.code, cond.title, kind, status, raw, "", detail, list(cond.departments)))
    return items


def _scored_points(ind: Indicator, inputs: Mapping[str, object], problems: list[str]
                   ) -> tuple[float | None, list[float | None], str]:
    """An indicator's points, from its own entry or from its sub-items' (8.1, 8.2 …), which add up
    to it; and the sub-items' points, and a detail in Chinese."""
    assert ind.points is not None
    raw = inputs.get(ind.code)
    points: float | None = None
    if raw is not None:
        points = number(raw)
        if points is None or points < 0 or points > ind.points + TOL:
            problems.append(f"指标 {ind.code}（{ind.title}）：得分「{raw}」应为 0 到 {ind.points:g} 之间的数")
            points = None
    subs: list[float | None] = []
    for k, item in enumerate(ind.sub_items, start=1):
        code = sub_item_code(ind.code, k)
        value = inputs.get(code)
        most = float(item["points"])  # type: ignore[arg-type]
        got = None if value is None else number(value)
        if value is not None and (got is None or got < 0 or got > most + TOL):
            problems.append(f"指标 {code}（{item['title']}）：得分「{value}」应为 0 到 {most:g} 之间的数")
            got = None
        subs.append(got)
    entered = [s for s in subs if s is not None]
    if not entered:
        return points, subs, ""
    if len(entered) == len(subs):
        total = sum(entered)
        detail = f"按 {len(subs)} 个分项得分合计 {total:g} 分"
        if points is not None and abs(points - total) > TOL:
            detail += f"（录入的总分 {points:g} 分未采用）"
        return total, subs, detail
    missing = "、".join(sub_item_code(ind.code, k) for k, v in enumerate(subs, start=1) if v is None)
    if points is not None:
        return points, subs, f"按录入的总分；分项尚未录全（缺 {missing}）"
    return None, subs, f"分项尚未录全（缺 {missing}）"


def scoring_result(standard: Standard, inputs: Mapping[str, object], problems: list[str]) -> ScoringResult | None:
    scored = [i for i in standard.indicators if i.judged is Judged.scored]
    if standard.scoring is None or not scored:
        return None
    rules = standard.scoring
    items: list[ScoredItem] = []
    for ind in scored:
        assert ind.points is not None
        minimum = rules.per_indicator_min_ratio * ind.points
        points, subs, detail = _scored_points(ind, inputs, problems)
        ok = None if points is None else points >= minimum - TOL
        items.append(ScoredItem(ind.code, ind.title, ind.points, minimum, points, ok, subs, detail))
    known = [it for it in items if it.points is not None]
    total = sum(it.points for it in known) if len(known) == len(items) else None  # type: ignore[misc]
    if any(it.ok is False for it in known):
        ok: bool | None = False
    elif total is None:
        ok = None
    else:
        ok = total >= rules.pass_total - TOL
    grade = None
    note = ""
    if ok and total is not None:
        band = grade_for(rules, total, TOL)
        if band is not None:
            grade = str(band["name"])
            if total > float(band["max"]) + TOL:  # type: ignore[arg-type]
                note = (f"总分 {total:g} 分高于{grade}段上限 {float(band['max']):g} 分、"  # type: ignore[arg-type]
                        f"未达高一段下限，按较低一段定为{grade}")
    return ScoringResult(items, total, rules.pass_total, ok, grade, grade_rule_text(rules), note)


def _sub_item(standard: Standard, code: str) -> bool:
    """Whether ``code`` is a sub-item of a scored indicator (8.1 …)."""
    split = split_sub_item_code(code)
    if split is None:
        return False
    try:
        ind = standard.indicator(split[0])
    except KeyError:
        return False
    return ind.judged is Judged.scored and split[1] <= len(ind.sub_items)


def check_inputs(standard: Standard, inputs: Mapping[str, object], problems: list[str]) -> None:
    codes = {i.code: i for i in standard.indicators}
    known = set(codes) | {c.code for c in standard.application_conditions} | {c.code for c in standard.vetoes}
    for code in inputs:
        if code not in known and not _sub_item(standard, code):
            problems.append(f"未知的指标代码「{code}」（标准 {standard.id} 中没有）")
        elif code in codes and codes[code].judged is Judged.per_school_value:
            problems.append(f"指标 {code}（{codes[code].title}）由学校数据计算，不能直接录入")
