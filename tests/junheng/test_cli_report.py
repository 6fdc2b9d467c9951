"""`junheng report`: the 自评报告 and the 申报表 against the stored assessment and the data (issue 13 §1–2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session, select
from typer.testing import CliRunner

from junheng.cli import app
from tracker.assessment.models import AssessmentSnapshot
from tracker.assessment.report import official_round
from tracker.db import get_engine
from tracker.org.models import Campaign
from tracker.reports.models import ReportText
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.submissions import records_of
from tracker.tasks.models import Task, TaskStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()
OPEN = {TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.submitted}


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def assessed(db_url):
    assert invoke("campaign", "init", str(EXAMPLES / "plan.yaml")).exit_code == 0
    result = invoke("selfcheck", str(EXAMPLES / "schools.xlsx"), "--as", "韩静")
    assert result.exit_code == 0, result.output
    return db_url


def _stored(db_url):
    with Session(get_engine(db_url)) as session:
        snapshot = session.exec(select(AssessmentSnapshot).order_by(AssessmentSnapshot.id.desc())).first()
        records = records_of(session, session.get(DataSubmission, snapshot.submission_id))
        tasks = list(session.exec(select(Task)))
        return snapshot.result, records, tasks


def _table(doc, first_headers: list[str]):
    for table in doc.tables:
        if [c.text for c in table.rows[0].cells[:len(first_headers)]] == first_headers:
            return table
    raise AssertionError(f"no table headed {first_headers}")


def _r(value, digits):
    return "—" if value is None else f"{official_round(value, digits):.{digits}f}"


def test_every_figure_of_the_self_evaluation_is_the_assessments(assessed, tmp_path):
    result = invoke("report", "self-evaluation", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "待填写的部分：基本情况、主要做法" in result.output
    stored, records, tasks = _stored(assessed)
    doc = Document(str(next(tmp_path.glob("*-自评报告.docx"))))
    text = "\n".join(p.text for p in doc.paragraphs)
    for heading in ("一、基本情况", "二、主要做法", "三、指标达成情况", "四、存在问题与整改计划", "附件"):
        assert heading in text
    # 基本情况: pupils and teachers by stage, from the rows the assessment read
    primary = round(sum(r.primary_students for r in records))
    junior = round(sum(r.junior_students for r in records))
    assert f"小学在校生{primary}人，初中在校生{junior}人" in text
    assert f"评估所用数据共有学校（含教学点、特殊教育学校）{len(records)}所" in text
    teachers = _table(doc, ["学段", "高于规定学历教师（人）"])
    assert [c.text for c in teachers.rows[1].cells] == [
        "小学", str(round(sum(r.primary_qualified_teachers for r in records))),
        str(round(sum(r.primary_backbone_teachers for r in records))),
        str(round(sum(r.primary_pe_art_teachers for r in records)))]
    for stage, name in (("primary", "小学"), ("junior", "初中")):
        schools = stored["stages"][stage]["schools"]
        assert f"{name}{len(schools)}所（校区）、在校生{round(sum(s['students'] for s in schools))}人" in text
        assert f"{name}{len(schools)}所（校区）中，{sum(1 for s in schools if s['ok'])}所达到每校指标要求" in text
    # 指标达成情况: every indicator and stage, value, standard, CV and verdict
    table = _table(doc, ["指标", "学段", "标准值", "县域均值", "达标校数"])
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    expected = []
    rounding = stored["rounding"]
    first = next(iter(stored["stages"].values()))
    for code in first["indicators"]:
        for stage, body in stored["stages"].items():
            ind = body["indicators"][code]
            expected.append([{"primary": "小学", "junior": "初中"}[stage], f"{ind['threshold']:g}",
                             _r(ind["county_value"], rounding["county_value"]),
                             f"{ind['sections'] - ind['schools_below']}/{ind['sections']}",
                             _r(ind["cv"], rounding["cv"]), f"≤{ind['cv_limit']:.2f}",
                             {True: "达标", False: "未达标", None: "无法判定"}[ind["cv_ok"]]])
    assert [r[1:] for r in rows] == expected
    # county-level items, conditions and vetoes: every one, with its status
    county = _table(doc, ["方面", "指标", "填报值"])
    conditions = _table(doc, ["类别", "事项", "认定结果"])
    listed = [r.cells[1].text.split(".")[0] for r in county.rows[1:]] + \
             [r.cells[1].text.split(".")[0] for r in conditions.rows[1:]]
    assert listed == [c["code"] for c in stored["county"]]
    # 存在问题: the open tasks with their units and dates, and the shortfall count
    open_tasks = [t for t in tasks if t.status in OPEN]
    assert f"本次评估共发现问题{len(stored['shortfalls'])}项" in text
    assert f"尚未办结的整改任务{len(open_tasks)}项" in text
    listed = _table(doc, ["序号", "整改任务", "责任单位", "完成时限"])
    assert len(listed.rows) - 1 == len(open_tasks)
    first_task = min(open_tasks, key=lambda t: (t.due_on, t.id))
    assert listed.rows[1].cells[1].text == first_task.title
    assert listed.rows[1].cells[3].text == f"{first_task.due_on.year}年{first_task.due_on.month}月{first_task.due_on.day}日"
    assert f"共建立整改任务{len(tasks)}项" in text
    # 附件: 表Ⅱ-2 one row per school section, its values as the official table rounds them
    sections = _table(doc, ["学校", "学段", "在校生"])
    assert len(sections.rows) - 1 == sum(len(b["schools"]) for b in stored["stages"].values())
    school = stored["stages"]["primary"]["schools"][0]
    assert [c.text for c in sections.rows[1].cells[3:3 + len(school["values"])]] == [
        _r(v, rounding["school_value"]) for v in school["values"].values()]
    problems = _table(doc, ["序号", "指标", "学段", "学校", "问题及需求"])
    assert len(problems.rows) - 1 == len(stored["shortfalls"])
    # nothing the office did not write: the narrative is a visible placeholder
    assert text.count("【待填写】") >= 5


def test_the_offices_text_is_merged_and_can_be_cleared(assessed, tmp_path):
    words = tmp_path / "做法.txt"
    words.write_text("一是高位推动，县政府常务会议专题研究。\n二是加大投入。\n", encoding="utf-8")
    result = invoke("report", "text", "主要做法", "--file", str(words))
    assert result.exit_code == 0, result.output
    assert invoke("report", "self-evaluation", "--out", str(tmp_path / "a")).exit_code == 0
    text = "\n".join(p.text for p in Document(str(next((tmp_path / "a").glob("*.docx")))).paragraphs)
    assert "一是高位推动，县政府常务会议专题研究。" in text and "二是加大投入。" in text
    shown = invoke("report", "text", "主要做法")
    assert "一是高位推动" in shown.output
    assert invoke("report", "text", "主要做法", "--clear").exit_code == 0
    with Session(get_engine(assessed)) as session:
        assert session.exec(select(ReportText)).all() == []


def test_bad_texts_are_refused_in_chinese_and_nothing_is_stored(assessed, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    result = invoke("report", "text", "主要做法", "--file", str(empty))
    assert result.exit_code == 2 and "「主要做法」的文字不能为空" in result.output
    result = invoke("report", "text", "结束语", "--file", str(empty))
    assert result.exit_code == 2 and "没有「结束语」这一部分" in result.output
    with Session(get_engine(assessed)) as session:
        assert session.exec(select(ReportText)).all() == []


def test_no_assessment_yet_is_a_clear_error(db_url, tmp_path):
    assert invoke("campaign", "init", str(EXAMPLES / "plan.yaml")).exit_code == 0
    result = invoke("report", "self-evaluation", "--out", str(tmp_path))
    assert result.exit_code == 3 and "还没有评估结果" in result.output


def test_the_application_forms_cells_are_the_datas(assessed, tmp_path):
    result = invoke("report", "application", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    stored, records, _ = _stored(assessed)
    wb = load_workbook(next(tmp_path.glob("*-申报表.xlsx")))
    ws = wb["表Ⅰ基本情况"]
    by_code = {ws.cell(row=4, column=c).value: ws.cell(row=5, column=c).value for c in range(2, ws.max_column + 1)}
    types = [r.school_type for r in records]
    assert by_code["L9"] == str(types.count("小学"))
    assert by_code["L10"] == str(types.count("九年一贯制") + types.count("十二年一贯制"))
    assert by_code["L11"] == str(types.count("初中"))
    assert by_code["L12"] == str(types.count("完全中学"))
    assert by_code["L14"] == str(types.count("教学点"))
    assert by_code["L17"] == str(round(sum(r.primary_students for r in records)))
    assert by_code["L18"] == str(round(sum(r.junior_students for r in records)))
    classes = [r.primary_classes for r in records if r.primary_students]
    assert by_code["L15"] == ("【待填写】" if any(c is None for c in classes) else str(round(sum(classes))))
    for code in ("L1", "L2", "L5", "L8", "L19", "L22"):  # what the data cannot give: for the office
        assert by_code[code] == "【待填写】"
    assert ws.cell(row=5, column=2).fill.fgColor.rgb.endswith("FFF2CC")
    ws = wb["表Ⅱ资源配置"]
    rounding = stored["rounding"]
    code = next(iter(stored["stages"]["primary"]["indicators"]))
    ind = stored["stages"]["primary"]["indicators"][code]
    assert ws.cell(row=3, column=2).value == "小学"
    assert ws.cell(row=3, column=4).value == _r(ind["county_value"], rounding["county_value"])
    assert ws.cell(row=3, column=5).value == _r(ind["cv"], rounding["cv"])
    ws = wb["表Ⅳ申报条件和否决事项"]
    items = [c for c in stored["county"] if c["kind"] in ("condition", "veto")]
    assert [ws.cell(row=3 + n, column=2).value.split(".")[0] for n in range(len(items))] == [c["code"] for c in items]
    with Session(get_engine(assessed)) as session:
        assert wb["封面"]["B3"].value == session.exec(select(Campaign)).one().county
    doc = Document(str(next(tmp_path.glob("*-申报表.docx"))))
    basic = _table(doc, ["栏号", "类别", "项目", "全县总计"])
    docx_cells = {r.cells[0].text: r.cells[3].text for r in basic.rows[1:]}
    assert docx_cells == by_code


def test_the_report_is_in_the_official_style(assessed, tmp_path):
    """GB/T 9704 as the briefing: A4, margins 37/35/28/26 mm, 方正小标宋简体 title, 仿宋_GB2312 body."""
    assert invoke("report", "self-evaluation", "--out", str(tmp_path)).exit_code == 0
    doc = Document(str(next(tmp_path.glob("*.docx"))))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [37, 35, 28, 26]
    fonts = {p.text: p.runs[0]._element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") for p in doc.paragraphs if p.runs}
    assert fonts["青川县义务教育优质均衡发展督导评估自评报告"] == "方正小标宋简体"
    assert fonts["一、基本情况"] == "黑体" and fonts["（一）组织领导"] == "楷体_GB2312"
    assert fonts["【待填写】"] == "仿宋_GB2312"


def test_a_hunan_campaign_reports_its_scoring(db_url, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text((EXAMPLES / "plan.yaml").read_text(encoding="utf-8").replace(
        "标准: national-2017 ", "标准: hunan-2023    ", 1), encoding="utf-8")
    assert invoke("campaign", "init", str(plan)).exit_code == 0
    assert invoke("selfcheck", str(EXAMPLES / "schools.xlsx")).exit_code == 0
    assert invoke("report", "self-evaluation", "--out", str(tmp_path)).exit_code == 0
    stored, _, _ = _stored(db_url)
    assert stored["standard"] == "hunan-2023" and stored["scoring"]["total"] is None  # nothing scored yet
    text = "\n".join(p.text for p in Document(str(next(tmp_path.glob("*-自评报告.docx")))).paragraphs)
    assert f"计分项目尚未全部计分（合格线{stored['scoring']['pass_total']:g}分），尚不能判定。" in text
    county = _table(Document(str(next(tmp_path.glob("*-自评报告.docx")))), ["方面", "指标", "填报值"])
    assert len(county.rows) - 1 == sum(1 for c in stored["county"] if c["kind"] not in ("condition", "veto"))


def test_the_appendix_tables_are_written_only_as_the_assessment_made_them(assessed, tmp_path):
    result = invoke("report", "self-evaluation", "--out", str(tmp_path / "a"))
    assert "自评报告附件-数据表.xlsx（表Ⅱ-2、表Ⅲ、问题清单）" in result.output
    stored, _, _ = _stored(assessed)
    wb = load_workbook(next((tmp_path / "a").glob("*-数据表.xlsx")))
    assert wb.sheetnames == ["表Ⅱ-2", "表Ⅲ", "问题清单"]
    first = next(iter(stored["stages"]["primary"]["indicators"].values()))
    assert wb["表Ⅲ"].cell(row=3, column=5).value == official_round(first["cv"], stored["rounding"]["cv"])
    assert wb["问题清单"].max_row - 2 == len(stored["shortfalls"])
    # a county input entered after the assessment: the engine would now say otherwise, so no file
    assert invoke("county-input", "set", "23", "93", "--as", "韩静").exit_code == 0
    result = invoke("report", "self-evaluation", "--out", str(tmp_path / "b"))
    assert result.exit_code == 0 and "请先运行 junheng reassess" in result.output
    assert not list((tmp_path / "b").glob("*-数据表.xlsx"))
