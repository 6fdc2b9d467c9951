"""The 申报表 and its 基本情况表 (issue 13 §2), as cells the .xlsx (here) and the .docx
(notifications.reports) both print.

Layout: the official form of the 优质均衡 application (教督〔2017〕6号 leaves it to the provinces)
could not be found in the reference material; the 基本情况表 follows the national 申报表 of the
basic-balance review (表Ⅰ「基本情况」, columns L1–L22: 自然情况, 经济情况, 学校数, 教学班数, 在校学生数,
教职工数), and the other tables follow the 2017 standard's four areas, the application conditions
and the vetoes. A cell the data cannot fill holds ``PLACEHOLDER`` for the office.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from tracker.reports.data import CV_WORDS, OVERALL_WORDS, ReportData, count, fmt
from tracker.reports.texts import PLACEHOLDER
from tracker.spreadsheets import new_workbook, save_workbook

FORM_TITLE = "全国义务教育优质均衡发展县（市、区）申报表"


@dataclass(frozen=True, slots=True)
class FormCell:
    code: str  # L1 … L22
    group: str  # the header over it (自然情况 …)
    header: str
    value: str  # as printed; PLACEHOLDER when the data cannot fill it
    source: str  # where it comes from, for the office


def _optional(value: float | None) -> str:
    return PLACEHOLDER if value is None else count(value)


def basic_table(data: ReportData) -> list[FormCell]:
    """表Ⅰ 基本情况: L1–L22 of the national form, filled from the assessed data's rows."""
    b = data.basics
    types = b.schools_by_type
    rows = "评估所用数据的学校行"
    ask = "统计部门公布数据，由办公室填写"
    cells = [
        FormCell("L1", "自然情况", "人口总数（万人）", PLACEHOLDER, ask),
        FormCell("L2", "自然情况", "农业人口数（万人）", PLACEHOLDER, ask),
        FormCell("L3", "自然情况", "乡镇数（个）", PLACEHOLDER, ask),
        FormCell("L4", "自然情况", "行政村数（个）", PLACEHOLDER, ask),
        FormCell("L5", "经济情况", "年人均国内生产总值（元）", PLACEHOLDER, ask),
        FormCell("L6", "经济情况", "年人均地方财政收入（元）", PLACEHOLDER, ask),
        FormCell("L7", "经济情况", "农民年人均纯收入（元）", PLACEHOLDER, ask),
        FormCell("L8", "经济情况", "城镇居民年人均可支配收入（元）", PLACEHOLDER, ask),
        FormCell("L9", "普通中小学校数（所）", "小学", str(types.get("小学", 0)), rows),
        FormCell("L10", "普通中小学校数（所）", "一贯制学校",
                 str(types.get("九年一贯制", 0) + types.get("十二年一贯制", 0)), rows),
        FormCell("L11", "普通中小学校数（所）", "初中", str(types.get("初中", 0)), rows),
        FormCell("L12", "普通中小学校数（所）", "完中", str(types.get("完全中学", 0)), rows),
        FormCell("L13", "特殊教育学校数（所）", "特殊教育学校数", str(types.get("特殊教育学校", 0)), rows),
        FormCell("L14", "小学教学点数（个）", "小学教学点数", str(types.get("教学点", 0)), rows),
        FormCell("L15", "教学班数（个）", "小学", _optional(b.classes["primary"]), rows + "（班级数）"),
        FormCell("L16", "教学班数（个）", "初中", _optional(b.classes["junior"]), rows + "（班级数）"),
        FormCell("L17", "在校学生数（人）", "小学", count(b.students["primary"]), rows),
        FormCell("L18", "在校学生数（人）", "初中", count(b.students["junior"]), rows),
        FormCell("L19", "小学教职工数（人）", "合计", PLACEHOLDER, "教育事业统计，由办公室填写"),
        FormCell("L20", "小学教职工数（人）", "其中专任教师数", PLACEHOLDER, "教育事业统计，由办公室填写"),
        FormCell("L21", "初中教职工数（人）", "合计", PLACEHOLDER, "教育事业统计，由办公室填写"),
        FormCell("L22", "初中教职工数（人）", "其中专任教师数", PLACEHOLDER, "教育事业统计，由办公室填写"),
    ]
    return cells


def resource_rows(data: ReportData) -> list[list[str]]:
    """表Ⅱ 资源配置: per indicator and stage, the county mean, the CV and the verdict."""
    r = data.rounding
    return [[f"{i.code}. {i.title}", i.stage_name, "—" if i.threshold is None else f"{i.threshold:g}",
             fmt(i.county_value, r["county_value"]), fmt(i.cv, r["cv"]),
             "—" if i.cv_limit is None else f"≤{i.cv_limit:.2f}", f"{i.sections - i.schools_below}/{i.sections}",
             CV_WORDS[i.cv_ok]] for i in data.indicators]


RESOURCE_HEADERS = ["指标", "学段", "标准值", "县域均值", "差异系数", "差异系数标准", "达标学校数/学校数", "结论"]
COUNTY_HEADERS = ["方面", "指标", "填报值", "标准", "结论", "佐证材料（份）"]
CONDITION_HEADERS = ["类别", "事项", "认定结果", "结论", "佐证材料（份）"]


