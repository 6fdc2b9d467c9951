"""`junheng task …` and `junheng campaign status` through the real Typer app, on the test database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.tasks.models import Task, TaskOrigin

runner = CliRunner()


@pytest.fixture
def tasks(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that table cells do not wrap
    with session_scope(engine) as session:
        world = build_world(session)
        finance = world.task(session, "a", unit="财政局", title="落实生均公用经费", due_on=dt.date(2026, 12, 4))
        housing = world.task(session, "b", unit="住建局", title="新建运动场", due_on=dt.date(2026, 12, 18))
        school = world.task(session, "c", unit="城关一小", title="补充音乐器材", due_on=dt.date(2026, 12, 11))
        return {"finance": finance.id, "housing": housing.id, "school": school.id}


def invoke(*args: str):
    return runner.invoke(app, list(args))


def events(engine, task_id: int) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(e.type, e.actor) for e in s.exec(select(Event).where(Event.task_id == task_id).order_by(Event.id))]


def status_of(engine, task_id: int) -> str:
    with Session(engine) as s:
        return s.get(Task, task_id).status


def test_list_all_filtered_and_overdue(engine, tasks):
    result = invoke("task", "list", "--today", "2026-12-14")
    assert result.exit_code == 0, result.output
    for text in ("落实生均公用经费", "新建运动场", "补充音乐器材", "财政", "城关一小", "6 个工作日"):
        assert text in result.output, text
    result = invoke("task", "list", "--department", "住建", "--today", "2026-12-14")
    assert result.exit_code == 0, result.output
    assert "新建运动场" in result.output and "落实生均公用经费" not in result.output
    result = invoke("task", "list", "--overdue", "--today", "2026-12-14")
    assert "落实生均公用经费" in result.output and "补充音乐器材" in result.output
    assert "新建运动场" not in result.output
    result = invoke("task", "list", "--status", "已提交")
    assert result.exit_code == 0 and "没有符合条件的任务" in result.output


def test_accept_progress_submit_verify_with_as(engine, tasks):
    task_id = str(tasks["finance"])
    result = invoke("task", "accept", task_id, "--as", "李科长")
    assert result.exit_code == 0, result.output
    assert "已签收" in result.output and "李科长" in result.output
    assert invoke("task", "progress", task_id, "60", "--note", "资金已拨付", "--as", "李科长").exit_code == 0
    assert invoke("task", "submit", task_id, "--note", "已完成", "--as", "李科长").exit_code == 0
    result = invoke("task", "verify", task_id, "--as", "李科长")
    assert result.exit_code == 5 and "只有办公室人员可以销号" in result.stderr  # not allowed
    assert status_of(engine, tasks["finance"]) == "已提交"
    result = invoke("task", "verify", task_id, "--as", "王主任")
    assert result.exit_code == 0, result.output
    assert status_of(engine, tasks["finance"]) == "已销号"
    assert events(engine, tasks["finance"]) == [
        ("task.created", "系统"), ("task.accepted", "李科长"), ("task.progress", "李科长"),
        ("task.submitted", "李科长"), ("task.verified", "王主任")]
    shown = invoke("task", "show", task_id)
    assert shown.exit_code == 0, shown.output
    for text in ("办理记录（北京时间）", "签收", "报告进度", "进度 60%", "资金已拨付", "销号", "王主任", "财政局"):
        assert text in shown.output, text


def test_return_and_withdraw_need_reason_and_office(engine, tasks):
    task_id = str(tasks["housing"])
    assert invoke("task", "accept", task_id, "--as", "张局长").exit_code == 0
    assert invoke("task", "submit", task_id, "--as", "张局长").exit_code == 0
    result = invoke("task", "return", task_id, "--reason", "缺少验收报告", "--as", "王主任")
    assert result.exit_code == 0 and "办理中" in result.output
    result = invoke("task", "withdraw", task_id, "--reason", "  ", "--as", "王主任")
    assert result.exit_code == 2 and "必须说明原因" in result.stderr
    result = invoke("task", "withdraw", task_id, "--reason", "并入其他任务", "--as", "王主任")
    assert result.exit_code == 0
    assert status_of(engine, tasks["housing"]) == "已撤销"


def test_user_errors_exit_with_their_kind_in_chinese_and_change_nothing(engine, tasks):
    """Exit codes by kind (junheng.cli.EXIT_CODE_OF_KIND): 2 bad input, 3 not found, 4 the
    task's state does not allow it, 5 the person may not."""
    task_id = str(tasks["finance"])
    result = invoke("task", "accept", task_id, "--as", "无名氏")
    assert result.exit_code == 3 and "没有「无名氏」" in result.stderr
    assert "Traceback" not in result.output
    assert result.stderr.startswith("错误：")
    result = invoke("task", "accept", task_id, "--as", "张局长")
    assert result.exit_code == 5 and "不是任务" in result.stderr and "财政局" in result.stderr
    result = invoke("task", "accept", "9999", "--as", "王主任")
    assert result.exit_code == 3 and "没有编号为 #9999 的任务" in result.stderr
    result = invoke("task", "progress", task_id, "40", "--as", "李科长")
    assert result.exit_code == 4 and "当前状态为「待签收」，不能报告进度" in result.stderr
    result = invoke("task", "list", "--status", "完成")
    assert result.exit_code == 2 and "任务状态「完成」无效" in result.stderr
    result = invoke("task", "list", "--department", "教育厅")
    assert result.exit_code == 3 and "没有单位「教育厅」" in result.stderr
    assert events(engine, tasks["finance"]) == [("task.created", "系统")]


