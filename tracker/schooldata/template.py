"""The school data template a county office sends to its schools (``junheng template``).

Sheet 学校: the contract headers (required ones in orange, optional ones in grey with a
「选填」 note), a frozen header row, dropdowns for the choice columns and number validation
on the numeric ones. Sheet 填报说明: one row per column plus the general rules. The reader
(tracker.schooldata.sheet) picks the 学校 sheet, so the instructions never count as data.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tracker.schooldata.columns import COLUMNS, Column
from tracker.schooldata.sheet import MAX_ROWS, SHEET_NAME
from tracker.spreadsheets import new_workbook, save_workbook

INSTRUCTIONS_SHEET = "填报说明"
_LAST_ROW = MAX_ROWS + 1  # validations cover every row the reader accepts

_REQUIRED_FILL = PatternFill("solid", fgColor="F8CBAD")
_OPTIONAL_FILL = PatternFill("solid", fgColor="E7E6E6")
_TITLE_FONT = Font(bold=True, size=12)
_BOLD = Font(bold=True)
_OPTIONAL_FONT = Font(color="595959")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")

GENERAL_NOTES: tuple[str, ...] = (
    "每所学校填一行，表头（第 1 行）不要修改、不要插入标题行；可以在右侧增加其他列，导入时原样保留。",
    "橙色列为必填列，灰色列为选填列；选填列填写后才会进行班额、校额、音乐美术专用教室等逐校核查。",
    "学校没有的学段，该学段各列留空或填 0（例如小学的「初中在校生数」留空即为 0）；"
    "学校有的学段，各列必须填写，没有请填 0，不能留空。",
    "九年一贯制、十二年一贯制学校和完全中学只填一行：各学段的在校生数和教师数分别填在对应学段的列里，"
    "教学用房、运动场馆、仪器设备、多媒体教室等共用设施填全校合计，系统按规定比例"
    "（九年一贯制 小学:初中 = 1:1.1；十二年一贯制 1:1.1:1.32；完全中学 初中:高中 = 1:1.2）分摊到各学段。",
    "附设幼儿班的学校请填写「附设幼儿班人数」，共用设施分摊时一并折算。",
    "不足 50 人的教学点、特殊教育学校照常填报，但不参加资源配置指标和差异系数计算。",
    "人数、班级数、教室间数填整数；面积填平方米（m²），可带小数；教学仪器设备值单位为万元。",
    "请直接填写数值，不要使用公式、合并单元格或“约”“左右”等文字；从其他表格复制时请「选择性粘贴 → 数值」。",
    "学校名称在全县不得重复；填写学校标识码的，标识码也不得重复，并作为历次填报中识别同一所学校的依据。",
    "随迁子女占比填 0.35、35% 或 35 均表示 35%；是否农村小规模学校填 是 或 否。",
    "导入前系统会检查全部数据，任何一处有误整份文件都不会导入，并逐条列出问题所在的行和列。",
)


def write_template(path: str | Path) -> Path:
    """Write the fill-in template to ``path`` (.xlsx) and return the path."""
    path = Path(path)
    wb = new_workbook()
    schools = wb.active
    schools.title = SHEET_NAME
    _write_school_sheet(schools)
    _write_instructions(wb.create_sheet(INSTRUCTIONS_SHEET))
    wb.active = 0
    save_workbook(wb, path)
    return path


def _write_school_sheet(ws: Worksheet) -> None:
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index, value=column.header)
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        cell.font = _BOLD if column.required else _OPTIONAL_FONT
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        note = ("必填" if column.required else "选填") + (f"（{column.unit}）" if column.unit else "")
        cell.comment = Comment(f"{note}：{column.help}", "均衡督办", width=260, height=110)
        ws.column_dimensions[get_column_letter(index)].width = _width(column)
    ws.row_dimensions[1].height = 36
    ws.freeze_panes = "C2"  # header row and the name + type columns stay visible
    for column_index, column in enumerate(COLUMNS, start=1):
        validation = _validation(column)
        if validation is not None:
            letter = get_column_letter(column_index)
            validation.add(f"{letter}2:{letter}{_LAST_ROW}")
            ws.add_data_validation(validation)


def _width(column: Column) -> float:
    # A CJK character is about two widths; long headers wrap onto the header row's second line.
    if column.header == "学校名称":
        return 28
    if column.kind == "email":
        return 26
    return min(max(1.1 * len(column.header) + 3, 10), 16)


def _validation(column: Column) -> DataValidation | None:
    if column.kind in ("choice", "bool"):
        choices = ",".join(column.choices)
        validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
        validation.error = f"请从下拉列表中选择：{'、'.join(column.choices)}。"
    elif column.numeric:
        whole = column.kind == "int"
        low = f"{column.minimum:g}"
        # a share may be typed 0.35 or 35 (→ 35%); Excel stores a typed 35% as 0.35
        high = "100" if column.kind == "share" else None if column.maximum is None else f"{column.maximum:.0f}"
        what = "整数" if whole else "数值"
        if high is None:
            validation = DataValidation(type="whole" if whole else "decimal", operator="greaterThanOrEqual",
                                        formula1=low, allow_blank=True)
            validation.error = f"「{column.header}」应为不小于 {low} 的{what}。"
        else:
            validation = DataValidation(type="whole" if whole else "decimal", operator="between",
                                        formula1=low, formula2=high, allow_blank=True)
            validation.error = f"「{column.header}」应为 {low} 到 {high} 之间的{what}。"
    else:
        return None
    validation.errorTitle = "填写有误"
    validation.showErrorMessage = True
    validation.promptTitle = column.header
    validation.prompt = column.help[:250]  # Excel limits an input message to 255 characters
    validation.showInputMessage = True
    return validation


def _write_instructions(ws: Worksheet) -> None:
    ws.append(["学校基本情况填报说明"])
    ws["A1"].font = _TITLE_FONT
    ws.append([])
    ws.append(["列名", "是否必填", "单位", "适用学校类型", "填写说明"])
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = _BOLD
        cell.fill = _OPTIONAL_FILL
        cell.border = _BORDER
    for column in COLUMNS:
        applies = "全部" if len(column.school_types) == len(COLUMNS[0].school_types) else "、".join(column.school_types)
        ws.append([column.header, "必填" if column.required else "选填", column.unit, applies, column.help])
        for cell in ws[ws.max_row]:
            cell.alignment = _WRAP
            cell.border = _BORDER
        ws.cell(row=ws.max_row, column=1).fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
    ws.append([])
    ws.append(["填报要求"])
    ws.cell(row=ws.max_row, column=1).font = _TITLE_FONT
    for number, note in enumerate(GENERAL_NOTES, start=1):
        ws.append([f"{number}.", note])
        ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=5)
        ws.cell(row=ws.max_row, column=2).alignment = _WRAP
        ws.row_dimensions[ws.max_row].height = 15 * (1 + len(note) // 60)
    for letter, width in zip("ABCDE", (26, 10, 8, 30, 70)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = f"A{header_row + 1}"
