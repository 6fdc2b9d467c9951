"""Tables in the official-document style (notifications.briefing.official): 五号 仿宋 cells, a
header repeated on every page, rows that do not break across pages, merged repeats."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape as xml_escape

from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

from notifications.briefing.official import BODY_FONT, HEADING_FONT, LATIN_FONT, TABLE_SIZE, paragraph, set_run_font


def _cell(cell, text: str, *, bold: bool = False, font: str = BODY_FONT, align=WD_ALIGN_PARAGRAPH.CENTER,
          fill: str | None = None) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.space_before = Pt(1)
    p.paragraph_format.space_after = Pt(1)
    p.paragraph_format.first_line_indent = None
    set_run_font(p.add_run(text), font, TABLE_SIZE, bold=bold)
    if fill:
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), fill)
        cell._tc.get_or_add_tcPr().append(shading)


def _cant_split(row) -> None:
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


CELL_MARGIN_TWIPS = 57  # 1 mm each side (Word's default is 1.9 mm): 五号 headers such as 按时完成率 fit unbroken


def _row_xml(values: Sequence[str], widths_mm: Sequence[float], left_columns: Sequence[int],
             fill: dict[int, str], keep_with_next: bool = False) -> str:
    """One body row as WordprocessingML. Written as text rather than through python-docx's cell
    objects, which cost milliseconds per cell: a county's overdue list has hundreds of cells.
    ``keep_with_next`` keeps the row on the page of the next one (an indicator's stage rows)."""
    size = int(TABLE_SIZE * 2)  # half-points
    keep = "<w:keepNext/>" if keep_with_next else ""
    cells = []
    for c, value in enumerate(values):
        shading = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill[c]}"/>' if c in fill else ""
        align = "left" if c in left_columns else "center"
        cells.append(
            f'<w:tc><w:tcPr><w:tcW w:w="{round(widths_mm[c] * 56.6929)}" w:type="dxa"/>{shading}'
            f'<w:vAlign w:val="center"/></w:tcPr>'
            f'<w:p><w:pPr>{keep}<w:spacing w:before="20" w:after="20"/><w:jc w:val="{align}"/></w:pPr>'
            f'<w:r><w:rPr><w:rFonts w:ascii="{LATIN_FONT}" w:hAnsi="{LATIN_FONT}" w:eastAsia="{BODY_FONT}"/>'
            f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr>'
            f'<w:t xml:space="preserve">{xml_escape(value)}</w:t></w:r></w:p></w:tc>')
    return f'<w:tr {nsdecls("w")}><w:trPr><w:cantSplit/></w:trPr>{"".join(cells)}</w:tr>'


def _cell_margins(table) -> None:
    """Narrow left/right cell margins for the whole table (``w:tblCellMar``, before ``w:tblLook``)."""
    tbl_pr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(CELL_MARGIN_TWIPS))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    look = tbl_pr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(margins)
    else:
        tbl_pr.append(margins)


def table(doc, headers: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float], *,
           left_columns: Sequence[int] = (), fills: Sequence[dict[int, str]] | None = None,
           groups: Sequence[tuple[str, int]] | None = None, keep: Sequence[bool] | None = None):
    """A table with a header repeated on every page. ``groups``: a two-row header — (label, span)
    over ``headers``; a label spanning one column covers both header rows, a wider one sits over
    the sub-headers in ``headers``. ``keep``: per body row, keep it on the page of the next row."""
    header_rows = 2 if groups else 1
    table = doc.add_table(rows=header_rows, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _cell_margins(table)
    for i, width in enumerate(widths_mm):
        table.columns[i].width = Mm(width)  # the grid (LibreOffice reads this)
        for r in range(header_rows):
            table.rows[r].cells[i].width = Mm(width)
    if groups:
        column = 0
        for label, span in groups:
            if span == 1:
                _cell(table.cell(0, column).merge(table.cell(1, column)), label, bold=True, font=HEADING_FONT)
            else:
                _cell(table.cell(0, column).merge(table.cell(0, column + span - 1)), label, bold=True,
                      font=HEADING_FONT)
                for k in range(column, column + span):
                    _cell(table.cell(1, k), headers[k], bold=True, font=HEADING_FONT)
            column += span
    else:
        for i, head in enumerate(headers):
            _cell(table.rows[0].cells[i], head, bold=True, font=HEADING_FONT)
    for r in range(header_rows):
        _cant_split(table.rows[r])
        _repeat_header(table.rows[r])
    for r, values in enumerate(rows):
        table._tbl.append(parse_xml(_row_xml(values, widths_mm, left_columns, fills[r] if fills else {},
                                             bool(keep and keep[r]))))
    paragraph(doc, "", pitch=12)  # a little air below the table
    return table


def merge_repeats(table, column: int, first_row: int = 1) -> None:
    """Merge runs of equal cells in a column (an indicator's title over its stage rows), below the
    ``first_row`` header rows."""
    rows = table.rows[first_row:]
    start = 0
    while start < len(rows):
        end = start
        text = rows[start].cells[column].text
        while end + 1 < len(rows) and rows[end + 1].cells[column].text == text:
            end += 1
        if end > start:
            for row in rows[start + 1:end + 1]:
                for paragraph in row.cells[column].paragraphs:
                    for run in list(paragraph.runs):
                        run._r.getparent().remove(run._r)
            rows[start].cells[column].merge(rows[end].cells[column])
            merged = rows[start].cells[column]
            for extra in merged.paragraphs[1:]:  # merging joins the emptied paragraphs: drop them
                extra._p.getparent().remove(extra._p)
        start = end + 1
