"""The 考核 .xlsx never carries a formula, whatever a unit is called; the 通报 .docx says what the
office wrote, in the briefing's page and fonts."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from notifications.appraisal import write_appraisal_xlsx, write_notice_docx
from tracker.appraisal.service import Appraisal, AppraisalNotice, UnitAppraisal, rank_units
from tracker.plans import AppraisalRule

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "财政局"]


def _appraisal(names) -> Appraisal:
    rows = [UnitAppraisal("department", i, name, name, due=2, on_time=1, overdue=1) for i, name in enumerate(names, 1)]
    rows.append(UnitAppraisal("school", 99, "=cmd|' /C calc'!A0", "=cmd", due=1, on_time=1))
    rank_units(rows, AppraisalRule())
    return Appraisal(campaign_code="demo", campaign_name="示例县优质均衡创建", county="=示例县", start=dt.date(2026, 12, 1),
                     end=dt.date(2026, 12, 21), today=dt.date(2026, 12, 21), rule=AppraisalRule(), units=rows)


def test_no_cell_of_the_xlsx_is_a_formula(tmp_path):
    content = write_appraisal_xlsx(_appraisal(HOSTILE))
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula element anywhere
    wb = load_workbook(io.BytesIO(content))
    names = [row[1] for row in wb["责任单位"].iter_rows(min_row=4, values_only=True)]
    assert sorted(names) == sorted(HOSTILE)  # the text itself unchanged (tracker.spreadsheets)
    for ws in wb.worksheets:  # and every formula-like text marked to stay text when edited
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t")):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
    assert wb["学校"]["B4"].value == "=cmd|' /C calc'!A0" and wb["学校"]["B4"].quotePrefix
    assert wb["责任单位"]["A1"].value.startswith("=示例县")  # the title too
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"


def test_the_notice_docx_says_what_the_office_wrote():
    rows = [UnitAppraisal("department", 1, "财政局", "财政", due=4, on_time=2, late=1, overdue=1, returned=1,
                          escalations=1)]
    rank_units(rows, AppraisalRule())
    notice = AppraisalNotice(kind="批评", campaign_code="demo", campaign_name="示例县优质均衡创建", county="示例县",
                             issuing_office="示例县义务教育优质均衡发展创建工作领导小组办公室",
                             issued_on=dt.date(2026, 12, 21), units=["财政局", "城关一小"],
                             reason="截至12月18日，财政局、城关一小各有1项任务逾期未办结。", figures=rows)
    doc = Document(io.BytesIO(write_notice_docx(notice)))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "关于对财政局等单位予以通报批评的通报"
    assert "各责任单位、各学校：" in texts
    assert "截至12月18日，财政局、城关一小各有1项任务逾期未办结。" in texts
    assert any("决定对财政局、城关一小予以通报批评" in t for t in texts)
    assert texts[-2:] == ["示例县义务教育优质均衡发展创建工作领导小组办公室", "2026年12月21日"]
    table = doc.tables[0]
    assert [c.text for c in table.rows[1].cells] == ["财政局", "4", "2", "1", "1", "1", "1", "94.0"]
    # the briefing's page and fonts: A4, GB/T 9704 margins, 方正小标宋 title, 仿宋 body
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.top_margin.mm), round(section.left_margin.mm)) == (210, 37, 28)
    title_font = doc.paragraphs[0].runs[0]._element.rPr.rFonts.get(qn("w:eastAsia"))
    body_font = doc.paragraphs[3].runs[0]._element.rPr.rFonts.get(qn("w:eastAsia"))
    assert (title_font, body_font) == ("方正小标宋简体", "仿宋_GB2312")
    assert round(section.bottom_margin.mm) == 35


def test_a_praise_has_a_single_unit_title():
    notice = AppraisalNotice(kind="表扬", campaign_code="d", campaign_name="n", county="c", issuing_office="办公室",
                             issued_on=dt.date(2026, 12, 21), units=["住建局"], reason="提前完成。")
    doc = Document(io.BytesIO(write_notice_docx(notice)))
    assert doc.paragraphs[0].text == "关于对住建局予以通报表扬的通报"
    assert not doc.tables


def test_the_briefing_names_the_rule_that_ranked_it():
    from types import SimpleNamespace

    from notifications.briefing import text as words

    assert words.rank_rule(SimpleNamespace(rank_by="on_time_rate")) == words.RANK_RULE
    assert words.rank_rule(SimpleNamespace(rank_by="score")).startswith("排名按考核得分")
