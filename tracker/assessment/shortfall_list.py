"""The assessment's shortfall list: from the resource arrays, the per-school checks, the county
items and the scoring (the ``Shortfall`` record and the amounts are in ``shortfalls``)."""

from __future__ import annotations

import numpy as np

from tracker.assessment import coefficient
from tracker.assessment.checks import CheckFinding
from tracker.assessment.resource import ResourceArrays, SectionTable
from tracker.assessment.results import CountyItem, ScoringResult
from tracker.assessment.shortfalls import (
    Shortfall,
    distinct_digits,
    format_amount,
    missing_amount,
    round_up,
    shortfall_unit,
    value_text,
)
from tracker.standards.schema import STAGES, Indicator, Standard

TOL = coefficient.TOLERANCE

def resource_shortfalls(
    standard: Standard, table: SectionTable, arrays: ResourceArrays
) -> list[Shortfall]:
    out: list[Shortfall] = []
    indicators = standard.resource_indicators
    ks, ns = np.nonzero(~arrays.met)
    shares = table.share  # once: a table without the column makes it
    order = np.lexsort((ks, table.position[ns]))  # in the order the schools were given, then indicator
    for k, i in zip(ks[order].tolist(), ns[order].tolist(), strict=True):
        ind = indicators[k]
        stage = STAGES[table.stage[i]]
        students = float(table.students[i])
        required = float(arrays.thresholds[k, table.stage[i]])
        have = float(arrays.have[k][i])
        share = float(shares[i]) if ind.formula is not None and ind.formula.shared else 1.0
        text = ""
        if share < 1.0 - TOL and share > 0:
            # A mixed school's facilities are shared: whatever it adds is split again over its
            # stages, so the section gets only ``share`` of it. State the whole-school amount.
            section_gap = missing_amount(ind, required, students, have)
            missing = missing_amount(ind, required, students / share, have / share)
            unit = shortfall_unit(ind)
            text = (f"一贯制学校共用设施，须全校增加此数：按学段重新分摊后本学段得 {share:.1%}，"
                    f"即 {format_amount(round_up(missing * share, 0.1))} {unit}，补足本学段缺口 "
                    f"{format_amount(section_gap)} {unit}")
        else:
            missing = missing_amount(ind, required, students, have)
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
                text=value_text(ind, missing) + (f"（{text}）" if text else ""),
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
                out.append(cv_shortfall(ind, stage, g, table, arrays, k))
    return out


def cv_shortfall(
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
        text=f"差异系数 {distinct_digits(cv, limit)}，超过 {limit:g}；偏离均值最大的学校：{names}",
        title=ind.title,
        schools=named,
    )


def county_shortfalls(
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


def check_shortfalls(standard: Standard, findings: list[CheckFinding]) -> list[Shortfall]:
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
                blocking=not f.relaxed and not f.undecided,  # undecided: unknown, not failing
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
