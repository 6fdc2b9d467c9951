"""The 表彰通报 of a school programme (示范校) as a Word document, in the briefing's official
style (notifications.briefing.document: fonts, sizes, margins, line pitch)."""

from __future__ import annotations

import io

from docx import Document

from notifications.briefing.document import (
    HEADING_FONT,
)
from notifications.briefing.official import letter_document, letter_paragraph, letter_signature
from tracker.programmes.awards import AwardNotice

NUMERALS = "一二三四五六七八九十"


def notice_title(notice: AwardNotice) -> str:
    return f"关于表彰{notice.county}义务教育优质均衡系列示范校的通报"


def build_award_document(notice: AwardNotice) -> Document:
    doc = letter_document(notice_title(notice), "各学校、局机关各科室：")
    letter_paragraph(doc, f"{notice.programme_name}开展以来，各学校对照评选标准，以先进带后进，赶学比超、带促提拉。"
                    f"经科室圈定、学校申请与复核、验收组评分和公示，现对以下学校予以表彰：")
    for i, (category, schools) in enumerate(notice.by_category.items()):
        letter_paragraph(doc, f"{NUMERALS[i]}、全县义务教育优质均衡{category}（{len(schools)}所）", font=HEADING_FONT)
        letter_paragraph(doc, "、".join(schools))
    if notice.vetoed:
        letter_paragraph(doc, f"另，{'、'.join(notice.vetoed)}未达到达标校要求，按方案实行一票否决，"
                        f"单位和主要负责同志年内不得评先树优。")
    letter_paragraph(doc, "希望受表彰的学校再接再厉，发挥示范带动作用；各学校以先进为榜样，推动全县义务教育优质均衡发展。")
    letter_signature(doc, notice.issuing_office, notice.issued_on)
    return doc


def write_award_docx(notice: AwardNotice) -> bytes:
    out = io.BytesIO()
    build_award_document(notice).save(out)
    return out.getvalue()
