"""The self-check's SQL does not grow with the county (issue 10): schools, data rows, shortfalls,
tasks, their cooperating units and events go in batches, so 40 schools and 120 schools take the
same number of statements, however many tasks each makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import event
from sqlmodel import func, select

from tests.factories import make_school_rows, write_xlsx
from tracker.campaigns import selfcheck
from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.service import resolve_campaign
from tracker.plans import load_plan
from tracker.tasks.models import Task, TaskCooperator

PLAN = Path(__file__).resolve().parents[3] / "examples" / "plan.yaml"
CHINA = ZoneInfo("Asia/Shanghai")


@contextmanager
def counted(engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (an executemany counts once)."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _self_check(engine, code: str, sheet: Path) -> tuple[int, int, int, int]:
    """(statements, tasks created, cooperators and events written) of a first self-check in one
    transaction, and the statements of a second one with the same sheet (every task already there)."""
    with session_scope(engine) as session:
        plan = load_plan(PLAN)
        apply_plan(session, plan.model_copy(update={"code": code, "name": f"{code}创建工作", "county": f"{code}县"}))
    with counted(engine) as statements, session_scope(engine) as session:
        campaign = resolve_campaign(session, code)
        campaign_id = campaign.id
        result = selfcheck.run_self_check(session, campaign, sheet, "韩静")
        created = len(result.reconcile.created)
    with session_scope(engine) as session:
        rows = session.exec(select(func.count()).select_from(TaskCooperator).join(Task)
                            .where(Task.campaign_id == campaign_id)).one()
        rows += session.exec(select(func.count()).select_from(Event)
                             .where(Event.campaign_id == campaign_id, Event.type == "task.created")).one()
    with counted(engine) as again, session_scope(engine) as session:
        result = selfcheck.run_self_check(session, resolve_campaign(session, code), sheet, "韩静")
        # unchanged: every task, the plan's (made by campaign init, issue 12 §1) among them
        assert not result.reconcile.created and len(result.reconcile.unchanged) == session.exec(
            select(func.count()).select_from(Task).where(Task.campaign_id == campaign_id)).one()
    return len(statements), created, rows, len(again)


def test_self_check_statements_do_not_grow_with_the_tasks(engine, tmp_path):
    small, large = tmp_path / "40.xlsx", tmp_path / "120.xlsx"
    write_xlsx(small, make_school_rows(40, seed=40))
    write_xlsx(large, make_school_rows(120, seed=120))
    with time_machine.travel(dt.datetime(2026, 12, 10, 10, 0, tzinfo=CHINA), tick=False):
        small_statements, small_tasks, small_rows, small_again = _self_check(engine, "small", small)
        large_statements, large_tasks, large_rows, large_again = _self_check(engine, "large", large)
    # the larger county really makes far more tasks, cooperators and events …
    assert large_tasks >= small_tasks + 200 and large_rows >= small_rows + 400
    # … in the same statements: a batch of each kind, not a round trip per row (there were
    # about four per task and four per school before)
    assert large_statements - small_statements <= 2, (small_statements, large_statements)
    assert small_statements <= 40
    # a second self-check (every task found, its shortfall updated) neither
    assert large_again - small_again <= 2, (small_again, large_again)
