"""Changes that move many reminder ladders at once — new 提醒 settings in the plan, an imported
holiday notice — mark every open task for the sweep to work out again; closed tasks stay as they
are. Through the real Typer app, on the fixture's database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from typer.testing import CliRunner

from junheng.cli import app
from tracker.calendar import reset_active_calendar
from tracker.db import get_engine, session_scope
from tracker.org.models import Campaign, Department, Phase
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.tasks.service import create_task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _library_calendar():
    reset_active_calendar()
    yield
    reset_active_calendar()


def _campaign_with_tasks(db_url: str) -> tuple[int, int]:
    """The example campaign with one open and one verified task, both already swept (nothing
    more owed: next_reminder_at empty). Returns (open id, closed id)."""
    result = runner.invoke(app, ["campaign", "init", str(EXAMPLES / "plan.yaml")])
    assert result.exit_code == 0, result.output
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        campaign = session.exec(select(Campaign)).one()
        phase = session.exec(select(Phase).where(Phase.code == "rectification")).one()
        finance = session.exec(select(Department).where(Department.short_name == "财政局")).one()
        ids = []
        for key in ("open", "closed"):
            task = create_task(session, campaign=campaign, phase=phase, title=f"落实经费（{key}）", measures="",
                               origin=TaskOrigin.plan, origin_key=f"test|{key}", due_on=dt.date(2027, 3, 31),
                               department=finance)
            ids.append(task.id)
        session.execute(update(Task).values(next_reminder_at=None))
        session.execute(update(Task).where(Task.id == ids[1]).values(status=TaskStatus.verified.value))
    return ids[0], ids[1]


def _next_reminders(db_url: str, *ids: int) -> list[dt.datetime | None]:
    with Session(get_engine(db_url)) as session:
        return [session.get(Task, i).next_reminder_at for i in ids]


def test_new_reminder_settings_in_the_plan_mark_open_tasks_for_the_sweep(db_url, tmp_path):
    open_id, closed_id = _campaign_with_tasks(db_url)

    # another change (an e-mail) leaves the ladders alone
    other = tmp_path / "other.yaml"
    other.write_text((EXAMPLES / "plan.yaml").read_text(encoding="utf-8").replace("liting@jyj", "li.ting@jyj"),
                     encoding="utf-8")
    result = runner.invoke(app, ["campaign", "init", str(other)])
    assert result.exit_code == 0, result.output
    assert "提醒设置有变化" not in result.output
    assert _next_reminders(db_url, open_id, closed_id) == [None, None]

    changed = tmp_path / "plan.yaml"
    text = other.read_text(encoding="utf-8")
    assert "  催办间隔工作日: 2 " in text
    changed.write_text(text.replace("  催办间隔工作日: 2 ", "  催办间隔工作日: 1 "), encoding="utf-8")
    result = runner.invoke(app, ["campaign", "init", str(changed), "--as", "韩静"])
    assert result.exit_code == 0, result.output
    assert "提醒设置有变化" in result.output and "提醒设置有变化：9 项" in result.output  # + the plan's 8 (issue 12)
    marked, closed = _next_reminders(db_url, open_id, closed_id)
    assert marked is not None and marked <= dt.datetime.now(dt.timezone.utc)
    assert closed is None


def test_an_imported_holiday_notice_marks_open_tasks_for_the_sweep(db_url):
    open_id, closed_id = _campaign_with_tasks(db_url)
    result = runner.invoke(app, ["calendar", "import", str(EXAMPLES / "calendar-2027.yaml"), "--as", "韩静"])
    assert result.exit_code == 0, result.output
    # the task, and the plan's 8 preparatory tasks made by campaign init (issue 12)
    assert "9 项未办结任务的提醒时间将在下次提醒扫描时按新日历重新计算" in result.output
    marked, closed = _next_reminders(db_url, open_id, closed_id)
    assert marked is not None and closed is None