def test_school_contact_accepts_school_task(engine, tasks):
    result = invoke("task", "accept", str(tasks["school"]), "--as", "赵校长")
    assert result.exit_code == 0, result.output
    assert status_of(engine, tasks["school"]) == "已签收"


def test_campaign_status_json_and_table(engine, tasks):
    assert invoke("task", "accept", str(tasks["finance"]), "--as", "李科长").exit_code == 0
    result = invoke("campaign", "status", "--json", "--today", "2026-12-14")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["campaign"] == "demo" and figures["phase"] == "自查自评"
    assert figures["gate_date"] == "2026-12-23"
    assert figures["tasks"] == {"total": 3, "overdue": 2, "by_status": {
        "待签收": 2, "已签收": 1, "办理中": 0, "已提交": 0, "已销号": 0, "已撤销": 0}}
    assert {"name": "城关一小", "total": 1, "done": 0, "overdue": 1} in figures["departments"]
    table = invoke("campaign", "status", "--today", "2026-12-14")
    assert table.exit_code == 0, table.output
    for text in ("当前阶段：自查自评", "关口 2026-12-23（还有 7 个工作日）", "任务共 3 项", "逾期 2", "住建局"):
        assert text in table.output, text


def test_status_with_two_campaigns_needs_campaign(engine, tasks):
    with session_scope(engine) as session:
        build_world(session, code="second")
    result = invoke("campaign", "status", "--json")
    assert result.exit_code == 2 and "--campaign" in result.stderr
    result = invoke("campaign", "status", "--json", "--campaign", "second", "--today", "2026-12-14")
    assert result.exit_code == 0 and json.loads(result.stdout)["tasks"]["total"] == 0
    result = invoke("campaign", "status", "--today", "2026-13-01", "--campaign", "second")
    assert result.exit_code == 2 and "--today 的日期「2026-13-01」无效" in result.stderr


def test_the_office_sees_who_has_not_signed_how_long_and_how_often_reminded(engine, monkeypatch, tmp_path):
    """`task list --status 待签收`: each unsigned task with the working days since it was assigned
    and the 签收提醒 that went out (the delivery log, through a real local mail sink)."""
    import time_machine

    from tests.tracker.reminders.conftest import add_ladder_people
    from tracker.calendar import CHINA, reset_active_calendar
    from tracker.settings import get_settings
    from tracker.tasks.service import create_task

    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("JUNHENG_SMTP_HOST", raising=False)
    monkeypatch.setenv("JUNHENG_MAIL_SINK_DIR", str(tmp_path / "sink"))
    get_settings.cache_clear()
    reset_active_calendar()
    try:
        with session_scope(engine) as session:
            world = add_ladder_people(session, build_world(session))
            with time_machine.travel(dt.datetime(2026, 9, 24, 10, 0, tzinfo=CHINA), tick=False):
                for key, unit in (("P1", "财政局"), ("P2", "住建局")):
                    create_task(session, campaign=world.campaign, phase=world.phases["self_check"],
                                title=f"落实创建经费 {key}", measures="", origin=TaskOrigin.plan, origin_key=key,
                                due_on=dt.date(2026, 10, 12), department=world.departments[unit])
        with time_machine.travel(dt.datetime(2026, 9, 24, 10, 5, tzinfo=CHINA), tick=False):
            late = create_task_later(engine, world)
        for moment in ("2026-09-24T10:05", "2026-09-28T09:00"):  # 交办单; 签收提醒 1 (9-25 is 中秋)
            result = invoke("sweep", "--now", moment, "--campaign", "demo")
            assert result.exit_code == 0, result.output
            assert "发出" in result.output
        assert invoke("task", "accept", str(late), "--as", "李科长").exit_code == 0

        result = invoke("task", "list", "--status", "待签收", "--today", "2026-09-29")
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "未签收的任务 2 项，涉及 2 个单位" in out
        assert "落实创建经费 P1" in out and "落实创建经费 P2" in out and "已签收任务" not in out
        assert out.count("已交办 2 个工作日，已催签 1 次") == 2
    finally:
        get_settings.cache_clear()
        reset_active_calendar()


def create_task_later(engine, world) -> int:
    """A task signed at once: not in the list of unsigned work."""
    from tracker.tasks.service import create_task

    with session_scope(engine) as session:
        task = create_task(session, campaign=session.merge(world.campaign), phase=session.merge(world.phases["self_check"]),
                           title="已签收任务", measures="", origin=TaskOrigin.plan, origin_key="P3",
                           due_on=dt.date(2026, 10, 12), department=session.merge(world.departments["财政局"]))
        return task.id
