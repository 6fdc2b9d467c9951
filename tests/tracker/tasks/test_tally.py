"""The task tallies (``TaskTally``, ``TaskDueTally``) agree with a full count over the tasks after
any mix of writes: ORM moves, bulk INSERT, bulk UPDATE, DELETE, a rolled-back move; and the
overview reads them, so its statements do not grow with the number of tasks."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter

import pytest
import time_machine
from sqlalchemy import delete, event, func, insert, update
from sqlmodel import Session, select

from tests.factories_db import build_world
from tracker.calendar import CHINA, reset_active_calendar
from tracker.campaigns.overview import campaign_overview, unit_figures
from tracker.tasks.lifecycle import CLOCK_RUNNING
from tracker.tasks.models import Task, TaskDueTally, TaskStatus, TaskTally

TODAY = dt.date(2026, 12, 10)
RUNNING = {s.value for s in CLOCK_RUNNING}


@pytest.fixture(autouse=True)
def _now_is_today():
    with time_machine.travel(dt.datetime(2026, 12, 10, 10, 0, tzinfo=CHINA), tick=False):
        yield


def _counted(session: Session) -> tuple[Counter, Counter]:
    """Both tallies worked out from the tasks themselves."""
    tally, due = Counter(), Counter()
    for t in session.exec(select(Task)).all():
        unit = (t.department_id or 0, t.responsible_school_id or 0)
        tally[(t.campaign_id, t.phase_id, *unit, str(t.status))] += 1
        if str(t.status) in RUNNING:
            due[(t.campaign_id, *unit, t.due_on)] += 1
    return tally, due


def _kept(session: Session) -> tuple[Counter, Counter]:
    """Both tallies as the triggers keep them (rows counting nothing left out)."""
    tally = Counter({(r.campaign_id, r.phase_id, r.department_key, r.school_key, r.status): r.n
                     for r in session.exec(select(TaskTally)).all() if r.n})
    due = Counter({(r.campaign_id, r.department_key, r.school_key, r.due_on): r.n
                   for r in session.exec(select(TaskDueTally)).all() if r.n})
    return tally, due


def _assert_agree(session: Session) -> None:
    session.flush()
    session.expire_all()
    assert _kept(session) == _counted(session)
    assert all(n >= 0 for n in session.exec(select(TaskTally.n)).all())


def _bulk_rows(world, rng: random.Random, start: int, n: int) -> list[dict]:
    units = list(world.departments.values())[1:] + list(world.schools.values())
    rows = []
    for i in range(start, start + n):
        unit = rng.choice(units)
        by_school = unit in world.schools.values()
        rows.append({"campaign_id": world.campaign.id, "phase_id": rng.choice(list(world.phases.values())).id,
                     "title": f"批量任务 {i}", "measures": "整改", "due_on": TODAY + dt.timedelta(days=rng.randint(-20, 40)),
                     "status": rng.choice(list(TaskStatus)).value, "progress": rng.choice([0, 50, 90]),
                     "department_id": None if by_school else unit.id,
                     "responsible_school_id": unit.id if by_school else None,
                     "origin": "plan", "origin_key": f"bulk-{i}",
                     "created_at": dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
                     "updated_at": dt.datetime(2026, 11, 2, tzinfo=dt.UTC)})
    return rows


@pytest.mark.parametrize("seed", [1, 2])
def test_tallies_match_a_full_count_after_random_writes(engine, seed):
    rng = random.Random(seed)
    with Session(engine) as session:
        world = build_world(session)
        units = ["财政局", "住建局", "城关镇", "城关一小"]
        tasks = [world.task(session, f"t{i}", unit=rng.choice(units), phase=rng.choice(list(world.phases)),
                            due_on=TODAY + dt.timedelta(days=rng.randint(-10, 30))) for i in range(30)]
        _assert_agree(session)
        session.execute(insert(Task), _bulk_rows(world, rng, 0, 40))  # one statement, many rows
        _assert_agree(session)
        departments = [d.id for d in world.departments.values()]
        for round_ in range(6):
            for task in rng.sample(tasks, 10):  # ORM moves: status, due date, unit, phase
                move = rng.choice(["status", "due", "unit", "phase", "progress"])
                if move == "status":
                    task.status = rng.choice(list(TaskStatus)).value
                elif move == "due":
                    task.due_on = task.due_on + dt.timedelta(days=rng.randint(-15, 15))
                elif move == "unit":
                    task.department_id, task.responsible_school_id = (
                        (None, world.schools["城关一小"].id) if rng.random() < 0.3 else (rng.choice(departments), None))
                elif move == "phase":
                    task.phase_id = rng.choice(list(world.phases.values())).id
                else:
                    task.progress = rng.randint(0, 100)  # not counted: the tallies stay as they are
                session.add(task)
            _assert_agree(session)
            # set-based statements: a status for a random slice, then dates shifted for another
            status = rng.choice(list(TaskStatus)).value
            session.execute(update(Task).where(Task.origin_key.like(f"bulk-{round_}%")).values(status=status))
            session.execute(update(Task).where(Task.due_on < TODAY, Task.origin_key.like("bulk-%"))
                            .values(due_on=Task.due_on + rng.randint(1, 9)) if engine.dialect.name == "postgresql"
                            else update(Task).where(Task.due_on < TODAY, Task.origin_key.like("bulk-%"))
                            .values(due_on=func.date(Task.due_on, f"+{rng.randint(1, 9)} days")))
            _assert_agree(session)
            session.execute(delete(Task).where(Task.origin_key == f"bulk-{rng.randint(0, 39)}"))
            _assert_agree(session)
        session.commit()

        # a move rolled back takes its tally change with it
        before = _kept(session)
        task = session.exec(select(Task).where(Task.origin_key == "t0")).one()
        task.status = TaskStatus.withdrawn.value if str(task.status) != TaskStatus.withdrawn.value else "待签收"
        session.add(task)
        session.flush()
        assert _kept(session) != before
        session.rollback()
        assert _kept(session) == before
        _assert_agree(session)


def _spread(session: Session, world, rng: random.Random, n: int) -> None:
    session.execute(insert(Task), _bulk_rows(world, rng, 0, n))
    session.flush()


def _statements(engine, run) -> list[str]:
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return seen


def test_the_overview_reads_the_tallies_not_the_tasks(engine):
    """The same statements with 50 tasks or 500, and none reads the task table in full: only the
    two ends of the due-date index (calendar warnings) and, for units neither red nor yellow by
    date, their running tasks due later."""
    reset_active_calendar()
    counts = []
    for n in (50, 500):
        with Session(engine) as session:
            world = build_world(session, code=f"c{n}")
            _spread(session, world, random.Random(n), n)
            session.commit()
            statements = _statements(engine, lambda: campaign_overview(session, world.campaign, TODAY))
            counts.append(len(statements))
            reading_tasks = [s for s in statements if re.search(r"\bFROM task\b(?!_)", s)]
            for statement in reading_tasks:
                assert ("min(task.due_on)" in statement or "max(task.due_on)" in statement
                        or "task.due_on >=" in statement), statement
            # every unit has an overdue task here: no unit needs its tasks read for its light
            assert not any("task.progress" in s for s in reading_tasks)
            lines = unit_figures(session, world.campaign, TODAY)
            assert lines and all(line.light is not None for line in lines if line.total)
    assert counts[0] == counts[1]


def test_tallied_counts_equal_counting_the_tasks(engine):
    """Every filter combination the task list answers from the tallies gives the tasks' count."""
    from itertools import product

    from tracker.tasks.tally import tallied_count

    rng = random.Random(7)
    with Session(engine) as session:
        world = build_world(session)
        _spread(session, world, rng, 120)
        session.commit()
        campaign_id = world.campaign.id
        departments = [None] + [d.id for d in world.departments.values()]
        phases = [None] + [[p.id] for p in world.phases.values()]
        answered = 0
        for status, dept, phase_ids, overdue in product([None, *[s.value for s in TaskStatus]], departments,
                                                        phases, [None, True, False]):
            got = tallied_count(session, campaign_id, TODAY, status=status, department_id=dept,
                                phase_ids=phase_ids, overdue=overdue)
            if got is None:
                continue
            answered += 1
            where = [Task.campaign_id == campaign_id]
            if status is not None:
                where.append(Task.status == status)
            if dept is not None:
                where.append(Task.department_id == dept)
            if phase_ids is not None:
                where.append(Task.phase_id.in_(phase_ids))
            if overdue is not None:
                late = Task.status.in_(list(RUNNING)) & (Task.due_on < TODAY)
                where.append(late if overdue else ~late)
            assert got == session.exec(select(func.count()).select_from(Task).where(*where)).one(), \
                (status, dept, phase_ids, overdue)
        assert answered >= 180  # all but overdue with a running status or a phase
