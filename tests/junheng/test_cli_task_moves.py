"""`junheng task extend|approve-extension|refuse-extension|redate|transfer|split|coop-report|chase|
accept-many` through the real Typer app, on the test database (issue 12 §2–3)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from tests.junheng.test_cli_task import events, invoke, status_of
from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.tasks.models import Task, TaskCooperator, TaskExtension


@pytest.fixture
def world_tasks(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with session_scope(engine) as session:
        world = build_world(session)
        finance = world.task(session, "a", unit="财政局", title="落实生均公用经费", due_on=dt.date(2026, 12, 18))
        session.add(TaskCooperator(task_id=finance.id, department_id=world.departments["住建局"].id))
        more = [world.task(session, f"m{i}", unit="财政局", due_on=dt.date(2026, 12, 18)) for i in range(2)]
        housing = world.task(session, "b", unit="住建局", title="新建运动场", due_on=dt.date(2026, 12, 18))
        return {"finance": finance.id, "more": [t.id for t in more], "housing": housing.id}


def due_of(engine, task_id: int) -> dt.date:
    with Session(engine) as s:
        return s.get(Task, task_id).due_on


def test_extension_asked_listed_and_approved(engine, world_tasks):
    t = world_tasks["finance"]
    r = invoke("task", "extend", str(t), "2026-12-31", "--reason", "资金下达推迟", "--as", "王主任")
    assert r.exit_code == 5 and "牵头单位" in r.output  # the office does not ask, it re-dates
    r = invoke("task", "extend", str(t), "2026-12-31", "--reason", "资金下达推迟", "--as", "李科长")
    assert r.exit_code == 0, r.output
    assert "已提交延期申请" in r.output
    with Session(engine) as s:
        ext_id = s.exec(select(TaskExtension.id)).one()
    r = invoke("task", "extensions", str(t))
    assert r.exit_code == 0 and "待审批" in r.output and "资金下达推迟" in r.output
    r = invoke("task", "approve-extension", str(ext_id), "--as", "李科长")
    assert r.exit_code == 5 and "只有领导小组办公室" in r.output
    r = invoke("task", "approve-extension", str(ext_id), "--as", "王主任")
    assert r.exit_code == 0, r.output
    assert due_of(engine, t) == dt.date(2026, 12, 31)
    r = invoke("task", "refuse-extension", str(ext_id), "--reason", "不行", "--as", "王主任")
    assert r.exit_code == 4 and "不能再审批" in r.output
    assert [e for e, _ in events(engine, t)][-2:] == ["task.extension_requested", "task.extension_approved"]


def test_extension_refused(engine, world_tasks):
    t = world_tasks["finance"]
    invoke("task", "extend", str(t), "2026-12-31", "--reason", "资金下达推迟", "--as", "李科长")
    with Session(engine) as s:
        ext_id = s.exec(select(TaskExtension.id)).one()
    r = invoke("task", "refuse-extension", str(ext_id), "--reason", "时间节点不能后延", "--as", "王主任")
    assert r.exit_code == 0, r.output
    assert due_of(engine, t) == dt.date(2026, 12, 18)


def test_redate_and_transfer(engine, world_tasks):
    t = world_tasks["finance"]
    r = invoke("task", "redate", str(t), "2027-01-15", "--reason", "上级调整时间节点", "--as", "李科长")
    assert r.exit_code == 5 and due_of(engine, t) == dt.date(2026, 12, 18)
    r = invoke("task", "redate", str(t), "2027-13-01", "--reason", "x", "--as", "王主任")
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    r = invoke("task", "redate", str(t), "2027-01-15", "--reason", "上级调整时间节点", "--as", "王主任")
    assert r.exit_code == 0 and due_of(engine, t) == dt.date(2027, 1, 15)
    r = invoke("task", "transfer", str(t), "住建", "--reason", "职责调整", "--as", "王主任")
    assert r.exit_code == 0, r.output
    assert "住建局" in r.output and status_of(engine, t) == "待签收"
    r = invoke("task", "transfer", str(t), "无此局", "--reason", "x", "--as", "王主任")
    assert r.exit_code == 2 and "无此局" in r.output
    r = invoke("task", "show", str(t))
    assert "牵头单位 财政局 → 住建局" in r.output and "截止 2026-12-18 → 2027-01-15" in r.output


def test_split_coop_report_chase_and_accept_many(engine, world_tasks):
    t = world_tasks["finance"]
    r = invoke("task", "split", str(t), "--unit", "城关一小", "--unit", "住建局", "--title", "各学校 5 月底前完成",
               "--due", "2026-12-18", "--as", "李科长")
    assert r.exit_code == 0, r.output
    assert "分解为 2 项子任务" in r.output
    with Session(engine) as s:
        assert len(s.exec(select(Task).where(Task.parent_id == t)).all()) == 2
    r = invoke("task", "coop-report", str(t), "60", "--note", "图纸已审", "--as", "张局长")
    assert r.exit_code == 0, r.output
    r = invoke("task", "coop-report", str(t), "60", "--note", "图纸已审", "--as", "李科长")
    assert r.exit_code == 5 and "不是任务" in r.output
    r = invoke("task", "chase", str(t), "住建局", "--note", "请本周内完成", "--as", "王主任")
    assert r.exit_code == 0 and "第 1 次" in r.output, r.output

    ids = [str(i) for i in world_tasks["more"]] + [str(world_tasks["housing"])]
    r = invoke("task", "accept-many", *ids, "--as", "李科长")
    assert r.exit_code == 0, r.output
    assert "已签收 2 项任务" in r.output and f"未能签收 #{world_tasks['housing']}" in r.output
    assert [status_of(engine, i) for i in world_tasks["more"]] == ["已签收", "已签收"]
    assert status_of(engine, world_tasks["housing"]) == "待签收"
