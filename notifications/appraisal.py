"""考核 as files: the table as an .xlsx (every text cell written as text, never a formula) and
the office's 通报表扬 / 通报批评 as a short Word document in the weekly briefing's style (GB/T
9704 page, 方正小标宋 title, 仿宋 body: notifications.briefing.document). The figures come from
tracker.appraisal."""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm
from openpyxl.styles import Alignment, Font, PatternFill

from tracker.spreadsheets import new_workbook, workbook_bytes
from notifications.briefing.document import (
    BODY_FONT,
    HEADING_FONT,
    TABLE_SIZE,
    set_run_font,
)
from notifications.briefing.official import letter_document, letter_paragraph, letter_signature
from tracker.appraisal.service import Appraisal, AppraisalNotice, UnitAppraisal
from tracker.plans import AppraisalRule

HEADERS = ("排名", "单位", "应完成", "按时完成", "逾期完成", "当前逾期", "退回", "申请延期", "同意延期",
           "督办单", "平均逾期工作日", "按时率", "销号率", "得分")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def row_values(row: UnitAppraisal) -> list:
    """A row as the table shows it: counts as numbers, rates and means as text."""
    return [row.rank if row.rank is not None else "—", row.name, row.due, row.on_time, row.late, row.overdue,
            row.returned, row.extensions_requested, row.extensions_granted, row.escalations,
            number(row.mean_days_late), percent(row.on_time_rate), percent(row.completion_rate),
            number(row.score)]


def rule_lines(rule: AppraisalRule) -> list[str]:
    """The rule in words (the table's note, the docs)."""
    by = "按时率（有逾期任务的单位排在后面；再按按时率、销号率）" if rule.rank_by == "on_time_rate" else "得分（同分再按按时率）"
    return [f"满分 {rule.full_marks:g} 分；按时完成每项加 {rule.on_time_points:g} 分，逾期完成每项扣 "
            f"{rule.late_done_points:g} 分，当前逾期每项扣 {rule.overdue_points:g} 分，退回每次扣 "
            f"{rule.returned_points:g} 分，督办单每份扣 {rule.escalation_points:g} 分；得分在 0 至满分之间。",
            f"排名依据：{by}。责任单位与学校分别排名。"]


def _put(ws, row: int, column: int, value) -> None:
    cell = ws.cell(row=row, column=column)
    cell.value = value  # a text starting with = + - @ is kept as text when the workbook is saved


def write_appraisal_xlsx(appraisal: Appraisal) -> bytes:
    """The 考核 table: a sheet for the departments, one for the schools, and the rule."""
    wb = new_workbook()
    title = f"{appraisal.county}优质均衡创建工作考核表（{appraisal.start.isoformat()} 至 {appraisal.end.isoformat()}）"
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    first = True
    for sheet_name, rows in (("责任单位", appraisal.departments()), ("学校", appraisal.schools())):
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = sheet_name
        _put(ws, 1, 1, title)
        ws.cell(row=1, column=1).font = Font(bold=True, size=14)
        _put(ws, 2, 1, f"截至 {appraisal.today.isoformat()}；当前逾期、按时与否按任务现状计。")
        for c, header in enumerate(HEADERS, start=1):
            _put(ws, 3, c, header)
            cell = ws.cell(row=3, column=c)
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for r, unit in enumerate(rows, start=4):
            for c, value in enumerate(row_values(unit), start=1):
                _put(ws, r, c, value)
        ws.column_dimensions["B"].width = 28
        ws.freeze_panes = "C4"
    ws = wb.create_sheet("考核办法")
    for r, line in enumerate(rule_lines(appraisal.rule), start=1):
        _put(ws, r, 1, line)
    ws.column_dimensions["A"].width = 120
    return workbook_bytes(wb)  # text cells stay text, never a formula (tracker.spreadsheets)


# ---------------------------------------------------------------------------------------------
# 通报表扬 / 通报批评


def notice_title(notice: AppraisalNotice) -> str:
    verb = "通报表扬" if notice.kind == "表扬" else "通报批评"
    named = notice.units[0] + ("等单位" if len(notice.units) > 1 else "")
    return f"关于对{named}予以{verb}的通报"


def _figures_table(doc, rows: Sequence[UnitAppraisal]) -> None:
    headers = ("单位", "应完成", "按时完成", "逾期完成", "当前逾期", "退回", "督办单", "得分")
    widths = (52, 14, 16, 16, 16, 12, 14, 16)
    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    values = [list(headers)] + [[r.name, str(r.due), str(r.on_time), str(r.late), str(r.overdue), str(r.returned),
                                 str(r.escalations), number(r.score)] for r in rows]
    for i, line in enumerate(values):
        for j, text in enumerate(line):
            cell = table.cell(i, j)
            cell.width = Mm(widths[j])
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT if j == 0 and i else WD_ALIGN_PARAGRAPH.CENTER
            set_run_font(p.add_run(text), HEADING_FONT if i == 0 else BODY_FONT, TABLE_SIZE)


def build_notice_document(notice: AppraisalNotice) -> Document:
    doc = letter_document(notice_title(notice), "各责任单位、各学校：")
    verb = "通报表扬" if notice.kind == "表扬" else "通报批评"
    names = "、".join(notice.units)
    letter_paragraph(doc, notice.reason)
    if notice.kind == "表扬":
        letter_paragraph(doc, f"经研究，决定对{names}予以{verb}。希望受表扬的单位再接再厉，各单位以其为榜样，"
                        f"按时保质完成创建任务。")
    else:
        letter_paragraph(doc, f"经研究，决定对{names}予以{verb}。请被通报单位认真整改，于 3 个工作日内将整改情况"
                        f"书面报送领导小组办公室；各单位引以为戒。")
    if notice.figures:
        letter_paragraph(doc, f"附：被通报单位考核情况（创建工作开展以来，截至{notice.issued_on.month}月{notice.issued_on.day}日）",
                   indent=False)
        _figures_table(doc, notice.figures)
    letter_signature(doc, notice.issuing_office, notice.issued_on)
    return doc


def write_notice_docx(notice: AppraisalNotice) -> bytes:
    out = io.BytesIO()
    build_notice_document(notice).save(out)
    return out.getvalue()
