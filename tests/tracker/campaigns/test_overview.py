from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from sqlmodel import Session

from tests.factories_db import build_world
from tracker.calendar import CHINA, reset_active_calendar
from tracker.campaigns.overview import (
    calendar_warnings,
    campaign_overview,
    unit_figures,
)
from tracker.events.service import record_event
from tracker.reminders.lights import unit_lights
from tracker.tasks.models import Task, TaskStatus

TODAY = dt.date(2026, 12, 10)  # a Thursday


@pytest.fixture(autouse=True)
def _now_is_today():
    """Rows are stamped by the clock (events, created_at): "now" is TODAY, whatever the real date."""
    with time_machine.travel(dt.datetime(2026, 12, 10, 10, 0, tzinfo=CHINA), tick=False):
        yield


def _spread(session: Session, world, n: int = 80, seed: int = 3, due: tuple[int, int] = (-10, 30),
            statuses=tuple(TaskStatus)) -> list[Task]:
    """Tasks of every unit, state, due date and progress, assigned on different days."""
    rng = random.Random(seed)
    units = ["财政局", "住建局", "城关镇", "城关一小"]
    tasks = []
    for i in range(n):
        with time_machine.travel(dt.datetime(2026, 11, 1, 9, 0, tzinfo=CHINA), tick=False):  # created last month
            task = world.task(session, f"t{i}", unit=rng.choice(units),
                              due_on=TODAY + dt.timedelta(days=rng.randint(*due)))
        task.status = rng.choice(list(statuses)).value
        task.progress = rng.choice([0, 10, 30, 50, 60, 70, 80, 90, 100])
        task.created_at = dt.datetime(2026, 11, rng.randint(1, 30), rng.randint(0, 23), tzinfo=dt.UTC)
        session.add(task)
        tasks.append(task)
    session.flush()
    return tasks


@pytest.mark.parametrize(("seed", "due", "statuses", "lights"), [
    (3, (-10, 30), tuple(TaskStatus), {"红"}),
    # nothing overdue, few near their date: yellow only where progress lags the working days gone
    (5, (6, 40), (TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.submitted), {"黄"}),
])
def test_unit_lights_and_counts_match_the_tasks_one_by_one(engine, seed, due, statuses, lights):
    reset_active_calendar()
    with Session(engine) as session:
        world = build_world(session)
        tasks = _spread(session, world, n=40 if len(statuses) < 6 else 80, seed=seed, due=due, statuses=statuses)
        expected = unit_lights(tasks, TODAY)
        assert {light.value for light in expected.values()} >= lights
        lines = {(u.kind, u.id): u for u in unit_figures(session, world.campaign, TODAY)}
        for key, light in expected.items():
            assert lines[key].light is light, key
        for (kind, unit_id), line in lines.items():
            mine = [t for t in tasks if (t.department_id if kind == "department" else t.responsible_school_id) == unit_id
                    and (kind == "school" or t.department_id is not None)]
            assert line.total == sum(1 for t in mine if t.status != TaskStatus.withdrawn.value)
            assert line.done == sum(1 for t in mine if t.status == TaskStatus.verified.value)
            assert line.unacknowledged == sum(1 for t in mine if t.status == TaskStatus.assigned.value)
            assert line.overdue == sum(1 for t in mine if t.status in ("待签收", "已签收", "办理中") and t.due_on < TODAY)
        # the office unit has no tasks and is left out; every other department is listed
        assert {u.name for u in lines.values() if u.kind == "department"} == {"财政局", "住建局", "城关镇"}


def test_overview_counts_and_this_weeks_events(engine):
    reset_active_calendar()
    with Session(engine) as session:
        world = build_world(session)
        tasks = _spread(session, world, n=30, seed=8)
        monday = dt.datetime(2026, 12, 7, 0, 0, tzinfo=CHINA)
        record_event(session, type="task.accepted", actor="李科长", campaign_id=world.campaign.id,
                     task_id=tasks[0].id, at=monday - dt.timedelta(minutes=1))  # last week (Sunday night)
        record_event(session, type="task.submitted", actor="李科长", campaign_id=world.campaign.id,
                     task_id=tasks[0].id, at=monday + dt.timedelta(minutes=1))
        overview = campaign_overview(session, world.campaign, TODAY)
        statuses = [t.status for t in tasks]
        assert overview.total == len(tasks) - statuses.count("已撤销")
        assert overview.done == statuses.count("已销号")
        assert overview.unacknowledged == statuses.count("待签收")
        assert overview.submitted == statuses.count("已提交")
        assert overview.overdue == sum(1 for t in tasks if t.status in ("待签收", "已签收", "办理中") and t.due_on < TODAY)
        assert overview.week_start == dt.date(2026, 12, 7)
        types = [e.type for e in overview.week_events]
        assert "task.submitted" in types and "task.accepted" not in types
        assert overview.current.code == "self_check"
        gates = {line.phase.code: line for line in overview.phases}
        assert gates["self_check"].days_left == 9  # 12-10 → 12-23, working days
        assert gates["review_city"].days_left is None  # 以上级通知为准


def test_calendar_warning_names_an_unknown_year(engine):
    reset_active_calendar()
    with Session(engine) as session:
        world = build_world(session)
        world.task(session, "late", due_on=dt.date(2031, 3, 1))
        warnings = calendar_warnings(session, world.campaign, TODAY)
        assert any(w.startswith("2031 年的法定节假日安排未知") for w in warnings)
        assert not any(w.startswith("2026 年") for w in warnings)


def test_the_overview_takes_the_campaigns_yellow_light_days(engine):
    """黄灯临期工作日 from the plan: a task 5 working days from its date is yellow with 5, green with 3."""
    reset_active_calendar()
    with Session(engine) as session:
        world = build_world(session)
        with time_machine.travel(dt.datetime(2026, 12, 10, 9, 0, tzinfo=CHINA), tick=False):
            world.task(session, "soon", unit="财政局", due_on=dt.date(2026, 12, 17))  # Thu → Thu: 5

        def light():
            lines = {(u.kind, u.id): u for u in unit_figures(session, world.campaign, TODAY)}
            return lines[("department", world.departments["财政局"].id)].light.value

        assert light() == "绿"
        world.campaign.plan = {"reminders": {"yellow_within_working_days": 5}}
        session.add(world.campaign)
        session.flush()
        assert light() == "黄"
        assert campaign_overview(session, world.campaign, TODAY).yellow_within == 5
