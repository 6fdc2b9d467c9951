"""Creating tasks (idempotent), listing them, and the campaign status figures."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories_db import build_world
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.org.models import PhaseStatus
from tracker.plans import REDATE_WORKING_DAYS
from tracker.reminders.lights import Light, task_light
from tracker.tasks import lifecycle
from tracker.tasks.models import TaskCooperator, TaskOrigin, TaskStatus
from tracker.tasks.service import (
    InvalidTask,
    RedatedTask,
    TaskNotFound,
    WorkingDue,
    campaign_status,
    cooperators,
    create_task,
    get_task,
    list_tasks,
    working_due,
)
from tracker.workdays import add_working_days


@pytest.fixture(autouse=True)
def _now_before_the_plan_dates():
    """Tasks made here keep their plan dates only while those are ahead: "now" is a fixed day
    before them (a task created after its plan date is re-dated), whatever the real date."""
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def world(session):
    return build_world(session)


def make(session, world, key="sf|1", **overrides):
    kwargs = dict(campaign=world.campaign, phase=world.phases["rectification"], title="生均体育运动场馆面积不足",
                  measures="新建运动场", origin=TaskOrigin.shortfall, origin_key=key, due_on=dt.date(2027, 6, 30),
                  department=world.departments["住建局"], school=world.schools["城关一小"], indicator="A5",
                  cooperating=[world.departments["财政局"], world.departments["城关镇"], world.departments["住建局"]])
    kwargs.update(overrides)
    return create_task(session, **kwargs)


def test_create_task_writes_one_event_and_cooperators(session, world):
    task = make(session, world)
    assert task.status == TaskStatus.assigned and task.school_id == world.schools["城关一小"].id
    assert [d.name for d in cooperators(session, task)] == ["财政局", "城关镇"]  # the lead is not its own helper
    events = session.exec(select(Event).where(Event.task_id == task.id)).all()
    assert [(e.type, e.actor) for e in events] == [("task.created", "系统")]
    assert events[0].payload["origin_key"] == "sf|1" and events[0].payload["due_on"] == "2027-06-30"


def test_create_task_is_idempotent_on_origin_key(session, world):
    first = make(session, world)
    again = make(session, world, title="改过的标题")
    assert again.id == first.id and again.title == "生均体育运动场馆面积不足"
    assert session.exec(select(func.count()).select_from(Event)).one() == 1
    assert session.exec(select(func.count()).select_from(TaskCooperator)).one() == 2
    other = build_world(session, code="other")  # the same key in another campaign is another task
    theirs = make(session, other, department=other.departments["住建局"], school=None, cooperating=())
    assert theirs.id != first.id


def test_school_responsible_task_defaults_its_school(session, world):
    task = make(session, world, key="sf|2", department=None, school=None,
                responsible_school=world.schools["城关一小"], cooperating=())
    assert task.responsible_school_id == task.school_id == world.schools["城关一小"].id


@pytest.mark.parametrize(("overrides", "message"), [
    ({"department": None}, "必须有且只有一个责任单位"),
    ({"responsible_school": "school"}, "必须有且只有一个责任单位"),
    ({"title": "  "}, "任务标题不能为空"),
    ({"origin": "rumour"}, "来源「rumour」无效"),
    ({"due_on": dt.datetime(2027, 6, 30, 12)}, "截止日期必须是日期"),
])
def test_invalid_task_is_refused_and_nothing_stored(session, world, overrides, message):
    if overrides.get("responsible_school") == "school":
        overrides["responsible_school"] = world.schools["城关一小"]
    with pytest.raises(InvalidTask, match=message):
        make(session, world, **overrides)
    assert session.exec(select(func.count()).select_from(Event)).one() == 0


def test_phase_of_another_campaign_is_refused(session, world):
    other = build_world(session, code="other")
    with pytest.raises(InvalidTask, match="不属于"):
        make(session, world, phase=other.phases["rectification"])


def test_get_task(session, world):
    task = make(session, world)
    assert get_task(session, task.id) is task
    other = build_world(session, code="other")
    with pytest.raises(TaskNotFound, match=f"没有编号为 #{task.id} 的任务"):
        get_task(session, task.id, campaign=other.campaign)
    with pytest.raises(TaskNotFound):
        get_task(session, 99999)


def test_list_tasks_filters(session, world):
    late = world.task(session, "a", unit="财政局", due_on=dt.date(2026, 12, 4))
    submitted = world.task(session, "b", unit="财政局", due_on=dt.date(2026, 12, 3))
    school = world.task(session, "c", unit="城关一小", due_on=dt.date(2026, 12, 31))
    lifecycle.accept(session, submitted, world.people["李科长"])
    lifecycle.submit(session, submitted, world.people["李科长"])
    today = dt.date(2026, 12, 10)
    ids = lambda tasks: [t.id for t in tasks]  # noqa: E731
    assert ids(list_tasks(session, world.campaign)) == [submitted.id, late.id, school.id]
    assert ids(list_tasks(session, world.campaign, status="已提交")) == [submitted.id]
    assert ids(list_tasks(session, world.campaign, department=world.departments["财政局"])) == [submitted.id, late.id]
    assert ids(list_tasks(session, world.campaign, school=world.schools["城关一小"])) == [school.id]
    assert ids(list_tasks(session, world.campaign, overdue=True, today=today)) == [late.id]
    assert ids(list_tasks(session, world.campaign, overdue=False, today=today)) == [submitted.id, school.id]
    assert ids(list_tasks(session, world.campaign, limit=1, offset=1)) == [late.id]
    with pytest.raises(ValueError):
        list_tasks(session, world.campaign, overdue=True)


def test_campaign_status_contract(session, world):
    today = dt.date(2026, 12, 21)
    late = world.task(session, "a", unit="财政局", due_on=dt.date(2026, 12, 18))
    done = world.task(session, "b", unit="财政局")
    gone = world.task(session, "c", unit="财政局")
    world.task(session, "d", unit="城关一小", due_on=dt.date(2026, 12, 1))
    world.task(session, "e", unit="住建局", phase="rectification", due_on=dt.date(2027, 3, 1))
    office, finance = world.people["王主任"], world.people["李科长"]
    lifecycle.accept(session, done, finance)
    lifecycle.submit(session, done, finance)
    lifecycle.verify(session, done, office)
    lifecycle.withdraw(session, gone, office, "重复")
    lifecycle.accept(session, late, finance)

    status = campaign_status(session, world.campaign, today)
    assert json.loads(json.dumps(status, ensure_ascii=False)) == status  # plain JSON
    assert status == {
        "campaign": "demo",
        "phase": "自查自评",
        "gate_date": "2026-12-23",
        "tasks": {"total": 5, "overdue": 2,
                  "by_status": {"待签收": 2, "已签收": 1, "办理中": 0, "已提交": 0, "已销号": 1, "已撤销": 1}},
        "departments": [
            {"name": "财政局", "total": 2, "done": 1, "overdue": 1},
            {"name": "住建局", "total": 1, "done": 0, "overdue": 0},
            {"name": "城关镇", "total": 0, "done": 0, "overdue": 0},
            {"name": "城关一小", "total": 1, "done": 0, "overdue": 1},
        ],
    }


def test_campaign_status_with_unknown_gate_and_no_tasks(session, world):
    for phase in world.phases.values():
        phase.status = PhaseStatus.passed.value
    world.phases["review_city"].status = PhaseStatus.active.value
    status = campaign_status(session, world.campaign, dt.date(2027, 7, 1))
    assert status["phase"] == "市级复评" and status["gate_date"] is None
    assert status["tasks"] == {"total": 0, "overdue": 0, "by_status": {s.value: 0 for s in TaskStatus}}


# ---------------------------------------------------------------------------------------------
# No task is born overdue (issue 9)

CHINA = ZoneInfo("Asia/Shanghai")


def test_a_task_whose_plan_date_has_passed_gets_working_days_and_keeps_the_plan_date(session, world):
    # the day before 国庆: five working days on skip the holiday (10-01..10-07) and count the
    # 调休 Saturday 10-10, so the task is due 10-13, not 10-07
    with time_machine.travel(dt.datetime(2026, 9, 30, 16, 0, tzinfo=CHINA), tick=False):
        today = lifecycle.local_date(utcnow())
        plan_date = today - dt.timedelta(days=5)
        task = make(session, world, due_on=plan_date)
        assert task.planned_due_on == plan_date
        assert task.due_on == dt.date(2026, 10, 13) == add_working_days(today, REDATE_WORKING_DAYS)
        assert not lifecycle.is_overdue(task, today) and lifecycle.days_overdue(task, today) == 0
        assert task_light(task, today) is not Light.red
        assert list_tasks(session, world.campaign, overdue=True, today=today) == []
        assert campaign_status(session, world.campaign, today)["tasks"]["overdue"] == 0
    event = session.exec(select(Event).where(Event.task_id == task.id, Event.type == "task.created")).one()
    assert event.payload["due_on"] == "2026-10-13"
    assert event.payload["planned_due_on"] == plan_date.isoformat() == "2026-09-25"
    assert event.payload["redated_working_days"] == 5
    assert RedatedTask.of(task).as_dict() == {"task_id": task.id, "title": "生均体育运动场馆面积不足",
                                              "planned_due_on": "2026-09-25", "due_on": "2026-10-13",
                                              "working_days": 5}


def test_a_plan_date_of_today_or_later_is_kept(session, world):
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=CHINA), tick=False):
        today = lifecycle.local_date(utcnow())
        due_today = make(session, world, key="sf|today", due_on=today)
        later = make(session, world, key="sf|later", due_on=today + dt.timedelta(days=1))
    assert (due_today.due_on, due_today.planned_due_on) == (today, None)
    assert (later.due_on, later.planned_due_on) == (today + dt.timedelta(days=1), None)
    payloads = [e.payload for e in session.exec(select(Event).where(Event.type == "task.created")
                                                .order_by(Event.id))]
    assert [(p["planned_due_on"], p["redated_working_days"]) for p in payloads] == [(None, None), (None, None)]


def test_the_plan_sets_how_many_working_days_a_late_task_gets(session, world):
    world.campaign.plan = {"reminders": {"redate_working_days": 8}}
    session.add(world.campaign)
    # late on a Beijing Friday evening (UTC still Friday): the count starts from that Friday
    with time_machine.travel(dt.datetime(2026, 12, 4, 20, 0, tzinfo=CHINA), tick=False):
        today = lifecycle.local_date(utcnow())
        task = make(session, world, due_on=today - dt.timedelta(days=1))
    assert today == dt.date(2026, 12, 4)
    assert task.due_on == add_working_days(today, 8) == dt.date(2026, 12, 16)
    assert task.planned_due_on == dt.date(2026, 12, 3)


def test_working_due_is_the_one_rule():
    today = dt.date(2026, 12, 7)
    assert working_due(dt.date(2026, 12, 4), today, 5) == WorkingDue(dt.date(2026, 12, 14), dt.date(2026, 12, 4), 5)
    assert working_due(today, today, 5) == WorkingDue(today, None, None)
    assert not working_due(dt.date(2026, 12, 8), today, 5).redated
