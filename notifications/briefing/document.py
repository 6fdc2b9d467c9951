"""The briefing as a Word document in the manner of Chinese official documents (GB/T 9704-2012).

Page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 × 225 mm text block).
Fonts by the names offices have installed: the title in 方正小标宋简体 二号 (22 pt), first-level
headings in 黑体 三号 (16 pt), second-level in 楷体_GB2312, the body in 仿宋_GB2312 三号 (16 pt)
with a fixed 28 pt line pitch and a two-character first-line indent. python-docx's ``font.name``
only sets the Latin fonts, so every run also names its east-asian font (``w:rFonts w:eastAsia``);
Latin letters and digits use Times New Roman. A machine without these fonts (LibreOffice on a
server) substitutes a CJK font such as Noto Serif/Sans CJK.

The 版头 of a 简报-style document (red 「创建工作调度通报」, 期数, issuing office and date over a
red rule), the title, the sections, the tables and charts, the signature, and the 版记 (抄送 and
印发 between rules). Page numbers are 四号 宋体 「— 1 —」 in the footer: odd pages on the right,
even pages on the left, one character in from the edge.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from xml.sax.saxutils import escape as xml_escape

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

from notifications.briefing import text as words
from notifications.briefing.charts import Chart
from tracker.briefings.compute import BriefingData, UnitRow

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"

TITLE_SIZE = 22  # 二号
BODY_SIZE = 16  # 三号
TABLE_SIZE = 10.5  # 五号
PAGE_NUMBER_SIZE = 14  # 四号
LINE_PITCH = 28  # pt, fixed: 22 lines on the 225 mm text block
RED = RGBColor(0xE6, 0x00, 0x12)
LIGHT_FILL = {"绿": "C8E6C9", "黄": "FFF59D", "红": "FFCDD2"}
TABLE_ROW_LIMIT = 50  # rows of a long list printed; the rest are counted

MARGINS = {"top": 37, "bottom": 35, "left": 28, "right": 26}  # mm


# ---------------------------------------------------------------------------------------------
# runs and paragraphs


def set_run_font(run, east_asia: str, size: float, *, bold: bool = False, colour: RGBColor | None = None,
                 latin: str = LATIN_FONT) -> None:
    run.font.name = latin
    run.font.size = Pt(size)
    run.font.bold = bold
    if colour is not None:
        run.font.color.rgb = colour
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def _paragraph(doc_or_cell, text: str = "", *, font: str = BODY_FONT, size: float = BODY_SIZE,
               bold: bool = False, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True, colour=None,
               pitch: float | None = LINE_PITCH):
    p = doc_or_cell.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if pitch is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(pitch)
    fmt.first_line_indent = Pt(2 * size) if indent else None
    if text:
        set_run_font(p.add_run(text), font, size, bold=bold, colour=colour)
    return p


def text_width(text: str) -> float:
    """Width in character cells (a CJK character 1, a Latin letter or digit about half)."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def _fitting_size(text: str, width_mm: float, sizes: Sequence[float] = (16, 14, 12, 10.5)) -> float:
    """The largest of ``sizes`` at which ``text`` fits on one line ``width_mm`` wide."""
    for size in sizes:
        if text_width(text) * size * 0.3528 <= width_mm:
            return size
    return sizes[-1]


def _border(paragraph, edge: str, *, size_eighths: int, colour: str = "000000", space: int = 1) -> None:
    """A rule above or below a paragraph (``edge`` top/bottom; width in eighths of a point)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{edge}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), str(space))
    line.set(qn("w:color"), colour)
    borders.append(line)


def _heading(doc, text: str) -> None:
    _paragraph(doc, text, font=HEADING_FONT).paragraph_format.keep_with_next = True


def _subheading(doc, text: str) -> None:
    _paragraph(doc, text, font=SUBHEADING_FONT).paragraph_format.keep_with_next = True


def _lead_in(doc, text: str) -> None:
    """A sentence introducing a table: kept on the page of the table's first rows."""
    _paragraph(doc, text).paragraph_format.keep_with_next = True