def county_rows(data: ReportData) -> list[list[str]]:
    return [[c.area, f"{c.code}. {c.title}", c.value, c.required or "—", c.verdict, str(c.evidence)]
            for c in data.county if c.kind == "indicator"]


def condition_rows(data: ReportData) -> list[list[str]]:
    return [["申报条件" if c.kind == "condition" else "否决事项", f"{c.code}. {c.title}", c.value, c.verdict,
             str(c.evidence)] for c in data.county if c.kind != "indicator"]


def cover_lines(data: ReportData) -> list[tuple[str, str]]:
    return [("县（市、区）", data.campaign.county), ("报送单位（盖章）", PLACEHOLDER), ("报送时间", PLACEHOLDER),
            ("评估数据", f"{data.submission_label}（第 {data.snapshot_id} 次评估，"
                        f"{data.assessed_at:%Y-%m-%d %H:%M}）"),
            ("评估标准", data.standard_title + ("" if data.standard_document in data.standard_title
                                               else f"（{data.standard_document}）")),
            ("自评结论", f"{OVERALL_WORDS[data.ok]}优质均衡发展标准")]


_BOLD = Font(bold=True)
_MARK = PatternFill("solid", fgColor="FFF2CC")  # a cell for the office
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _put(ws, row: int, col: int, value: str, *, bold: bool = False):
    cell = ws.cell(row=row, column=col, value=value)
    cell.border = _BOX
    cell.alignment = _WRAP
    if bold:
        cell.font = _BOLD
    if value == PLACEHOLDER:
        cell.fill = _MARK
    return cell


def _titled(ws, title: str, width: int) -> None:
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)


def _list_sheet(wb, name: str, title: str, headers: list[str], rows: list[list[str]], widths: list[int]) -> None:
    ws = wb.create_sheet(name)
    _titled(ws, title, len(headers))
    for c, head in enumerate(headers, start=1):
        _put(ws, 2, c, head, bold=True)
    for r, values in enumerate(rows, start=3):
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width


def write_application_xlsx(data: ReportData, path: str | Path) -> Path:
    """封面, 表Ⅰ 基本情况 (L1–L22 in three header rows as the form has them), 表Ⅱ–Ⅳ and 表Ⅴ 工作措施和成效."""
    path = Path(path)
    wb = new_workbook()
    ws = wb.active
    ws.title = "封面"
    ws.cell(row=1, column=1, value=FORM_TITLE).font = Font(bold=True, size=16)
    for r, (label, value) in enumerate(cover_lines(data), start=3):
        _put(ws, r, 1, label, bold=True)
        _put(ws, r, 2, value)
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 70

    ws = wb.create_sheet("表Ⅰ基本情况")
    cells = basic_table(data)
    _titled(ws, f"表Ⅰ  {data.campaign.county}义务教育基本情况", len(cells) + 1)
    _put(ws, 2, 1, "项目", bold=True)
    _put(ws, 3, 1, "", bold=True)
    _put(ws, 4, 1, "栏号", bold=True)
    _put(ws, 5, 1, "全县总计", bold=True)
    col = 2
    while col - 2 < len(cells):
        group = cells[col - 2].group
        span = sum(1 for c in cells if c.group == group)
        _put(ws, 2, col, group, bold=True)
        if span > 1:
            ws.merge_cells(start_row=2, start_column=col, end_row=2, end_column=col + span - 1)
        for k in range(span):
            cell = cells[col - 2 + k]
            _put(ws, 3, col + k, cell.header, bold=True)
            _put(ws, 4, col + k, cell.code, bold=True)
            _put(ws, 5, col + k, cell.value)
            ws.column_dimensions[get_column_letter(col + k)].width = 12
        col += span
    ws.cell(row=7, column=1, value=f"注：学校数、教学班数、在校学生数取自第 {data.snapshot_id} 次评估所用数据"
                                   f"（{data.submission_label}）的全部学校行；标黄的【待填写】项由办公室按统计部门"
                                   "公布数据或教育事业统计填写。")
    ws.column_dimensions["A"].width = 12

    _list_sheet(wb, "表Ⅱ资源配置", "表Ⅱ  资源配置及校际均衡情况", RESOURCE_HEADERS, resource_rows(data),
                [44, 8, 10, 12, 12, 14, 18, 10])
    _list_sheet(wb, "表Ⅲ县级指标", "表Ⅲ  政府保障程度、教育质量、社会认可度", COUNTY_HEADERS, county_rows(data),
                [16, 50, 24, 16, 10, 14])
    _list_sheet(wb, "表Ⅳ申报条件和否决事项", "表Ⅳ  申报条件和否决事项", CONDITION_HEADERS, condition_rows(data),
                [12, 60, 20, 10, 14])
    ws = wb.create_sheet("表Ⅴ工作措施和成效")
    _titled(ws, "表Ⅴ  推进义务教育优质均衡发展工作措施和成效", 1)
    _put(ws, 2, 1, data.text("工作措施和成效")).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 300
    _put(ws, 3, 1, f"县（市、区）人民政府（盖章）  {PLACEHOLDER}    年  月  日")
    ws.column_dimensions["A"].width = 100

    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(wb, path)
    return path
