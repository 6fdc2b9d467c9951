"""An assessment as the JSON contract (issue 2) and as the official xlsx tables.

JSON values are unrounded (verdicts are decided on them); the xlsx tables round as the official
forms do (the standard's ``rounding``: school values and county means 2 decimals, CVs 3), half
up (四舍五入), and say that verdicts use unrounded values. So a school at 4.1996 shows 4.20 on
表Ⅱ-2 and is still marked 不达标; a CV of 0.4504 shows 0.450 and is still over 0.45.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from tracker.assessment.engine import Assessment
from tracker.assessment.shortfalls import Shortfall
from tracker.spreadsheets import new_workbook, save_workbook
from tracker.standards.schema import STAGE_NAMES


def official_round(value: float, digits: int) -> float:
    """四舍五入 as the forms do: half away from zero on the decimal the value prints as.

    Python's ``round`` rounds half to even on the binary float (round(0.125, 2) == 0.12,
    round(2.675, 2) == 2.67); a person filling in the form writes 0.13 and 2.68.
    Any float goes: a huge one (1e308, 10^30) is quantized with as many significant digits as it
    needs (the default context's 28 raised InvalidOperation, issue 11); inf and nan come back as is.
    """
    value = float(value)
    if not math.isfinite(value):
        return value
    exact = Decimal(repr(value))
    # digits before the point, plus the kept decimals, plus a spare for the carry of 9.995 → 10.00
    context = Context(prec=max(28, exact.adjusted() + digits + 2))
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=context))


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return official_round(value, digits)


def _number_format(digits: int) -> str:
    return "0" if digits <= 0 else "0." + "0" * digits


def table_note(rounding: dict[str, int]) -> str:
    return (f"注：达标判定按未四舍五入的数值计算；表中校值保留 {rounding['school_value']} 位小数、县域均值保留 "
            f"{rounding['county_value']} 位小数、差异系数保留 {rounding['cv']} 位小数（四舍五入）。")


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)


def shortfall_json(s: Shortfall) -> dict[str, object]:
    return {
        "indicator": s.indicator,
        "stage": s.stage,
        "school": s.school,
        "actual": _num(s.actual),
        "required": _num(s.required),
        "missing": _num(s.missing),
        "unit": s.unit,
        "departments": list(s.departments),
        "kind": s.kind,
        "blocking": s.blocking,
        "text": s.text,
        "title": s.title,
        "school_key": s.school_key,
        "school_can_fix": s.school_can_fix,
        "allowance": s.allowance,
        "plan_required": s.plan_required,
        "years_to_full_standard": s.years_to_full_standard,
        # a share is nan when absurd figures overflow the county total: null, like every non-finite value
        "schools": [{k: _num(v) if isinstance(v, float) else v for k, v in x.items()} for x in s.schools],
    }


def to_json(assessment: Assessment) -> dict[str, object]:
    """The contract: standard, ok, stages (schools, indicators), shortfalls; plus more fields."""
    stages: dict[str, object] = {}
    for stage, result in assessment.stages.items():
        stages[stage] = {
            "schools": [
                {
                    "name": s.school,
                    "school_key": s.school_key,
                    "students": s.students,
                    "values": {code: _num(v) for code, v in s.values.items()},
                    "met": list(s.met),
                    "ok": s.ok,
                    "blocking": list(s.blocking),
                }
                for s in result.schools
            ],
            "indicators": {
                code: {
                    "county_value": _num(ind.county_value),
                    "cv": _num(ind.cv),
                    "cv_limit": ind.cv_limit,
                    "cv_ok": ind.cv_ok,
                    "threshold": ind.threshold,
                    "county_met": ind.county_met,
                    "sections": ind.sections,
                    "schools_below": ind.schools_below,
                }
                for code, ind in result.indicators.items()
            },
        }
    scoring = None
    if assessment.scoring is not None:
        sc = assessment.scoring
        scoring = {
            "items": [
                {"code": i.code, "title": i.title, "max_points": i.max_points, "min_points": i.min_points,
                 "points": i.points, "ok": i.ok, "sub_points": list(i.sub_points), "detail": i.detail}
                for i in sc.items
            ],
            "total": sc.total,
            "pass_total": sc.pass_total,
            "ok": sc.ok,
            "grade": sc.grade,
            "grade_rule": sc.grade_rule,
            "grade_note": sc.grade_note,
        }
    return {
        "standard": assessment.standard,
        "standard_title": assessment.standard_title,
        "as_of": assessment.as_of.isoformat(),
        "ok": assessment.ok,
        "county_ok": assessment.county_ok,
        "stages": stages,
        "shortfalls": [shortfall_json(s) for s in assessment.shortfalls],
        "checks": [
            {"indicator": c.indicator, "title": c.title, "kind": c.kind, "status": c.status,
             "schools_checked": c.schools_checked, "schools_failed": c.schools_failed,
             "schools_unknown": list(c.schools_unknown), "detail": c.detail}
            for c in assessment.checks
        ],
        "county": [
            {"code": c.code, "title": c.title, "kind": c.kind, "status": c.status, "value": c.value,
             "required": c.required, "detail": c.detail}
            for c in assessment.county
        ],
        "scoring": scoring,
        "excluded": [
            {"name": e.name, "school_key": e.school_key, "school_type": e.school_type, "reason": e.reason}
            for e in assessment.excluded
        ],
        "kindergarten_weight": assessment.kindergarten_weight,
        "rounding": dict(assessment.rounding),  # decimals of the official tables; values here are unrounded
        "notes": list(assessment.notes),
    }


# 问题清单 shows a school's value as 表Ⅱ-2 does and a CV as 表Ⅲ does; other figures to 3 decimals
_ACTUAL_ROUNDING = {"school_value": "school_value", "cv": "cv"}
_BOLD = Font(bold=True)
_RED = PatternFill("solid", fgColor="FFF2CC")


def _header(ws, row: int, titles: list[str]) -> None:
    for col, title in enumerate(titles, start=1):
        cell = ws.cell(row=row, column=col, value=title)
        cell.font = _BOLD
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _title(ws, text: str, width: int) -> None:
    ws.cell(row=1, column=1, value=text).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)


def write_official_xlsx(assessment: Assessment, path: str | Path) -> Path:
    """表Ⅱ-2 资源配置基本情况（分学校）, 表Ⅲ 县域义务教育校际均衡情况, and the 问题清单."""
    path = Path(path)
    rounding = assessment.rounding
    note = table_note(rounding)
    wb = new_workbook()

    # 表Ⅱ-2: one row per school section
    ws = wb.active
    ws.title = "表Ⅱ-2"
    first = next(iter(assessment.stages.values()), None)
    codes = list(first.indicators) if first else []
    titles = [first.indicators[c].title for c in codes] if first else []
    indicator_columns = [f"{c}. {t}" for c, t in zip(codes, titles, strict=True)]
    columns = ["学校名称", "学段", "在校生数", *indicator_columns, "达标项数", "结论"]
    _title(ws, "表Ⅱ-2 资源配置基本情况（分学校）", len(columns))
    _header(ws, 2, columns)
    row = 3
    for stage, result in assessment.stages.items():
        for s in result.schools:
            ws.cell(row=row, column=1, value=s.school)
            ws.cell(row=row, column=2, value=STAGE_NAMES[stage])
            ws.cell(row=row, column=3, value=s.students)
            for j, code in enumerate(codes):
                cell = ws.cell(row=row, column=4 + j, value=_rounded(s.values[code], rounding["school_value"]))
                cell.number_format = _number_format(rounding["school_value"])
                if code not in s.met:
                    cell.fill = _RED
            ws.cell(row=row, column=4 + len(codes), value=len(s.met))
            ws.cell(row=row, column=5 + len(codes), value="达标" if s.ok else "不达标")
            row += 1
    ws.cell(row=row + 1, column=1, value=note)
    if assessment.excluded:
        ws.cell(row=row + 2, column=1, value="未参与计算的学校：" + "；".join(
            f"{e.name}（{e.reason}）" for e in assessment.excluded))
    ws.column_dimensions["A"].width = 24
    for j in range(len(columns) - 1):
        ws.column_dimensions[get_column_letter(j + 2)].width = 14

    # 表Ⅲ: county mean and CV per indicator and stage
    ws = wb.create_sheet("表Ⅲ")
    columns = ["指标", "学段", "标准值", "县域均值", "差异系数", "差异系数标准", "达标学校数/学校数", "结论"]
    _title(ws, "表Ⅲ 县域义务教育校际均衡情况", len(columns))
    _header(ws, 2, columns)
    row = 3
    for code in codes:
        for stage, result in assessment.stages.items():
            ind = result.indicators[code]
            ws.cell(row=row, column=1, value=f"{code}. {ind.title}")
            ws.cell(row=row, column=2, value=STAGE_NAMES[stage])
            ws.cell(row=row, column=3, value=ind.threshold)
            cell = ws.cell(row=row, column=4, value=_rounded(ind.county_value, rounding["county_value"]))
            cell.number_format = _number_format(rounding["county_value"])
            cell = ws.cell(row=row, column=5, value="无法计算" if ind.cv is None else _rounded(ind.cv, rounding["cv"]))
            cell.number_format = _number_format(rounding["cv"])
            ws.cell(row=row, column=6, value=f"≤ {ind.cv_limit:.2f}")
            ws.cell(row=row, column=7, value=f"{ind.sections - ind.schools_below}/{ind.sections}")
            verdict = {True: "达标", False: "不达标", None: "无法判定"}[ind.cv_ok]
            ws.cell(row=row, column=8, value=verdict)
            row += 1
    verdict = {True: "达标", False: "不达标", None: "无法判定"}[assessment.ok]
    ws.cell(row=row + 1, column=1, value=f"资源配置结论：{verdict}").font = _BOLD
    ws.cell(row=row + 2, column=1, value=note)
    ws.column_dimensions["A"].width = 44
    for letter in "BCDEFGH":
        ws.column_dimensions[letter].width = 14

    # 问题清单: every shortfall, for the task breakdown
    ws = wb.create_sheet("问题清单")
    columns = ["指标", "学段", "学校", "类别", "实际值", "标准值", "缺口", "单位", "问题及需求", "影响结论", "责任单位"]
    _title(ws, "问题清单", len(columns))
    _header(ws, 2, columns)
    kinds = {"school_value": "学校指标", "school_check": "学校检查", "county": "县域指标", "cv": "差异系数"}
    for row, s in enumerate(assessment.shortfalls, start=3):
        ws.cell(row=row, column=1, value=f"{s.indicator}. {s.title}" if s.title else s.indicator)
        ws.cell(row=row, column=2, value=STAGE_NAMES.get(s.stage, "") if s.stage else "")
        ws.cell(row=row, column=3, value=s.school or "全县")
        ws.cell(row=row, column=4, value=kinds[s.kind])
        digits = rounding.get(_ACTUAL_ROUNDING.get(s.kind, ""), 3)
        ws.cell(row=row, column=5, value=_rounded(s.actual, digits))
        ws.cell(row=row, column=6, value=s.required)
        ws.cell(row=row, column=7, value=s.missing)
        ws.cell(row=row, column=8, value=s.unit)
        ws.cell(row=row, column=9, value=s.text)
        ws.cell(row=row, column=10, value="是" if s.blocking else "否")
        ws.cell(row=row, column=11, value="、".join(s.departments))
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["C"].width = 24
    ws.column_dimensions["I"].width = 60
    ws.column_dimensions["K"].width = 40

    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(wb, path)
    return path
