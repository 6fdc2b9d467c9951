"""The official-document kit (GB/T 9704-2012) the briefing and the other documents share (the
自评报告 and the 申报表 in notifications.reports, the region's briefing, …): the page, the fonts,
the paragraphs and headings, the page numbers. Tables are in official_tables.py.

Page: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 × 225 mm text block).
Fonts by the names offices have installed: the title in 方正小标宋简体 二号 (22 pt), first-level
headings in 黑体 三号 (16 pt), second-level in 楷体_GB2312, the body in 仿宋_GB2312 三号 (16 pt)
with a fixed 28 pt line pitch and a two-character first-line indent. python-docx's ``font.name``
only sets the Latin fonts, so every run also names its east-asian font (``w:rFonts w:eastAsia``);
Latin letters and digits use Times New Roman. A machine without these fonts (LibreOffice on a
server) substitutes a CJK font such as Noto Serif/Sans CJK.

Page numbers are 四号 宋体 「— 1 —」 in the footer: odd pages on the right, even pages on the left,
one character in from the edge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

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


def paragraph(doc_or_cell, text: str = "", *, font: str = BODY_FONT, size: float = BODY_SIZE,
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


def fitting_size(text: str, width_mm: float, sizes: Sequence[float] = (16, 14, 12, 10.5)) -> float:
    """The largest of ``sizes`` at which ``text`` fits on one line ``width_mm`` wide."""
    for size in sizes:
        if text_width(text) * size * 0.3528 <= width_mm:
            return size
    return sizes[-1]


def border(paragraph, edge: str, *, size_eighths: int, colour: str = "000000", space: int = 1) -> None:
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


def heading(doc, text: str) -> None:
    paragraph(doc, text, font=HEADING_FONT).paragraph_format.keep_with_next = True


def subheading(doc, text: str) -> None:
    paragraph(doc, text, font=SUBHEADING_FONT).paragraph_format.keep_with_next = True


def lead_in(doc, text: str) -> None:
    """A sentence introducing a table: kept on the page of the table's first rows."""
    paragraph(doc, text).paragraph_format.keep_with_next = True


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


def footers(doc) -> None:
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


def layout(doc) -> None:
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


# ---------------------------------------------------------------------------------------------
# an empty document for the other documents in the same official style


def official_document(title: str, author: str, stamp: dt.datetime) -> Document:
    """An empty document with the page, fonts and page numbers of GB/T 9704 (as the briefing's)."""
    doc = Document()
    layout(doc)
    footers(doc)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.created = props.modified = stamp
    props.revision = 1
    return doc


# --- 通报 letters (考核 通报表扬/批评, 示范校 表彰通报): a title, an addressee, paragraphs, a signature --------


def letter_paragraph(doc, text: str, *, font: str = BODY_FONT, size: float = BODY_SIZE, indent: bool = True,
                     align=WD_ALIGN_PARAGRAPH.JUSTIFY, bold: bool = False):
    """A paragraph on the official line pitch; the body's first line indented two characters."""
    p = doc.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PITCH if size <= BODY_SIZE else size * 1.5)
    fmt.first_line_indent = Pt(2 * size) if indent else None
    if text:
        set_run_font(p.add_run(text), font, size, bold=bold)
    return p


def letter_document(title: str, addressee: str) -> Document:
    """An A4 page with GB/T 9704 margins, the title centred, a blank line and the addressee."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS["top"]), Mm(MARGINS["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS["left"]), Mm(MARGINS["right"])
    letter_paragraph(doc, title, font=TITLE_FONT, size=TITLE_SIZE, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    letter_paragraph(doc, "", indent=False)
    letter_paragraph(doc, addressee, indent=False)
    return doc


def letter_signature(doc, office: str, day: dt.date) -> None:
    """A blank line, then the issuing office and the date, right-aligned."""
    letter_paragraph(doc, "", indent=False)
    letter_paragraph(doc, office, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    letter_paragraph(doc, f"{day.year}年{day.month}月{day.day}日", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
