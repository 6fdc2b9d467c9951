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
STANDARD = load_standard("national-2017")
CODES = [i.code for i in STANDARD.indicators]
ALL_CODES = STANDARD.indicator_order()  # indicators, then the application conditions, then the vetoes


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
    assert [c for c in data if c in ALL_CODES] == ALL_CODES  # every indicator, condition, veto, in order

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
    assert [c for c in data if c in ALL_CODES] == ALL_CODES
    assert "差异系数 0.576（≤0.45）超标" in data["6"][2] and data["6"][5] == "计财股"
    assert data["32"][5] == "督导室" and "各乡镇" in data["32"][6]
    body_run = table.rows[2].cells[1].paragraphs[0].runs[0]
    assert body_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert any(r[0].startswith("二、政府保障程度（15 项指标均要达到要求") for r in rows)


def test_before_any_assessment_the_table_lists_the_plan(engine):
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        table = breakdown.breakdown_table(session, campaign)
        assert [r.code for r in table.rows][:len(ALL_CODES)] == ALL_CODES
        assert {r.status for r in table.rows[:len(ALL_CODES)]} == {"尚未评估"}
        assert table.rows[0].lead == "人事股" and table.rows[0].deadline == "2027年8月31日"
        assert "尚未评估" in table.subtitle


def test_every_task_not_withdrawn_is_in_one_row_with_its_supervisor(engine, campaign_id, tmp_path):
    """Issue 12 §8: the table left out 19 of 60 tasks (conditions, vetoes, plan tasks, findings,
    the office's own); now every task not withdrawn is in exactly one row, and 分管领导 is the lead
    unit's supervisor from the plan."""
    import datetime as dt

    from sqlmodel import select

    from tracker.org.models import Department, Person, Phase
    from tracker.tasks import lifecycle
    from tracker.tasks.models import Task, TaskOrigin
    from tracker.tasks.service import create_task

    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        phase = session.exec(select(Phase).where(Phase.campaign_id == campaign_id).order_by(Phase.id)).first()
        finance = session.exec(select(Department).where(Department.campaign_id == campaign_id,
                                                        Department.short_name == "计财股")).one()
        office = session.exec(select(Person).where(Person.campaign_id == campaign_id, Person.name == "韩静")).one()
        day = dt.date(2027, 3, 1)
        made = {}
        for key, origin, indicator in [("e1", TaskOrigin.attestation, "E1"), ("v2", TaskOrigin.attestation, "V2"),
                                       ("prep", TaskOrigin.plan, None), ("finding", TaskOrigin.finding, None),
                                       ("office", TaskOrigin.plan, None), ("gone", TaskOrigin.plan, None),
                                       ("odd", TaskOrigin.finding, "Z9")]:
            made[key] = create_task(session, campaign=campaign, phase=phase, title=f"测试任务 {key}", measures="按要求办理",
                                    origin=origin, origin_key=f"test|{key}", due_on=day, department=finance,
                                    indicator=indicator, today=day)
        lifecycle.withdraw(session, made["gone"], office, "不再需要")
        tasks = session.exec(select(Task).where(Task.campaign_id == campaign_id)).all()
        live = {t.id for t in tasks if t.status != "已撤销"}
        assert len(live) < len(tasks)  # one withdrawn

        table = breakdown.breakdown_table(session, campaign)
        referenced = table.task_ids
        assert len(referenced) == len(live) and set(referenced) == live  # each once, none withdrawn
        assert made["gone"].id not in referenced
        row_of = {i: r for r in table.rows for i in r.task_ids}
        assert row_of[made["e1"].id].code == "E1" and row_of[made["v2"].id].code == "V2"
        for key in ("prep", "finding", "office", "odd"):
            row = row_of[made[key].id]
            assert row.task_ids == [made[key].id] and f"测试任务 {key}" in row.indicator
            assert row.lead == "计财股" and row.supervisor == "杨帆（县教育局副局长）"
        assert row_of[made["prep"].id].indicator.startswith("方案准备工作：")
        assert row_of[made["finding"].id].indicator.startswith("评估反馈问题整改：")
        six = next(r for r in table.rows if r.code == "6")
        assert six.supervisor == "杨帆（县教育局副局长）" and six.lead == "计财股"

        # the files say the same: every task number in the 任务编号 column, once
        xlsx = breakdown.write_breakdown_xlsx(session, campaign, tmp_path / "t.xlsx")
        docx = breakdown.write_breakdown_docx(session, campaign, tmp_path / "t.docx")
    ws = load_workbook(xlsx)["任务分解表"]
    column = breakdown.HEADERS.index("任务编号") + 1
    numbers = [n for r in ws.iter_rows(min_row=4) for n in breakdown.parse_task_numbers(str(r[column - 1].value or ""))]
    assert sorted(numbers) == sorted(live)
    (doc_table,) = Document(str(docx)).tables
    numbers = [n for r in doc_table.rows[1:] for n in breakdown.parse_task_numbers(r.cells[column - 1].text)]
    assert sorted(set(numbers)) == sorted(live) and len(numbers) == len(live)
    supervisor = breakdown.HEADERS.index("分管领导")
    assert any(r.cells[supervisor].text == "杨帆（县教育局副局长）" for r in doc_table.rows[1:])


def test_task_numbers_read_back():
    assert breakdown.task_numbers([7, 3, 8, 9, 10, 12, 13]) == "#3、#7–#10、#12、#13"
    assert breakdown.parse_task_numbers("#3、#7–#10、#12、#13") == [3, 7, 8, 9, 10, 12, 13]
    assert breakdown.task_numbers([]) == "—"


def test_a_cv_just_over_its_limit_does_not_print_as_the_limit():
    from tracker.assessment.shortfalls import distinct_digits

    # the breakdown's "差异系数 …（≤0.45）超标" shows 0.4504, never "0.450（≤0.45）超标"
    assert distinct_digits(0.4504, 0.45) == "0.4504" and distinct_digits(0.4499, 0.45) == "0.4499"
    assert distinct_digits(0.576, 0.45) == "0.576"
