"""`junheng data|selfcheck|reassess|county-input|review|export` through the real Typer app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from junheng.cli import app
from tracker.db import get_engine
from tracker.events.models import Event
from tracker.reviews.models import Review
from tracker.schooldata.models import DataSubmission
from tracker.tasks.models import Task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")


def invoke(*args: str):
    return runner.invoke(app, list(args))


def _count(db_url: str, model, *where) -> int:
    with Session(get_engine(db_url)) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def campaign(db_url):
    result = invoke("campaign", "init", str(EXAMPLES / "plan.yaml"))
    assert result.exit_code == 0, result.output
    return db_url


def test_selfcheck_twice_then_reassess_after_county_input(campaign):
    result = invoke("selfcheck", str(EXAMPLES / "schools.xlsx"), "--as", "韩静")
    assert result.exit_code == 0, result.output
    assert "40 所学校" in result.output and "资源配置 不达标" in result.output
    plan_tasks = _count(campaign, Task, Task.origin == "plan")  # made by campaign init (issue 12)
    created = _count(campaign, Task) - plan_tasks
    assert f"新建 {created} 项" in result.output and f"未变 {plan_tasks} 项" in result.output

    again = invoke("selfcheck", str(EXAMPLES / "schools.xlsx"))
    assert again.exit_code == 0 and "新建 0 项" in again.output and f"未变 {created + plan_tasks} 项" in again.output

    result = invoke("county-input", "set", "23", "93", "--note", "2026 年统计", "--as", "韩静")
    assert result.exit_code == 0, result.output
    assert "已录入 23 = 93" in result.output
    result = invoke("reassess")
    assert result.exit_code == 0, result.output
    assert "新建 1 项" in result.output and _count(campaign, Task) == created + plan_tasks + 1
    listing = invoke("county-input", "list")
    assert "23" in listing.output and "2026 年统计" in listing.output

    listing = invoke("data", "list")
    assert listing.exit_code == 0 and "schools.xlsx" in listing.output and "韩静" in listing.output


def test_user_errors_are_chinese_with_exit_code_2(campaign, tmp_path):
    wb = load_workbook(EXAMPLES / "schools.xlsx")
    ws = wb["学校"] if "学校" in wb.sheetnames else wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    ws.cell(2, headers.index("小学在校生数") + 1, "很多")
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)

    result = invoke("selfcheck", str(bad))
    assert result.exit_code == 2 and "第 2 行" in result.stderr and "小学在校生数" in result.stderr
    assert "Traceback" not in result.output and _count(campaign, DataSubmission) == 0
    assert _count(campaign, Task, Task.origin != "plan") == 0  # only the plan's, from campaign init
    result = invoke("data", "import", str(EXAMPLES / "schools.xlsx"), "--as", "无名氏")
    assert result.exit_code == 3 and "没有「无名氏」" in result.stderr  # not found
    result = invoke("reassess")
    assert result.exit_code == 2 and "还没有导入学校数据" in result.stderr
    result = invoke("county-input", "set", "8", "96", "--as", "韩静")
    assert result.exit_code == 2 and "认定类指标" in result.stderr
    result = invoke("review", "verdict", "99", "通过", "--as", "韩静")
    assert result.exit_code == 3 and "没有编号为 #99 的评估" in result.stderr


def test_import_then_reassess_with_a_file(campaign):
    result = invoke("data", "import", str(EXAMPLES / "schools.xlsx"), "--label", "自查", "--as", "苏晓")
    assert result.exit_code == 0 and "第 1 批数据：40 所学校" in result.output
    plan_tasks = _count(campaign, Task)  # the plan's, from campaign init (issue 12)
    assert _count(campaign, Task, Task.origin != "plan") == 0  # importing alone makes no tasks
    result = invoke("reassess", str(EXAMPLES / "schools.xlsx"))
    assert result.exit_code == 0 and "第 2 批数据" in result.output and _count(campaign, Task) > plan_tasks
    # `data import` leaves its event for the dispatcher (a re-assessment follows); `reassess FILE`
    # assessed its batch itself, so its event is written already dispatched.
    imported = Event.type == "submission.imported"
    assert _count(campaign, Event, imported, Event.dispatched_at.is_(None)) == 1
    assert _count(campaign, Event, imported, Event.dispatched_at.is_not(None)) == 1


def test_review_open_verdict_findings(campaign, tmp_path):
    assert invoke("selfcheck", str(EXAMPLES / "schools.xlsx")).exit_code == 0
    result = invoke("review", "open", "市级", "--date", "2027-05-20", "--as", "韩静")
    assert result.exit_code == 0, result.output
    assert "评估 #1：市级" in result.output and "市级复评" in result.output
    result = invoke("review", "findings", "1", str(EXAMPLES / "findings.xlsx"), "--as", "韩静")
    assert result.exit_code == 0, result.output
    assert "8 个反馈问题" in result.output and "截止 2027-08-31" in result.output
    assert _count(campaign, Task, Task.origin == "finding") == 8
    result = invoke("review", "verdict", "1", "通过", "--as", "韩静")
    assert result.exit_code == 0 and "结论：通过" in result.output
    with Session(get_engine(campaign)) as session:
        assert session.get(Review, 1).recorded_by == "韩静"
    listing = invoke("review", "list")
    assert "通过" in listing.output and "8" in listing.output

    bad = tmp_path / "bad.csv"
    bad.write_text("序号,问题,指标,责任单位,整改时限\n1,问题,5,水利局,2027-06-30\n", encoding="utf-8")
    invoke("review", "open", "省级", "--as", "韩静")
    result = invoke("review", "findings", "2", str(bad), "--as", "韩静")
    assert result.exit_code == 2 and "第 2 行「责任单位」：未知单位「水利局」" in result.stderr
    assert _count(campaign, Task, Task.origin == "finding") == 8


def test_export_breakdown(campaign, tmp_path):
    assert invoke("selfcheck", str(EXAMPLES / "schools.xlsx")).exit_code == 0
    xlsx, docx = tmp_path / "分解表.xlsx", tmp_path / "分解表.docx"
    result = invoke("export", "breakdown", "--xlsx", str(xlsx), "--docx", str(docx))
    assert result.exit_code == 0, result.output
    assert xlsx.stat().st_size > 0 and docx.stat().st_size > 0
    result = invoke("export", "breakdown", "--xlsx", str(tmp_path / "nope" / "t.xlsx"))
    assert result.exit_code == 2 and "目录不存在" in result.stderr


# ---------------------------------------------------------------------------------------------
# No task is born overdue (issue 9): the office is told which tasks were re-dated

CHINA = ZoneInfo("Asia/Shanghai")


def test_campaign_init_lists_the_plan_tasks_created_after_their_plan_date(db_url):
    # Monday 12-07: the plan's 学习培训 (P01) was due Friday 12-04; campaign init makes the plan's
    # tasks (issue 12), so it is there that P01 is re-dated and listed
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=CHINA), tick=True):
        result = invoke("campaign", "init", str(EXAMPLES / "plan.yaml"))
    assert result.exit_code == 0, result.output
    assert "已按方案交办准备工作任务 8 项" in result.output
    [line] = [line for line in result.output.splitlines() if "学习培训" in line]
    with Session(get_engine(db_url)) as session:
        task = session.exec(select(Task).where(Task.origin_key == "plan|P01")).one()
    assert line.strip() == f"• 任务 #{task.id}「学习培训」原定时限 2026-12-04 已过，办理时限顺延至 2026-12-14"
    assert (task.planned_due_on, task.due_on) == (dt.date(2026, 12, 4), dt.date(2026, 12, 14))


@pytest.mark.parametrize("command", ["selfcheck", "reassess"])
def test_the_self_check_lists_the_tasks_created_after_their_plan_date(campaign, command):
    # Tuesday 2027-01-05: the 整改 phase's attestations fall due at the 自查自评 gate (2026-12-31),
    # which has passed when the self-check creates them. The clock ticks from 10:00 (the date
    # stays): Prefect's own server refuses two states of a task run at the same instant
    with time_machine.travel(dt.datetime(2027, 1, 5, 10, 0, tzinfo=CHINA), tick=True):
        result = invoke(command, str(EXAMPLES / "schools.xlsx"), "--as", "韩静")
    assert result.exit_code == 0, result.output
    assert "项任务建立时原定时限已过，未计为逾期，办理时限已顺延：" in result.output
    with Session(get_engine(campaign)) as session:
        redated = session.exec(select(Task).where(Task.planned_due_on.is_not(None), Task.origin != "plan")).all()
    assert redated
    for task in redated:
        assert f"#{task.id} " in result.output and task.due_on > dt.date(2027, 1, 5)


def test_review_findings_past_their_deadline_are_listed(campaign, tmp_path):
    sheet = tmp_path / "反馈问题.csv"
    sheet.write_text("序号,问题,指标,责任单位,整改时限\n"
                     "1,部分学校音乐专用教室面积不足,10,计财股,2026-09-25\n"
                     "2,农村学校体育艺术专任教师不足,3,人事股、基教股,2026-10-30\n", encoding="utf-8")
    with time_machine.travel(dt.datetime(2026, 9, 30, 10, 0, tzinfo=CHINA), tick=False):
        assert invoke("review", "open", "市级", "--as", "韩静").exit_code == 0
        result = invoke("review", "findings", "1", str(sheet), "--as", "韩静")
    assert result.exit_code == 0, result.output
    assert "原定整改时限 2026-09-25 已过，已顺延" in result.output
    assert "注意：1 项任务建立时原定时限已过，未计为逾期，办理时限已顺延：" in result.output
    assert "原定时限 2026-09-25 → 2026-10-13（顺延 5 个工作日）" in result.output  # 国庆 skipped
    assert "截止 2026-10-30）" in result.output


def test_a_dispatched_reassessment_names_the_re_dated_tasks():
    from junheng.cli.dispatch import describe_result

    result = {"submission_id": 3, "assessment_id": 4, "created": 2, "resolved": 0, "reopened": 0, "unchanged": 9,
              "redated": [{"task_id": 61, "title": "【指标8】…", "planned_due_on": "2026-12-23",
                           "due_on": "2026-12-31", "working_days": 5}]}
    assert describe_result("reassessment", result) == (
        "新建任务 2 项，数据已达标 0 项，重新打开 0 项，未变 9 项；其中 1 项建立时原定时限已过，已顺延（#61 2026-12-23 → 2026-12-31）")
    assert describe_result("reassessment", {**result, "redated": []}).endswith("未变 9 项")
