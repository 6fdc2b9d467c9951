"""`junheng phase list|summary|runs` and `junheng gate check [PHASE]` through the real Typer app."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from docx import Document
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.tasks import lifecycle

runner = CliRunner()
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def county(engine, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    with session_scope(engine) as session:
        world = build_world(session)
        office = world.people["王主任"]
        for n in range(2):
            task = world.task(session, f"t{n}")
            lifecycle.accept(session, task, office)
            lifecycle.submit(session, task, office, note="已完成")
            lifecycle.verify(session, task, office)
        return {code: p.id for code, p in world.phases.items()}


def invoke(*args: str):
    with time_machine.travel(NOW, tick=True):
        return runner.invoke(app, list(args))


def test_phase_list_shows_the_ids(county):
    result = invoke("phase", "list")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "自查自评" in line)
    assert str(county["self_check"]) in line and "进行中" in line
    assert invoke("campaign", "phases").output == result.output


def test_gate_check_passes_writes_the_summary_and_starts_the_next_phase(county, tmp_path, prefect_harness):
    result = invoke("gate", "check", "自查自评")
    assert result.exit_code == 0, result.output
    assert "✓ 阶段「自查自评」验收通过，下一阶段已启动" in result.output
    assert "阶段小结已写成" in result.output
    assert "✓ 整改阶段「整改」" in result.output and "阶段部署通知" in result.output  # the next phase's flow ran

    out = tmp_path / "小结.docx"
    result = invoke("phase", "summary", str(county["self_check"]), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert any("阶段小结" in p.text for p in Document(str(out)).paragraphs)
    assert "phase-rectification/demo-整改" in invoke("phase", "runs").output

    again = invoke("gate", "check", "自查自评")
    assert "此前已通过" in again.output


def test_gate_check_names_a_phase_that_is_not_there(county):
    result = invoke("gate", "check", "不存在")
    assert result.exit_code == 3
    assert "没有阶段「不存在」" in result.output and "自查自评" in result.output
