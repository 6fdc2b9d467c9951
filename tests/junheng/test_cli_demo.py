"""`junheng demo` and `junheng dispatch` through the real Typer app, with real flow runs."""

from __future__ import annotations

import json

import sqlalchemy as sa
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tracker.campaigns.models import Campaign, Phase, PhaseStatus
from tracker.db import get_engine, session_scope
from tracker.events.models import Event
from tracker.tasks import lifecycle
from tracker.tasks.models import Task

runner = CliRunner()


def _count(url: str, table: str, where: str = "") -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} {where}")).scalar_one()


def test_demo_twice_creates_one_campaign_and_no_second_task(db_url, tmp_path, prefect_harness):
    out = tmp_path / "demo"
    first = runner.invoke(app, ["demo", "--dir", str(out)])
    assert first.exit_code == 0, first.output
    assert "来自 JUNHENG_DATABASE_URL" in first.output
    assert "已建立：青川县" in first.output
    tasks = _count(db_url, "task")
    assert tasks > 0 and f"新建 {tasks} 项" in first.output
    assert "当前阶段" in first.output and "各单位情况" in first.output
    for name in ("任务分解表.xlsx", "任务分解表.docx", "评估结果.json", "评估结果.xlsx"):
        assert (out / f"qingchuan-2027-{name}").stat().st_size > 0
    assessment = json.loads((out / "qingchuan-2027-评估结果.json").read_text(encoding="utf-8"))
    assert assessment["standard"] == "national-2017" and assessment["shortfalls"]

    second = runner.invoke(app, ["demo", "--dir", str(out)])
    assert second.exit_code == 0, second.output
    assert "已存在" in second.output and "新建 0 项" in second.output and f"未变 {tasks} 项" in second.output
    assert _count(db_url, "campaign") == 1
    assert _count(db_url, "task") == tasks
    assert _count(db_url, "event", "WHERE type = 'task.created'") == tasks


def test_demo_keeps_its_database_in_its_directory(tmp_path, monkeypatch, prefect_harness):
    from tracker.settings import get_settings

    monkeypatch.delenv("JUNHENG_DATABASE_URL", raising=False)
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    out = tmp_path / "演示"
    try:
        result = runner.invoke(app, ["demo", "--dir", str(out)])
        assert result.exit_code == 0, result.output
        database = (out / "junheng.db").resolve()
        assert f"数据库：{database}（SQLite 文件）" in result.output
        assert _count(f"sqlite:///{database}", "task") > 0
        assert not (tmp_path / "data" / "junheng.db").exists()
    finally:
        get_engine(f"sqlite:///{(out / 'junheng.db').resolve()}").dispose()
        get_settings.cache_clear()


def test_task_verify_only_records_and_dispatch_passes_the_gate(db_url, prefect_harness):
    with session_scope() as session:
        world = build_world(session)
        office = world.people["王主任"]
        task = world.task(session, "prep-1")
        lifecycle.accept(session, task, office)
        lifecycle.submit(session, task, office, note="已完成")
        task_id, phase_id = task.id, task.phase_id

    verified = runner.invoke(app, ["task", "verify", str(task_id), "--as", "王主任"])
    assert verified.exit_code == 0, verified.output
    with session_scope() as session:
        assert session.get(Task, task_id).status == "已销号"
        # the command recorded its event and returned; no flow ran yet
        assert PhaseStatus(session.get(Phase, phase_id).status) is PhaseStatus.active
        event = session.exec(sa.select(Event).where(Event.type == "task.verified")).scalar_one()
        assert event.dispatched_at is None

    dispatched = runner.invoke(app, ["dispatch", "--once"])
    assert dispatched.exit_code == 0, dispatched.output
    assert "处理事件 1 条：启动流程 1 次" in dispatched.output
    assert "阶段验收" in dispatched.output and "验收通过，下一阶段已启动" in dispatched.output
    with session_scope() as session:
        assert PhaseStatus(session.get(Phase, phase_id).status) is PhaseStatus.passed

    idle = runner.invoke(app, ["dispatch", "--once"])
    assert idle.exit_code == 0 and "没有待处理的事件" in idle.output


def test_dispatch_rejects_a_bad_mode(db_url, monkeypatch):
    monkeypatch.setenv("JUNHENG_PREFECT_MODE", "later")
    result = runner.invoke(app, ["dispatch", "--once"])
    assert result.exit_code == 2
    assert "JUNHENG_PREFECT_MODE 的值「later」无效" in result.stderr
    assert "Traceback" not in result.output
    with session_scope() as session:
        assert session.exec(sa.select(Campaign)).first() is None
