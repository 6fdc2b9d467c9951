"""The assessment: school records + a standard (+ county inputs) → verdicts and shortfalls.

``assess`` is a plain function: no database, no Prefect, no I/O. The resource indicators
(1–7) are computed on columns (``SectionTable``: one NumPy array per field) by
``compute_resource``, which the benchmark times on its own; everything else (per-school checks,
county-level indicators, Hunan scoring) is small and per school.

Verdicts are decided on unrounded values. Comparisons allow 1e-9 of float noise (see
``coefficient.TOLERANCE``), which is far below any rounding the official forms use.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tracker.assessment import coefficient
from tracker.assessment.checks import CheckFinding, CheckOutcome, run_checks
from tracker.assessment.inputs import Status, number, verdict_word
from tracker.assessment.resource import ResourceArrays, SectionTable, compute_resource, resource_verdict
from tracker.assessment.sections import ExcludedSchool, excluded_schools, split_sections
from tracker.assessment.shortfalls import Shortfall, missing_amount, shortfall_unit, value_text
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import STAGE_NAMES, STAGES, Indicator, Judged, Standard
from tracker.errors import ErrorDetail, JunhengError

TOL = coefficient.TOLERANCE
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
        return f"{_OP_TEXT[self.op]} {self.required:g}{self.unit}"


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


@dataclass(frozen=True, slots=True)
class ScoringResult:
    """Hunan B indicators: each ≥ 80 % of its points and the total ≥ pass_total; then a grade."""

    items: list[ScoredItem]
    total: float | None  # None until every item is scored
    pass_total: float
    ok: bool | None
    grade: str | None


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


# ---------------------------------------------------------------------------------------------
# County inputs

_OPS = {
    ">=": lambda a, b: a >= b - TOL * max(1.0, abs(b)),
    "<=": lambda a, b: a <= b + TOL * max(1.0, abs(b)),
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: abs(a - b) <= TOL * max(1.0, abs(b)),
}
_OP_TEXT = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


_VETO_WORDS = {"未发生": "pass", "不存在": "pass", "无": "pass", "发生": "fail", "存在": "fail", "有": "fail"}


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


def _county_items(
    standard: Standard, inputs: Mapping[str, object], problems: list[str]
) -> list[CountyItem]:
    items: list[CountyItem] = []
    for ind in standard.indicators:
        if ind.judged not in (Judged.county_figure, Judged.attestation):
            continue
        raw = inputs.get(ind.code)
        required = "；".join(
            f"{t.label + ' ' if t.label and len(ind.all_thresholds) > 1 else ''}{_OP_TEXT[t.op]} {t.value:g}{t.unit}"
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
                word = verdict_word(raw)
                if word is None and kind == "veto" and isinstance(raw, str):
                    word = _VETO_WORDS.get(raw.strip())  # type: ignore[assignment]
                if word is None:
                    what = "申报条件" if kind == "condition" else "否决事项"
                    hint = "通过 或 不通过" if kind == "condition" else "通过（未发生）或 不通过（发生）"
                    problems.append(f"{what} {cond.code}（{cond.title}）：「{raw}」应为 {hint}")
                else:
                    status = word
                    if kind == "condition":
                        detail = "按认定结果"
                    else:
                        detail = "未发生" if word == "pass" else "发生，一票否决"
            items.append(CountyItem(cond.code, cond.title, kind, status, raw, "", detail, list(cond.departments)))
    return items


def _scoring(standard: Standard, inputs: Mapping[str, object], problems: list[str]) -> ScoringResult | None:
    scored = [i for i in standard.indicators if i.judged is Judged.scored]
    if standard.scoring is None or not scored:
        return None
    rules = standard.scoring
    items: list[ScoredItem] = []
    for ind in scored:
        assert ind.points is not None
        minimum = rules.per_indicator_min_ratio * ind.points
        raw = inputs.get(ind.code)
        points: float | None = None
        if raw is not None:
            points = number(raw)
            if points is None or points < 0 or points > ind.points + TOL:
                problems.append(f"指标 {ind.code}（{ind.title}）：得分「{raw}」应为 0 到 {ind.points:g} 之间的数")
                points = None
        ok = None if points is None else points >= minimum - TOL
        items.append(ScoredItem(ind.code, ind.title, ind.points, minimum, points, ok))
    known = [it for it in items if it.points is not None]
    total = sum(it.points for it in known) if len(known) == len(items) else None  # type: ignore[misc]
    if any(it.ok is False for it in known):
        ok: bool | None = False
    elif total is None:
        ok = None
    else:
        ok = total >= rules.pass_total - TOL
    grade = None
    if ok and total is not None:
        fitting = [gr for gr in rules.grades if float(gr["min"]) <= total + TOL]  # type: ignore[arg-type]
        if fitting:
            grade = str(max(fitting, key=lambda gr: float(gr["min"]))["name"])  # type: ignore[arg-type]
    return ScoringResult(items, total, rules.pass_total, ok, grade)


def _check_inputs(standard: Standard, inputs: Mapping[str, object], problems: list[str]) -> None:
    codes = {i.code: i for i in standard.indicators}
    known = set(codes) | {c.code for c in standard.application_conditions} | {c.code for c in standard.vetoes}
    for code in inputs:
        if code not in known:
            problems.append(f"未知的指标代码「{code}」（标准 {standard.id} 中没有）")
        elif code in codes and codes[code].judged is Judged.per_school_value:
            problems.append(f"指标 {code}（{codes[code].title}）由学校数据计算，不能直接录入")


# ---------------------------------------------------------------------------------------------
# Shortfalls


def _resource_shortfalls(
    standard: Standard, table: SectionTable, arrays: ResourceArrays
) -> list[Shortfall]:
    out: list[Shortfall] = []
    indicators = standard.resource_indicators
    ks, ns = np.nonzero(~arrays.met)
    order = np.lexsort((ks, table.position[ns]))  # in the order the schools were given, then indicator
    for k, i in zip(ks[order].tolist(), ns[order].tolist(), strict=True):
        ind = indicators[k]
        stage = STAGES[table.stage[i]]
        students = float(table.students[i])
        required = float(arrays.thresholds[k, table.stage[i]])
        missing = missing_amount(ind, required, students, float(arrays.have[k][i]))
        out.append(
            Shortfall(
                indicator=ind.code,
                stage=stage,
                school=table.school[i],
                actual=float(arrays.values[k, i]),
                required=required,
                missing=missing,
                unit=shortfall_unit(ind),
                departments=list(ind.departments),
                blocking=bool(arrays.blocking[k, i]),
                kind="school_value",
                text=value_text(ind, missing),
                title=ind.title,
                school_key=table.school_key[i],
                school_can_fix=ind.school_can_fix,
            )
        )
    for k, ind in enumerate(indicators):
        for g, stage in enumerate(STAGES):
            if standard.per_school_rule.county_must_meet and arrays.sections[g] > 0 and not arrays.county_met[k, g]:
                required = float(ind.thresholds[stage])
                total_have = float(arrays.county_value[k, g] * arrays.students[g] / arrays.scale[k])
                missing = missing_amount(ind, required, float(arrays.students[g]), total_have)
                out.append(
                    Shortfall(
                        indicator=ind.code,
                        stage=stage,
                        school=None,
                        actual=float(arrays.county_value[k, g]),
                        required=required,
                        missing=missing,
                        unit=shortfall_unit(ind),
                        departments=list(ind.departments),
                        blocking=True,
                        kind="county",
                        text="全县" + value_text(ind, missing),
                        title=ind.title,
                    )
                )
            if arrays.cv_ok[k, g] == 0.0:
                out.append(_cv_shortfall(ind, stage, g, table, arrays, k))
    return out


def _cv_shortfall(
    ind: Indicator, stage: str, g: int, table: SectionTable, arrays: ResourceArrays, k: int
) -> Shortfall:
    """A CV over its limit, naming the sections pulling it furthest from the mean."""
    start, end = table.bounds[g]
    idx = np.arange(start, end)
    mean = float(arrays.county_value[k, g])
    values = arrays.values[k, idx]
    contrib = coefficient.contributions(values, table.students[idx], mean)
    total = float(contrib.sum())
    order = np.argsort(-contrib, kind="stable")
    named: list[dict[str, object]] = []
    cumulative = 0.0
    # At least three, at most five; stop after three once 80 % of the spread is explained.
    for j in order[:5]:
        if len(named) >= 3 and cumulative >= 0.8 * total:
            break
        i = int(idx[j])
        share = float(contrib[j] / total) if total > 0 else 0.0
        cumulative += float(contrib[j])
        named.append(
            {
                "name": table.school[i],
                "school_key": table.school_key[i],
                "value": float(arrays.values[k, i]),
                "students": float(table.students[i]),
                "share": share,
                "direction": "偏高" if arrays.values[k, i] > mean else "偏低",
            }
        )
    cv = float(arrays.cv[k, g])
    limit = float(arrays.cv_limit[g])
    names = "、".join(f"{s['name']}（{s['direction']}）" for s in named)
    return Shortfall(
        indicator=ind.code,
        stage=stage,
        school=None,
        actual=cv,
        required=limit,
        missing=round(cv - limit, 4),
        unit="",
        departments=list(ind.departments),
        blocking=True,
        kind="cv",
        text=f"差异系数 {cv:.3f}，超过 {limit:g}；偏离均值最大的学校：{names}",
        title=ind.title,
        schools=named,
    )


def _county_shortfalls(
    standard: Standard, county: list[CountyItem], scoring: ScoringResult | None
) -> list[Shortfall]:
    out: list[Shortfall] = []
    for item in county:
        if item.status != "fail":
            continue
        failing = [f for f in item.figures if f.status == "fail"]
        for f in failing:
            assert f.value is not None
            missing = round(abs(f.required - f.value), 4)
            label = f"{f.label} " if len(item.figures) > 1 else ""
            out.append(Shortfall(item.code, f.stage, None, f.value, f.required, missing, f.unit,
                                 list(item.departments), True, "county",
                                 f"{label}实际 {f.value:g}{f.unit}，要求 {f.requirement}，差 {missing:g}{f.unit}",
                                 item.title))
        if not failing:
            text = "发生否决事项，一票否决" if item.kind == "veto" else "未通过认定"
            out.append(Shortfall(item.code, None, None, None, None, None, "", list(item.departments), True,
                                 "county", text, item.title))
    if scoring is not None:
        for it in scoring.items:
            if it.ok is False:
                assert it.points is not None
                missing = round(it.min_points - it.points, 4)
                out.append(
                    Shortfall(it.code, None, None, it.points, it.min_points, missing, "分",
                              list(standard.indicator(it.code).departments), True, "county",
                              f"得分 {it.points:g} 分，低于 {it.min_points:g} 分（满分 {it.max_points:g} 分的 "
                              f"{standard.scoring.per_indicator_min_ratio:.0%}）", it.title)  # type: ignore[union-attr]
                )
        if scoring.total is not None and scoring.total < scoring.pass_total - TOL:
            out.append(
                Shortfall("B", None, None, scoring.total, scoring.pass_total,
                          round(scoring.pass_total - scoring.total, 4), "分", [], True, "county",
                          f"B类指标总分 {scoring.total:g} 分，低于 {scoring.pass_total:g} 分", "B类指标总分")
            )
    return out


def _check_shortfalls(standard: Standard, findings: list[CheckFinding]) -> list[Shortfall]:
    out = []
    for f in findings:
        ind = standard.indicator(f.indicator)
        out.append(
            Shortfall(
                indicator=f.indicator,
                stage=f.stage,
                school=f.school,
                actual=f.actual,
                required=f.required,
                missing=f.missing,
                unit=f.unit,
                departments=list(ind.departments),
                blocking=not f.relaxed,
                kind="school_check",
                text=f.text,
                title=ind.title,
                school_key=f.school_key,
                school_can_fix=ind.school_can_fix,
                allowance=f.allowance,
                plan_required=f.plan_required,
                years_to_full_standard=f.years_to_full_standard,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# The assessment


def _stage_results(standard: Standard, table: SectionTable, arrays: ResourceArrays) -> dict[str, StageResult]:
    indicators = standard.resource_indicators
    codes = arrays.codes
    values = arrays.values.T.tolist()
    met = arrays.met.T.tolist()
    blocking = arrays.blocking.T.tolist()
    school_ok = arrays.school_ok.tolist()
    students = table.students.tolist()
    per_stage: dict[str, list[SectionResult]] = {s: [] for s in STAGES}
    for i in range(len(table)):
        stage = STAGES[table.stage[i]]
        per_stage[stage].append(
            SectionResult(
                school=table.school[i],
                school_key=table.school_key[i],
                stage=stage,
                students=students[i],
                values=dict(zip(codes, values[i], strict=True)),
                met=[c for c, m in zip(codes, met[i], strict=True) if m],
                ok=bool(school_ok[i]),
                blocking=[c for c, b in zip(codes, blocking[i], strict=True) if b],
            )
        )
    below = np.stack([(~arrays.met[:, a:b]).sum(axis=1) for a, b in table.bounds], axis=1)
    result = {}
    for g, stage in enumerate(STAGES):
        inds = {}
        for k, ind in enumerate(indicators):
            cv = arrays.cv[k, g]
            cv_ok = arrays.cv_ok[k, g]
            cval = arrays.county_value[k, g]
            inds[ind.code] = IndicatorResult(
                code=ind.code,
                title=ind.title,
                stage=stage,
                threshold=float(ind.thresholds.get(stage, math.nan)),  # type: ignore[call-overload]
                county_value=None if math.isnan(cval) else float(cval),
                county_met=None if math.isnan(cval) else bool(arrays.county_met[k, g]),
                cv=None if math.isnan(cv) else float(cv),
                cv_limit=float(arrays.cv_limit[g]),
                cv_ok=None if math.isnan(cv_ok) else bool(cv_ok),
                sections=int(arrays.sections[g]),
                schools_below=int(below[k, g]),
            )
        result[stage] = StageResult(stage, per_stage[stage], inds)
    return result


def assess(
    standard: Standard | str,
    records: list[SchoolRecord],
    county_inputs: Mapping[str, object] | None = None,
    as_of: dt.date | None = None,
    kindergarten_weight: float | None = None,
) -> Assessment:
    """Assess a county's schools against a standard.

    ``county_inputs`` maps indicator (or condition/veto) codes to a figure, "pass"/"fail"
    (通过/不通过), or, for scored indicators, points. What is not given stays unknown.
    ``as_of`` (default today) decides which dated allowances are in force.
    Raises AssessmentInputError (Chinese problems) on inputs it cannot use.
    """
    if isinstance(standard, str):
        from tracker.standards import load_standard

        standard = load_standard(standard)
    as_of = as_of or dt.date.today()
    inputs = dict(county_inputs or {})
    problems: list[str] = []
    _check_inputs(standard, inputs, problems)

    sections = split_sections(records, standard, kindergarten_weight)
    table = SectionTable.from_sections(sections)
    arrays = compute_resource(standard, table)
    stages = _stage_results(standard, table, arrays)

    checks, findings = run_checks(standard, records, as_of, inputs)
    county = _county_items(standard, inputs, problems)
    scoring = _scoring(standard, inputs, problems)
    if problems:
        raise AssessmentInputError(problems)

    shortfalls = _resource_shortfalls(standard, table, arrays)
    shortfalls += _check_shortfalls(standard, findings)
    shortfalls += _county_shortfalls(standard, county, scoring)

    rounding = {**DEFAULT_ROUNDING, **standard.rounding}
    notes = [rounding_note(rounding)]
    for g, stage in enumerate(STAGES):
        if arrays.sections[g] == 0:
            notes.append(f"没有{STAGE_NAMES[stage]}学校（学段），该学段无法评估。")
        elif arrays.sections[g] == 1:
            notes.append(f"{STAGE_NAMES[stage]}只有 1 所学校（学段），差异系数无法计算。")
    plans = [f for f in findings if f.plan_required]
    if plans:
        notes.append(f"{len(plans)} 项按 2019 年放宽标准达标，需制定建设规划并持续跟踪，限期达到标准。")

    return Assessment(
        standard=standard.id,
        standard_title=standard.title,
        as_of=as_of,
        ok=resource_verdict(standard, arrays),
        stages=stages,
        excluded=excluded_schools(records, standard),
        checks=checks,
        check_findings=findings,
        county=county,
        scoring=scoring,
        shortfalls=shortfalls,
        resource=arrays,
        notes=notes,
        county_must_meet=standard.per_school_rule.county_must_meet,
        rounding=rounding,
    )
