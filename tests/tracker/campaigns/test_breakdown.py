"""The 任务分解表 as .xlsx and .docx, read back cell by cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from tracker.assessment import county_inputs
from tracker.campaigns import breakdown, selfcheck
from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.org.models import Campaign
from tracker.plans import load_plan
from tracker.standards import load_standard

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CODES = [i.code for i in load_standard("national-2017").indicators]


@pytest.fixture
def campaign_id(engine) -> int:
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        selfcheck.run_self_check(session, campaign, EXAMPLES / "schools.xlsx", "韩静")
        county_inputs.set_county_input(session, campaign, "23", "96.2", "韩静")
        county_inputs.set_county_input(session, campaign, "24", "90", "韩静")
        selfcheck.reassess(session, campaign)
        return campaign.id


def _by_code(rows: list[tuple]) -> dict[str, tuple]:
    """Data rows (not the area rows) by indicator code, from the 指标 column ("6. 生均…")."""
    out = {}
    for row in rows:
        if row and row[0] and str(row[0]).isdigit() and row[1]:
            out[str(row[1]).split(".", 1)[0]] = row
    return out


def test_xlsx_has_every_indicator_with_status_and_units(engine, campaign_id, tmp_path):
    with session_scope(engine) as session:
        path = breakdown.write_breakdown_xlsx(session, session.get(Campaign, campaign_id), tmp_path / "t.xlsx")
    ws = load_workbook(path)["任务分解表"]
    assert ws["A1"].value == "青川县义务教育优质均衡发展创建任务分解表"
    assert "教督〔2017〕6号" in ws["A2"].value
    assert [c.value for c in ws[3]] == list(breakdown.HEADERS)
    rows = [tuple(c.value for c in r) for r in ws.iter_rows(min_row=4)]
    assert rows[0][0].startswith("一、资源配置（每所学校至少 6 项指标达到要求，余项不低于要求的 85%")
    data = _by_code(rows)
    assert list(data) == CODES  # every indicator, in order

    six = data["6"]
    assert six[2].startswith("不达标。") and "初中" in six[2] and "差异系数 0.576（≤0.45）超标" in six[2]
    assert "石桥镇中学" in six[2]
    assert "按生均标准分批购置补充教学仪器设备" in six[3] and "一校一案整改" in six[3] and "万元" in six[3]
    assert six[4] == "2027年6月30日" and six[5] == "计财股" and six[6] == "财政局、教研室"
    one = data["1"]
    assert one[2].startswith("达标。小学 ") and "差异系数" in one[2] and one[5] == "人事股" and one[6] == "编办、人社局"
    assert data["4"][6].endswith("各乡镇")  # "各乡镇" is kept as the plan writes it
    assert data["12"][2].startswith("不达标。") and "城关镇第一小学" in data["12"][2]
    assert data["23"][2].startswith("达标。") and "96.2" in data["23"][2]
    assert data["24"][2].startswith("不达标。") and data["24"][5] == "基教股" and "残联" in data["24"][6]
    assert data["8"][2] == "待填报。"

    # printable: A4 landscape, one page wide, wrapped and bordered cells, header repeated
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$3:$3"
    cell = ws.cell(5, 4)
    assert cell.alignment.wrap_text and cell.border.left.style == "thin" and cell.border.bottom.style == "thin"


def test_docx_is_a4_landscape_in_official_fonts(engine, campaign_id, tmp_path):
    with session_scope(engine) as session:
        path = breakdown.write_breakdown_docx(session, session.get(Campaign, campaign_id), tmp_path / "t.docx")
    doc = Document(str(path))
    section = doc.sections[0]
    assert section.page_width > section.page_height
    assert abs(section.page_width.cm - 29.7) < 0.01 and abs(section.page_height.cm - 21.0) < 0.01
    title = doc.paragraphs[0]
    assert title.text == "青川县义务教育优质均衡发展创建任务分解表"
    assert title.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"

    (table,) = doc.tables
    assert [c.text for c in table.rows[0].cells] == list(breakdown.HEADERS)
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    rows = [tuple(c.text for c in r.cells) for r in table.rows[1:]]
    data = _by_code(rows)
    assert list(data) == CODES
    assert "差异系数 0.576（≤0.45）超标" in data["6"][2] and data["6"][5] == "计财股"
    assert data["32"][5] == "督导室" and "各乡镇" in data["32"][6]
    body_run = table.rows[2].cells[1].paragraphs[0].runs[0]
    assert body_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert any(r[0].startswith("二、政府保障程度（15 项指标均要达到要求") for r in rows)


def test_before_any_assessment_the_table_lists_the_plan(engine):
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        table = breakdown.breakdown_table(session, campaign)
        assert [r.code for r in table.rows] == CODES
        assert {r.status for r in table.rows} == {"尚未评估"}
        assert table.rows[0].lead == "人事股" and table.rows[0].deadline == "2027年8月31日"
        assert "尚未评估" in table.subtitle