def _page_number_field(paragraph) -> None:
    """「— PAGE —」: a PAGE field between two em-dash-like rules (一字线)."""
    def run(text: str = ""):
        r = paragraph.add_run(text)
        set_run_font(r, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE, latin=PAGE_NUMBER_FONT)
        return r

    run("— ")
    begin = run()
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), "begin")
    begin._r.append(fld)
    instr = run()
    instr_text = OxmlElement("w:instrText")
    instr_text.set(qn("xml:space"), "preserve")
    instr_text.text = " PAGE "
    instr._r.append(instr_text)
    sep = run()
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), "separate")
    sep._r.append(fld)
    run("1")
    end = run()
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), "end")
    end._r.append(fld)
    run(" —")


def _footers(doc) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        p.alignment = align
        fmt = p.paragraph_format
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = Pt(PAGE_NUMBER_SIZE)  # 单页码居右空一字
        else:
            fmt.left_indent = Pt(PAGE_NUMBER_SIZE)  # 双页码居左空一字
        _page_number_field(p)


# ---------------------------------------------------------------------------------------------
# tables


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


def _table(doc, headers: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float], *,
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
    _paragraph(doc, "", pitch=12)  # a little air below the table
    return table


def _unit_table(doc, units: list[UnitRow], first_header: str) -> None:
    headers = ["排名", first_header, "应办", "已销号", "在办", "未签收", "逾期", "完成率", "按时完成率", "亮灯"]
    rows, fills = [], []
    for u in units:
        f = u.figures
        rows.append([str(u.rank) if u.rank else "—", u.short_name, str(f.assigned), str(f.done), str(f.in_progress),
                     str(f.not_signed), str(f.overdue), words.percent(f.completion_rate, 0),
                     words.percent(f.on_time_rate, 0), u.light or "—"])
        fill = {9: LIGHT_FILL[u.light]} if u.light in LIGHT_FILL else {}
        if f.overdue:
            fill[6] = LIGHT_FILL["红"]
        fills.append(fill)
    _table(doc, headers, rows, [11, 37, 11, 14, 11, 14, 11, 14, 22, 11], left_columns=(1,), fills=fills)


def _merge_repeats(table, column: int, first_row: int = 1) -> None:
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


def _picture(doc, chart: Chart, caption: str) -> None:
    p = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, pitch=None)
    p.add_run().add_picture(io.BytesIO(chart.png), width=Mm(150))
    _paragraph(doc, caption, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)


def _more(doc, shown: int, total: int, what: str) -> None:
    if total > shown:
        _paragraph(doc, f"（另有{total - shown}项{what}未列出，详见督办系统。）", size=14)


# ---------------------------------------------------------------------------------------------
# the document


