"""`junheng sweep` through the real Typer app: a rehearsal (--now --dry-run) lists and writes
nothing; a real run queues, composes and warns when its time is not the present."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tests.tracker.reminders.conftest import add_ladder_people
from tracker.calendar import CHINA, reset_active_calendar
from tracker.notices.models import NoticeItem, OutboundMessage
from tracker.tasks.models import TaskOrigin
from tracker.tasks.service import create_task

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_and_fresh(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    reset_active_calendar()
    yield
    reset_active_calendar()


@pytest.fixture
def task_id(engine) -> int:
    with Session(engine) as session:
        world = add_ladder_people(session, build_world(session))
        with time_machine.travel(dt.datetime(2026, 9, 24, 10, 0, tzinfo=CHINA), tick=False):
            task = create_task(session, campaign=world.campaign, phase=world.phases["self_check"],
                               title="落实创建经费", measures="", origin=TaskOrigin.plan, origin_key="P1",
                               due_on=dt.date(2026, 10, 12), department=world.departments["财政局"])
        session.commit()
        return task.id


def count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_rehearsal_lists_what_would_go_out_and_writes_nothing(engine, task_id):
    result = runner.invoke(app, ["sweep", "--now", "2026-10-14T09:00", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "试运行（未写入、未发送）：2026-10-14 09:00" in out
    for text in ("落实创建经费（财政局）", "任务交办单", "催办通知 1", "李科长 <li@example.cn>", "钱局长", "红"):
        assert text in out, text
    assert "记录为已发送" not in result.output
    assert count(engine, NoticeItem) == 0


def test_a_real_run_at_another_time_warns_queues_and_composes(engine, task_id):
    result = runner.invoke(app, ["sweep", "--now", "2026-09-24T10:05"])
    assert result.exit_code == 0, result.output
    assert "记录为已发送" in result.stderr
    assert "新排队通知 1 条" in result.stdout  # the 交办单 to 李科长 (住建局 does not cooperate here)
    assert count(engine, NoticeItem) == 1
    assert count(engine, OutboundMessage) == 1  # composed; sent once a mail server is configured
    assert "未配置邮件服务器" in result.stderr

    again = runner.invoke(app, ["sweep", "--now", "2026-09-24T10:05"])
    assert again.exit_code == 0 and "到了提醒时间的任务 0 项" in again.stdout
    assert count(engine, NoticeItem) == 1


@pytest.mark.parametrize(("args", "message", "code"), [
    (["sweep", "--now", "下周一"], "无法识别", 2),
    (["sweep", "--campaign", "nope", "--dry-run"], "nope", 3),  # not found
    (["sweep", "--rescan", "--dry-run"], "不能与 --dry-run 同用", 2),
])
def test_bad_input_is_a_chinese_error(db_url, args, message, code):
    result = runner.invoke(app, args)
    assert result.exit_code == code
    assert message in result.stderr and "Traceback" not in result.output
