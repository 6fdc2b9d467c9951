"""The 表彰通报 of a school programme (示范校) as a Word document, in the briefing's official
style (notifications.briefing.document: fonts, sizes, margins, line pitch)."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.shared import Mm, Pt

from notifications.briefing.document import (
    BODY_FONT,
    BODY_SIZE,
    HEADING_FONT,
    LINE_PITCH,
    MARGINS,
    TITLE_FONT,
    TITLE_SIZE,
    set_run_font,
)
from tracker.programmes.awards import AwardNotice

NUMERALS = "一二三四五六七八九十"


def notice_title(notice: AwardNotice) -> str:
    return f"关于表彰{notice.county}义务教育优质均衡系列示范校的通报"


def _paragraph(doc, text: str, *, font: str = BODY_FONT, size: float = BODY_SIZE, indent: bool = True,
               align=WD_ALIGN_PARAGRAPH.JUSTIFY):
    p = doc.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PITCH if size <= BODY_SIZE else size * 1.5)
    fmt.first_line_indent = Pt(2 * size) if indent else None
    if text:
        set_run_font(p.add_run(text), font, size)
    return p


def build_award_document(notice: AwardNotice) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS["top"]), Mm(MARGINS["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS["left"]), Mm(MARGINS["right"])
    _paragraph(doc, notice_title(notice), font=TITLE_FONT, size=TITLE_SIZE, indent=False,
               align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, "", indent=False)
    _paragraph(doc, "各学校、局机关各科室：", indent=False)
    _paragraph(doc, f"{notice.programme_name}开展以来，各学校对照评选标准，以先进带后进，赶学比超、带促提拉。"
                    f"经科室圈定、学校申请与复核、验收组评分和公示，现对以下学校予以表彰：")
    for i, (category, schools) in enumerate(notice.by_category.items()):
        _paragraph(doc, f"{NUMERALS[i]}、全县义务教育优质均衡{category}（{len(schools)}所）", font=HEADING_FONT)
        _paragraph(doc, "、".join(schools))
    if notice.vetoed:
        _paragraph(doc, f"另，{'、'.join(notice.vetoed)}未达到达标校要求，按方案实行一票否决，"
                        f"单位和主要负责同志年内不得评先树优。")
    _paragraph(doc, "希望受表彰的学校再接再厉，发挥示范带动作用；各学校以先进为榜样，推动全县义务教育优质均衡发展。")
    _paragraph(doc, "", indent=False)
    _paragraph(doc, notice.issuing_office, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, f"{notice.issued_on.year}年{notice.issued_on.month}月{notice.issued_on.day}日", indent=False,
               align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


def write_award_docx(notice: AwardNotice) -> bytes:
    out = io.BytesIO()
    build_award_document(notice).save(out)
    return out.getvalue()
