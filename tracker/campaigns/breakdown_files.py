"""The 任务分解表 laid out for print (A4 landscape): ``write_breakdown_xlsx`` and ``write_breakdown_docx``
over ``breakdown.breakdown_table``'s rows (split from breakdown.py, issue 14, so the table's rows
could grow)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from tracker.campaigns import breakdown
from tracker.campaigns.breakdown import BODY_FONT, HEADER_FONT, HEADERS, TITLE_FONT
from tracker.org.models import Campaign

# ---------------------------------------------------------------------------------------------
# xlsx

XLSX_WIDTHS = (6, 30, 38, 50, 13, 13, 24, 16, 14)


def write_breakdown_xlsx(session: Session, campaign: Campaign, path: str | Path) -> Path:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    from tracker.spreadsheets import new_workbook, save_workbook

    table = breakdown.breakdown_table(session, campaign)  # looked up on the module: tests replace it
    wb = new_workbook()
    ws = wb.active
    ws.title = "任务分解表"
    n = len(HEADERS)
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    center = Alignment(wrap_text=True, vertical="center", horizontal="center")

    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(1, 1, table.title).font = Font(name=TITLE_FONT, size=18)
    ws.cell(1, 1).alignment = center
    ws.row_dimensions[1].height = 36
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n)
    ws.cell(2, 1, table.subtitle).font = Font(name=BODY_FONT, size=10)
    ws.cell(2, 1).alignment = center
    ws.row_dimensions[2].height = 20
    for col, header in enumerate(HEADERS, start=1):
        cell = ws.cell(3, col, header)
        cell.font = Font(name=HEADER_FONT, size=11, bold=True)
        cell.alignment = center
        cell.border = border
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
    row = 4
    for section in table.sections:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=n)
        cell = ws.cell(row, 1, f"{section.title}（{section.note}）")
        cell.font = Font(name=BODY_FONT, size=11, bold=True)
        cell.alignment = wrap
        for col in range(1, n + 1):
            ws.cell(row, col).border = border
        row += 1
        for item in section.rows:
            for col, value in enumerate(item.cells(), start=1):
                cell = ws.cell(row, col, value)
                cell.font = Font(name=BODY_FONT, size=10)
                cell.alignment = center if col in (1, 5) else wrap
                cell.border = border
            # rows grow with the longest cell; openpyxl cannot measure, so estimate by characters
            lines = max(sum(max(1, -(-len(part) // max(1, XLSX_WIDTHS[c] - 2))) for part in str(v).split("\n"))
                        for c, v in enumerate(item.cells()))
            ws.row_dimensions[row].height = max(30, min(400, 14 * lines))
            row += 1
    for col, width in enumerate(XLSX_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width

    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_title_rows = "3:3"
    ws.print_options.horizontalCentered = True
    ws.freeze_panes = "A4"
    path = Path(path)
    save_workbook(wb, path)
    return path


# ---------------------------------------------------------------------------------------------
# docx

DOCX_WIDTHS_CM = (1.0, 4.2, 5.0, 6.6, 2.1, 1.9, 2.0, 1.6, 1.3)  # 25.7 cm: A4 landscape less 2 cm margins


def _set_font(run, name: str, size_pt: float, bold: bool = False) -> None:
    """Chinese text takes the east-asian font (w:eastAsia); python-docx's font.name sets only
    the Latin ones, so Word would otherwise fall back to its default Chinese font."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), name)


def _cell_text(cell, text: str, font: str, size: float, *, bold: bool = False, center: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    lines = text.split("\n")
    first = cell.paragraphs[0]
    for i, line in enumerate(lines):
        paragraph = first if i == 0 else cell.add_paragraph()
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = 0
        _set_font(paragraph.add_run(line), font, size, bold)


def write_breakdown_docx(session: Session, campaign: Campaign, path: str | Path) -> Path:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table_data = breakdown.breakdown_table(session, campaign)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(2.0)

    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(title.add_run(table_data.title), TITLE_FONT, 22)
    subtitle = doc.add_paragraph()
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(subtitle.add_run(table_data.subtitle), BODY_FONT, 10.5)

    table = doc.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    table.autofit = False
    header = table.rows[0]
    trpr = header._tr.get_or_add_trPr()
    repeat = trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"})
    trpr.append(repeat)  # the header row repeats on every printed page
    for i, text in enumerate(HEADERS):
        _cell_text(header.cells[i], text, HEADER_FONT, 11, bold=True, center=True)
    for i, width in enumerate(DOCX_WIDTHS_CM):
        table.columns[i].width = Cm(width)
        header.cells[i].width = Cm(width)
    for section_data in table_data.sections:
        row = table.add_row()
        merged = row.cells[0].merge(row.cells[-1])
        merged.width = Cm(sum(DOCX_WIDTHS_CM))
        _cell_text(merged, f"{section_data.title}（{section_data.note}）", BODY_FONT, 11, bold=True)
        for item in section_data.rows:
            cells = table.add_row().cells
            for i, value in enumerate(item.cells()):
                _cell_text(cells[i], value, BODY_FONT, 10.5, center=i in (0, 4))
                cells[i].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                cells[i].width = Cm(DOCX_WIDTHS_CM[i])
    path = Path(path)
    doc.save(path)
    return path
