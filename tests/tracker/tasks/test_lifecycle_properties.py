"""Property: under any sequence of moves by any people, no illegal move succeeds, a refused move
leaves the task and the log untouched, and every successful move adds exactly one event."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories_db import build_world
from tracker.events.models import Event
from tracker.events.service import task_history
from tracker.tasks import lifecycle
from tracker.tasks.lifecycle import TransitionError, days_overdue, is_overdue, on_time
from tracker.tasks.models import Task, TaskStatus

S = TaskStatus
OPEN4 = (S.assigned, S.accepted, S.in_progress, S.submitted)
ACTORS = {"office": "王主任", "own": "李科长", "other": "张局长"}  # the task belongs to 财政局


def expected(status: S, resolved: bool, action: str, role: str, arg) -> S | None:
    """The issue's rules, written independently of lifecycle.TRANSITIONS. None: refused."""
    office, own = role == "office", role in ("office", "own")
    if action == "accept":
        return S.accepted if own and status is S.assigned else None
    if action == "progress":
        ok = isinstance(arg, int) and not isinstance(arg, bool) and 0 <= arg <= 100
        return S.in_progress if own and ok and status in (S.accepted, S.in_progress) else None
    if action == "submit":
        return S.submitted if own and status in (S.accepted, S.in_progress) else None
    if action == "verify":
        ok = status is S.submitted or (resolved and status in OPEN4)
        return S.verified if office and ok else None
    if action == "return":
        return S.in_progress if office and arg.strip() and status is S.submitted else None
    if action == "withdraw":
        return S.withdrawn if office and arg.strip() and status in OPEN4 else None
    if action == "reopen":
        if status in (S.submitted, S.verified) or (resolved and status is S.accepted):
            return S.in_progress
        if resolved and status in (S.assigned, S.in_progress):
            return status
        return None
    if action == "resolve_by_data":
        return status if not resolved and status in OPEN4 else None
    raise AssertionError(action)


steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["accept", "submit", "verify"]), st.sampled_from(list(ACTORS)), st.none()),
        st.tuples(st.just("progress"), st.sampled_from(list(ACTORS)),
                  st.one_of(st.integers(-5, 105), st.just(True), st.just(12.5))),
        st.tuples(st.sampled_from(["return", "withdraw"]), st.sampled_from(list(ACTORS)),
                  st.sampled_from(["材料不全", "  ", ""])),
        st.tuples(st.sampled_from(["reopen", "resolve_by_data"]), st.just("system"), st.none()),
    ),
    max_size=14,
)


def do(session, world, task, action, role, arg, assessment_id):
    if role == "system":
        if action == "reopen":
            return lifecycle.reopen(session, task, reason="复测仍不达标")
        return lifecycle.mark_resolved_by_data(session, task, assessment_id)
    person = world.people[ACTORS[role]]
    return {
        "accept": lambda: lifecycle.accept(session, task, person),
        "progress": lambda: lifecycle.report_progress(session, task, person, arg, "进展"),
        "submit": lambda: lifecycle.submit(session, task, person),
        "verify": lambda: lifecycle.verify(session, task, person),
        "return": lambda: lifecycle.return_task(session, task, person, arg),
        "withdraw": lambda: lifecycle.withdraw(session, task, person, arg),
    }[action]()


def columns(task: Task) -> dict:
    return {c.name: getattr(task, c.name) for c in Task.__table__.columns}


def test_random_sequences_of_moves(engine):
    counter = itertools.count()
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        assessment_id = world.assessment(session).id

        @settings(max_examples=80, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(steps=steps)
        def check(steps):
            task = world.task(session, f"p{next(counter)}", due_on=dt.date(2026, 12, 4))
            moves = 0
            for action, role, arg in steps:
                status = S(task.status)
                resolved = task.resolved_by_assessment_id is not None
                want = expected(status, resolved, action, role, arg)
                before, events_before = columns(task), session.exec(
                    select(func.count()).select_from(Event)).one()
                if want is None:
                    with pytest.raises(TransitionError):
                        do(session, world, task, action, role, arg, assessment_id)
                    session.refresh(task)
                    assert columns(task) == before
                    assert session.exec(select(func.count()).select_from(Event)).one() == events_before
                else:
                    event = do(session, world, task, action, role, arg, assessment_id)
                    moves += 1
                    assert S(task.status) is want
                    assert session.exec(select(func.count()).select_from(Event)).one() == events_before + 1
                    assert event.payload["from"] == status.value and event.payload["to"] == want.value
                # invariants of every state
                assert S(task.status) in set(S)
                assert (task.resolved_by_assessment_id is not None) == (
                    resolved if want is None else
                    (action == "resolve_by_data" or (resolved and action != "reopen")))
                late = dt.date(2026, 12, 14)
                assert is_overdue(task, late) == (S(task.status) in (S.assigned, S.accepted, S.in_progress))
                assert (days_overdue(task, late) > 0) == is_overdue(task, late)
                history = task_history(session, task.id)
                assert on_time(task) == on_time(task, history)
                assert (on_time(task) is None) == (S(task.status) is not S.verified)
            history = task_history(session, task.id)
            assert [e.type for e in history].count("task.created") == 1
            assert len(history) == 1 + moves

        check()
        session.rollback()
