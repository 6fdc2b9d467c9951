"""The assessment: school records + a standard (+ county inputs) → verdicts and shortfalls.

``assess`` is a plain function: no database, no Prefect, no I/O. The resource indicators
(1–7) are computed on columns (``SectionTable``: one NumPy array per field) by
``compute_resource``, which the benchmark times on its own; everything else (per-school checks,
county-level indicators, Hunan scoring) is small and per school.

The parts live beside it: ``results`` (what is returned), ``county_items`` (what the county
enters), ``shortfall_list`` (the shortfalls). The result types are importable from here too.

Verdicts are decided on unrounded values. Comparisons allow 1e-9 of float noise (see
``coefficient.TOLERANCE``), which is far below any rounding the official forms use.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import numpy as np

from tracker.assessment.checks import expired_allowances, expiry_note, rooms_checked_whole_school, run_checks
from tracker.clock import local_today
from tracker.assessment.county_items import check_inputs, county_items, scoring_result
from tracker.assessment.resource import ResourceArrays, SectionTable, compute_resource, resource_verdict
from tracker.assessment.results import (  # noqa: F401  (re-exported: callers import them from here)
    DEFAULT_ROUNDING,
    Assessment,
    AssessmentInputError,
    CountyItem,
    Figure,
    IndicatorResult,
    ScoredItem,
    ScoringResult,
    SectionResult,
    StageResult,
    rounding_note,
)
from tracker.assessment.sections import excluded_schools, split_sections
from tracker.assessment.shortfall_list import check_shortfalls, county_shortfalls, resource_shortfalls
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import STAGE_NAMES, STAGES, Standard


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
    as_of = as_of or local_today()
    inputs = dict(county_inputs or {})
    problems: list[str] = []
    check_inputs(standard, inputs, problems)

    if kindergarten_weight is None:
        from tracker.settings import get_settings

        kindergarten_weight = get_settings().kindergarten_weight
    sections = split_sections(records, standard, kindergarten_weight)
    table = SectionTable.from_sections(sections)
    arrays = compute_resource(standard, table)
    stages = _stage_results(standard, table, arrays)

    checks, findings = run_checks(standard, records, as_of, inputs)
    county = county_items(standard, inputs, problems)
    scoring = scoring_result(standard, inputs, problems)
    if problems:
        raise AssessmentInputError(problems)

    shortfalls = resource_shortfalls(standard, table, arrays)
    shortfalls += check_shortfalls(standard, findings)
    shortfalls += county_shortfalls(standard, county, scoring)

    rounding = {**DEFAULT_ROUNDING, **standard.rounding}
    notes = [rounding_note(rounding)]
    for g, stage in enumerate(STAGES):
        if arrays.sections[g] == 0:
            notes.append(f"没有{STAGE_NAMES[stage]}学校（学段），该学段无法评估。")
        elif arrays.sections[g] == 1:
            notes.append(f"{STAGE_NAMES[stage]}只有 1 所学校（学段），差异系数无法计算。")
    if any(r.kindergarten_students > 0 for r in records):
        notes.append(f"附设幼儿班按每名幼儿折算 {kindergarten_weight:.4g} 名小学生分摊共用设施（指标 4–7）。")
    whole = rooms_checked_whole_school(standard, records)
    if whole:
        named = "、".join(whole[:5]) + (f" 等 {len(whole)} 所" if len(whole) > 5 else "")
        notes.append(f"{named}未按学段填报音乐、美术专用教室，按全校班级数合计 ÷ 12 核定；"
                     "按学段填报（小学/初中音乐、美术专用教室数及最小面积）后按各学段班级数 ÷ 12 分别核定。")
    gone = expired_allowances(standard, as_of)
    if len(gone) == 1:
        notes.append(expiry_note(gone[0], as_of) + "。")
    elif gone:
        for end in sorted({a.valid_until for a in gone}):  # type: ignore[type-var]
            named = [a for a in gone if a.valid_until == end]
            subjects = "、".join(f"「{a.title.split('，')[0]}」" for a in named)
            notes.append(f"{len(named)} 项放宽条款（{subjects}）适用至 {end.isoformat()}，"  # type: ignore[union-attr]
                         f"评估日期 {as_of.isoformat()} 已过，不再适用，按标准评估。")
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
        kindergarten_weight=kindergarten_weight,
    )
