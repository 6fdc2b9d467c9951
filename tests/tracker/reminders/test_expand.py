"""The owed notices' expansion into the recipients' items (tracker.reminders.expand), against a
real store (SQLite and PostgreSQL): nothing lost when a composer's transaction rolls back, each
recipient's item once however often its notice is expanded, windows kept."""

from __future__ import annotations

import time_machine
from sqlalchemy import func, update
from sqlmodel import select

from notifications.compose import compose_pending
from tests.tracker.reminders.test_sweep import cst, new_task
from tracker.notices.models import NoticeItem, OwedNotice
from tracker.reminders.expand import expand_owed
from tracker.reminders.sweep import sweep


def _count(session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _owing(session, world, n: int = 3):
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        for i in range(n):
            new_task(session, world, f"E{i}")
    now = cst(2026, 10, 14, 9, 0)  # 交办单 (+ copy), 签收提醒, 催办通知 (+ head) per task
    report = sweep(session, now)
    session.commit()
    return now, report


def test_the_sweep_writes_one_notice_per_task_and_rung_and_no_items(session, world):
    now, report = _owing(session, world)
    assert _count(session, OwedNotice) == 3 * 3
    assert _count(session, NoticeItem) == 0
    assert report.queued == len(report.new_lines) == 3 * 5  # the recipients, counted as before


def test_a_rolled_back_composer_loses_nothing(session, world):
    now, report = _owing(session, world)
    assert expand_owed(session, now) == report.queued
    session.rollback()  # the composer died before its commit
    assert _count(session, NoticeItem) == 0
    assert _count(session, OwedNotice, OwedNotice.expanded_at.is_(None)) == 3 * 3
    messages = compose_pending(session, now)
    session.commit()
    assert messages
    assert _count(session, NoticeItem, NoticeItem.message_id.is_not(None)) == report.queued
    assert _count(session, OwedNotice, OwedNotice.expanded_at.is_(None)) == 0


def test_expanding_a_notice_again_writes_no_recipient_twice(session, world):
    now, report = _owing(session, world)
    expand_owed(session, now)
    session.commit()
    keys = set(session.exec(select(NoticeItem.idempotency_key)))
    # as if a second composer had read the notices before the first committed
    session.execute(update(OwedNotice).values(expanded_at=None))
    session.commit()
    assert expand_owed(session, now) == 0
    session.commit()
    assert set(session.exec(select(NoticeItem.idempotency_key))) == keys
    assert len(keys) == report.queued
    assert {line_key for line_key in keys} == {
        f"{o.key_head}{r.key}" for rungs, _new in report.owed for o in rungs for r in o.recipients}


def test_only_notices_whose_window_has_opened_are_expanded(session, world):
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        new_task(session, world)
    evening = cst(2026, 10, 14, 19, 0)  # after the window: the notices wait for 08:30 tomorrow
    sweep(session, evening)
    session.commit()
    assert expand_owed(session, evening) == 0
    assert expand_owed(session, cst(2026, 10, 15, 8, 30)) > 0