def simplified_chinese(doc, east_asia_font: str) -> None:
    """Mark the whole document as Simplified Chinese. python-docx's template says east-asian text is
    Japanese (``w:themeFontLang w:eastAsia="ja-JP"`` in the settings) and takes its east-asian font
    from the theme, so LibreOffice set every run whose named font it lacks in Noto CJK **JP** (the
    JP glyph shapes of 门, 说, 骨 …). The defaults, the Normal style and the theme language now say
    zh-CN and name the font, and the PDF's fallbacks are the SC faces (notifications.briefing.pdf)."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    for rpr in (rpr_default.find(qn("w:rPr")), doc.styles["Normal"].element.get_or_add_rPr()):
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            rpr_default.append(rpr)
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        for theme in ("w:eastAsiaTheme", "w:asciiTheme", "w:hAnsiTheme"):
            fonts.attrib.pop(qn(theme), None)
        fonts.set(qn("w:eastAsia"), east_asia_font)
        for old_language in rpr.findall(qn("w:lang")):
            rpr.remove(old_language)
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), "zh-CN")
        language.set(qn("w:eastAsia"), "zh-CN")
        rpr.append(language)
    settings = doc.settings.element
    theme_language = settings.find(qn("w:themeFontLang"))
    if theme_language is None:
        theme_language = OxmlElement("w:themeFontLang")
        settings.append(theme_language)
    theme_language.set(qn("w:val"), "zh-CN")
    theme_language.set(qn("w:eastAsia"), "zh-CN")


def _layout(doc) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS["top"]), Mm(MARGINS["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS["left"]), Mm(MARGINS["right"])
    section.header_distance = Mm(15)
    section.footer_distance = Mm(25)  # 页码 about 7 mm below the text block
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(BODY_SIZE)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), BODY_FONT)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    simplified_chinese(doc, BODY_FONT)


def _masthead(doc, data: BriefingData) -> None:
    """版头: red 「创建工作调度通报」, 期数, issuing office and date over a red rule."""
    _paragraph(doc, "", pitch=None)
    _paragraph(doc, "创建工作调度通报", font=TITLE_FONT, size=36, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
               colour=RED, pitch=None)
    _paragraph(doc, words.number_text(data), align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    date = words.cn_date(data.issued_on or data.as_of_date)
    size = _fitting_size(f"{data.issuing_office}　　{date}", 150, (14, 12, 10.5))
    line = _paragraph(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT, indent=False)
    line.paragraph_format.tab_stops.add_tab_stop(Mm(156), WD_TAB_ALIGNMENT.RIGHT)
    set_run_font(line.add_run(data.issuing_office), BODY_FONT, size)
    set_run_font(line.add_run("\t" + date), BODY_FONT, size)
    _border(line, "bottom", size_eighths=18, colour="E60012", space=4)
    _paragraph(doc, "", pitch=None)


def _signature(doc, data: BriefingData) -> None:
    """发文机关署名 and 成文日期: the date right with four characters' space, the name centred over
    the date (or as far right as it fits)."""
    _paragraph(doc, "")
    date = words.cn_date(data.issued_on or data.as_of_date)
    name_indent = max(0.0, 4 + (text_width(date) - text_width(data.issuing_office)) / 2)
    for text, indent in ((data.issuing_office, name_indent), (date, 4)):
        p = _paragraph(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        p.paragraph_format.right_indent = Pt(indent * BODY_SIZE)


def _colophon(doc, data: BriefingData) -> None:
    """版记: 抄送 and 印发 between rules (the first and last heavier), 四号 where it fits."""
    _paragraph(doc, "")
    cc = _paragraph(doc, "抄送：领导小组组长、副组长，领导小组各成员单位。", size=14, indent=False)
    cc.paragraph_format.left_indent = Pt(14)
    _border(cc, "top", size_eighths=8)
    _border(cc, "bottom", size_eighths=4)
    issued = f"{words.cn_date(data.issued_on or data.as_of_date)}印发"
    size = _fitting_size(f"{data.issuing_office}　{issued}", 140, (14, 12, 10.5))
    printed = _paragraph(doc, "", size=size, indent=False)
    printed.paragraph_format.left_indent = Pt(14)
    printed.paragraph_format.tab_stops.add_tab_stop(Mm(151), WD_TAB_ALIGNMENT.RIGHT)
    set_run_font(printed.add_run(data.issuing_office), BODY_FONT, size)
    set_run_font(printed.add_run(f"\t{issued}"), BODY_FONT, size)
    _border(printed, "bottom", size_eighths=8)


def build_document(data: BriefingData, charts: Sequence[Chart] = ()) -> Document:
    doc = Document()
    _layout(doc)
    _footers(doc)
    props = doc.core_properties
    props.title = f"{words.title(data)}（{words.number_text(data)}）"
    props.author = data.issuing_office
    props.subject = data.iso_week
    stamp = dt.datetime.combine(data.issued_on or data.as_of_date, dt.time(8, 30))
    props.created = props.modified = stamp
    props.last_modified_by = data.issuing_office
    props.revision = 1
    by_key = {c.key: c for c in charts}

    _masthead(doc, data)
    _paragraph(doc, words.title(data), font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
               indent=False, pitch=36)
    sub = f"（{words.period_text(data)}）"
    if data.holiday_week:
        sub = f"（{words.period_text(data)}，本周为法定节假日）"
    _paragraph(doc, sub, font=SUBHEADING_FONT, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(doc, "")
    _paragraph(doc, "领导小组各成员单位：", indent=False)
    _paragraph(doc, words.opening(data))

    _heading(doc, "一、总体进展")
    _paragraph(doc, words.overall_paragraph(data))
    _paragraph(doc, words.phase_paragraph(data))

    _heading(doc, "二、各单位进展情况")
    _paragraph(doc, data.overdue_sentence)
    departments = [u for u in data.departments() if u.figures.assigned]
    idle = [u.short_name for u in data.departments() if not u.figures.assigned]
    if departments:
        _subheading(doc, "（一）责任单位")
        _unit_table(doc, departments, "责任单位")
    if idle:
        _paragraph(doc, f"{'、'.join(idle)}等{len(idle)}个单位本期暂无牵头任务。", size=14, pitch=24)
    schools = [u for u in data.schools() if u.figures.assigned]
    if schools:
        _subheading(doc, "（二）学校（学校自行整改的任务）")
        _unit_table(doc, schools, "学校")
    if words.extensions_sentence(data):  # 延期申请 per unit (issue 12 §2)
        _paragraph(doc, words.extensions_sentence(data))
    _paragraph(doc, f"注：{words.rank_rule(data)}；"
                    "亮灯为单位所有任务中最差的一项（红：逾期；黄：3个工作日内到期或落后于序时进度；绿：正常）。",
               size=12, pitch=20)
    if "completion" in by_key:
        _picture(doc, by_key["completion"], "图1  各单位任务完成率")
    elif words.no_completion_chart(data):
        _paragraph(doc, words.no_completion_chart(data))

    _heading(doc, "三、本周工作情况")
    _paragraph(doc, words.week_paragraph(data))

    _heading(doc, "四、逾期任务")
    if data.overdue:
        _lead_in(doc, f"截至{words.cn_day(data.as_of_date)}，共有逾期任务{len(data.overdue)}项，"
                      "按逾期时间排列如下（逾期天数按工作日计）：")
        shown = data.overdue[:TABLE_ROW_LIMIT]
        rows = [[str(i), r.title, r.unit, f"{r.due_on.month}月{r.due_on.day}日", words.days_overdue_cell(r.days_overdue),
                 str(r.reminders), "已督办" if r.escalated else "—"] for i, r in enumerate(shown, start=1)]
        _table(doc, ["序号", "任务", "责任单位", "完成时限", "逾期天数", "提醒次数", "督办"], rows,
               [11, 50, 24, 23, 17, 17, 14], left_columns=(1,))
        _more(doc, len(shown), len(data.overdue), "逾期任务")
    else:
        _paragraph(doc, "本期无逾期任务。")

    _heading(doc, "五、指标监测情况")
    _paragraph(doc, words.indicators_paragraph(data))
    if data.indicators:
        rows, fills, keep = [], [], []
        for n, r in enumerate(data.indicators):
            verdict = {True: "达标", False: "未达标", None: "无法判定"}[r.cv_ok]
            rows.append([f"{r.code}. {r.title}", r.stage_name,
                         "—" if r.county_value is None else f"{r.county_value:.2f}",
                         words.value_change(r.county_value_change),
                         "—" if r.threshold is None else f"{r.threshold:g}",
                         "—" if r.cv is None else f"{r.cv:.3f}", words.cv_change(r.cv_change),
                         "—" if r.cv_limit is None else f"≤{r.cv_limit:.2f}", verdict])
            fills.append({8: LIGHT_FILL["红"]} if r.cv_ok is False else {})
            following = data.indicators[n + 1] if n + 1 < len(data.indicators) else None
            keep.append(following is not None and following.code == r.code)  # an indicator's stages together
        table = _table(doc, ["指标", "学段", "数值", "较上次", "标准值", "数值", "较上次", "上限", "结论"], rows,
                       [42, 11, 17, 16, 14, 15, 15, 12, 14], left_columns=(0,), fills=fills, keep=keep,
                       groups=[("指标", 1), ("学段", 1), ("县域均值", 2), ("标准值", 1), ("差异系数", 2),
                               ("上限", 1), ("结论", 1)])
        _merge_repeats(table, 0, first_row=2)
        _paragraph(doc, "注：县域均值保留2位小数，差异系数保留3位小数；较上次为与上次评估相比的变化；"
                        "结论指差异系数是否达到标准，判定按未四舍五入的数值。", size=12, pitch=20)
    if "cv" in by_key:
        _picture(doc, by_key["cv"], "图2  校际差异系数与标准上限")

    _heading(doc, "六、下周到期任务")
    if data.next_week:
        _lead_in(doc, f"{words.cn_day(data.next_week_start)}至{words.cn_day(data.next_week_end)}，"
                      f"共有{len(data.next_week)}项任务到期，请责任单位按时办结：")
        shown = data.next_week[:TABLE_ROW_LIMIT]
        rows = [[str(i), r.title, r.unit, f"{r.due_on.month}月{r.due_on.day}日", r.status, r.light or "—"]
                for i, r in enumerate(shown, start=1)]
        fills = [{5: LIGHT_FILL[r.light]} if r.light in LIGHT_FILL else {} for r in shown]
        _table(doc, ["序号", "任务", "责任单位", "完成时限", "状态", "亮灯"], rows, [11, 73, 24, 23, 14, 11],
               left_columns=(1,), fills=fills)
        _more(doc, len(shown), len(data.next_week), "下周到期任务")
    else:
        _paragraph(doc, f"{words.cn_day(data.next_week_start)}至{words.cn_day(data.next_week_end)}无到期任务。")

    materials = words.materials_paragraph(data)  # issue 13 §4: 迎检资料缺项
    if materials:
        _lead_in(doc, materials)
        shown = data.materials.missing[:TABLE_ROW_LIMIT]
        _table(doc, ["序号", "指标", "资料项", "责任单位"],
               [[str(i), r.indicator, f"{r.item_id} {r.title}", "、".join(r.units)] for i, r in enumerate(shown, start=1)],
               [11, 14, 100, 31], left_columns=(2,))
        _more(doc, len(shown), len(data.materials.missing), "必备资料缺项")

    _heading(doc, "七、工作要求")
    demands = "请各责任单位对照任务清单和完成时限，倒排工期、压实责任"
    if data.overdue_units:
        demands += f"。{'、'.join(data.overdue_units)}要认真分析逾期原因，逾期任务于下周内办结并提交佐证材料"
    demands += "；已办结的任务请及时在督办系统中提交，由领导小组办公室审核销号。"
    _paragraph(doc, demands)

    _signature(doc, data)
    _colophon(doc, data)
    return doc


def write_briefing_docx(data: BriefingData, charts: Sequence[Chart] = (), path=None) -> bytes:
    """The .docx bytes (also written to ``path`` when given)."""
    buffer = io.BytesIO()
    build_document(data, charts).save(buffer)
    content = buffer.getvalue()
    if path is not None:
        from pathlib import Path

        Path(path).write_bytes(content)
    return content


# ---------------------------------------------------------------------------------------------
# the kit, for the other documents in the same official style (the 自评报告 and the 申报表,
# notifications.reports): the page, the fonts, the headings, the tables, the page numbers


def official_document(title: str, author: str, stamp: dt.datetime) -> Document:
    """An empty document with the page, fonts and page numbers of GB/T 9704 (as the briefing's)."""
    doc = Document()
    _layout(doc)
    _footers(doc)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.created = props.modified = stamp
    props.revision = 1
    return doc


paragraph = _paragraph
heading = _heading
subheading = _subheading
table = _table
merge_repeats = _merge_repeats
