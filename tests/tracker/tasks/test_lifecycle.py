"""The task lifecycle: every allowed move works and writes one event; every other move is refused
and writes nothing; who may act; the overdue clock; on time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories_db import World, build_world
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.events.service import task_history
from tracker.tasks import lifecycle
from tracker.tasks.lifecycle import (
    TRANSITIONS,
    InvalidTaskInput,
    NotPermitted,
    TransitionError,
    days_overdue,
    is_overdue,
    on_time,
)
from tracker.tasks.models import Task, TaskStatus

S = TaskStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def world(session) -> World:
    return build_world(session)


def event_count(session: Session, task: Task | None = None) -> int:
    stmt = select(func.count()).select_from(Event)
    if task is not None:
        stmt = stmt.where(Event.task_id == task.id)
    return session.exec(stmt).one()


def put(session: Session, task: Task, status: TaskStatus, resolved_by: int | None = None) -> Task:
    """Set up a task in a given state directly (test setup, not a move)."""
    task.status = status.value
    task.resolved_by_assessment_id = resolved_by
    session.add(task)
    session.flush()
    return task


def run(session: Session, world: World, task: Task, action: str, *, actor: str = "王主任",
        assessment_id: int | None = None):
    person = world.people[actor]
    if action == "accept":
        return lifecycle.accept(session, task, person)
    if action == "progress":
        return lifecycle.report_progress(session, task, person, 40, "已完成招标")
    if action == "submit":
        return lifecycle.submit(session, task, person, "已整改完毕")
    if action == "verify":
        return lifecycle.verify(session, task, person)
    if action == "return":
        return lifecycle.return_task(session, task, person, "佐证材料不全")
    if action == "withdraw":
        return lifecycle.withdraw(session, task, person, "指标口径调整")
    if action == "reopen":
        return lifecycle.reopen(session, task, reason="复测仍不达标")
    if action == "resolve_by_data":
        return lifecycle.mark_resolved_by_data(session, task, assessment_id)
    raise AssertionError(action)


def snapshot(task: Task) -> dict:
    return {column.name: getattr(task, column.name) for column in Task.__table__.columns}


# Written out by hand from the issue, independently of lifecycle.TRANSITIONS.
ALLOWED = {
    # (action, from, resolved by data?) -> to
    ("accept", S.assigned, False): S.accepted,
    ("accept", S.assigned, True): S.accepted,
    ("progress", S.accepted, False): S.in_progress,
    ("progress", S.in_progress, False): S.in_progress,
    ("progress", S.accepted, True): S.in_progress,
    ("progress", S.in_progress, True): S.in_progress,
    ("submit", S.accepted, False): S.submitted,
    ("submit", S.in_progress, False): S.submitted,
    ("submit", S.accepted, True): S.submitted,
    ("submit", S.in_progress, True): S.submitted,
    ("verify", S.submitted, False): S.verified,
    ("verify", S.submitted, True): S.verified,
    ("verify", S.assigned, True): S.verified,
    ("verify", S.accepted, True): S.verified,
    ("verify", S.in_progress, True): S.verified,
    ("return", S.submitted, False): S.in_progress,
    ("return", S.submitted, True): S.in_progress,
    **{("withdraw", s, r): S.withdrawn
       for s in (S.assigned, S.accepted, S.in_progress, S.submitted) for r in (False, True)},
    ("reopen", S.submitted, False): S.in_progress,
    ("reopen", S.verified, False): S.in_progress,
    ("reopen", S.submitted, True): S.in_progress,
    ("reopen", S.verified, True): S.in_progress,
    ("reopen", S.assigned, True): S.assigned,
    ("reopen", S.accepted, True): S.in_progress,
    ("reopen", S.in_progress, True): S.in_progress,
    **{("resolve_by_data", s, False): s for s in (S.assigned, S.accepted, S.in_progress, S.submitted)},
}
EVENT_TYPES = {"accept": "task.accepted", "progress": "task.progress", "submit": "task.submitted",
               "verify": "task.verified", "return": "task.returned", "withdraw": "task.withdrawn",
               "reopen": "task.reopened", "resolve_by_data": "task.resolved_by_data"}
ALL_CASES = [(a, s, r) for a in EVENT_TYPES for s in S for r in (False, True)]


def test_the_table_matches_the_issue():
    table = {(a, s, r) for (a, s, r) in ALL_CASES
             if TRANSITIONS[a].target(Task(status=s.value, resolved_by_assessment_id=1 if r else None,
                                           campaign_id=1, phase_id=1, title="t", due_on=dt.date(2027, 1, 1),
                                           origin="plan", origin_key="k")) is not None}
    assert table == set(ALLOWED)
    task = Task(status=S.submitted.value, campaign_id=1, phase_id=1, title="t", due_on=dt.date(2027, 1, 1),
                origin="plan", origin_key="k")
    assert lifecycle.allowed_actions(task) == ["verify", "return", "withdraw", "reopen", "resolve_by_data"]
    assert lifecycle.can(task, "verify") and not lifecycle.can(task, "accept")


# One test per action (each case on a task of its own) keeps the PostgreSQL run short.
@pytest.mark.parametrize("action", list(EVENT_TYPES))
def test_allowed_moves_change_status_and_write_one_event(session, world, action):
    snap = world.assessment(session)
    cases = [c for c in ALLOWED if c[0] == action]
    assert cases
    for case in cases:
        _, source, resolved = case
        task = put(session, world.task(session, f"{source.value}-{resolved}"), source, snap.id if resolved else None)
        before = event_count(session)
        # a person of the task's own unit for their moves, the office for office moves
        actor = "王主任" if TRANSITIONS[action].office_only else "李科长"
        event = run(session, world, task, action, actor=actor, assessment_id=snap.id)
        assert task.status == ALLOWED[case], case
        assert event_count(session) == before + 1, case
        assert event.type == EVENT_TYPES[action]
        assert event.task_id == task.id and event.campaign_id == world.campaign.id
        assert event.payload["from"] == source.value and event.payload["to"] == ALLOWED[case].value
        if TRANSITIONS[action].system:
            assert event.actor == "系统" and event.actor_id is None
        else:
            assert event.actor == world.people[actor].name and event.actor_id == world.people[actor].id
        assert task.updated_at == event.at


@pytest.mark.parametrize("action", list(EVENT_TYPES))
def test_refused_moves_raise_and_write_nothing(session, world, action):
    snap = world.assessment(session)
    cases = [c for c in ALL_CASES if c[0] == action and c not in ALLOWED]
    assert cases
    for case in cases:
        _, source, resolved = case
        task = put(session, world.task(session, f"{source.value}-{resolved}"), source, snap.id if resolved else None)
        before_task, before_events = snapshot(task), event_count(session)
        with pytest.raises(TransitionError) as raised:
            run(session, world, task, action, assessment_id=snap.id)
        session.refresh(task)
        assert snapshot(task) == before_task, case
        assert event_count(session) == before_events, case
        assert f"任务 #{task.id}" in str(raised.value)


def test_refusal_message_names_task_and_status(session, world):
    task = put(session, world.task(session, "t1"), S.submitted)
    with pytest.raises(TransitionError, match=f"任务 #{task.id} 当前状态为「已提交」，不能签收"):
        lifecycle.accept(session, task, world.people["李科长"])


def test_full_path_sets_timestamps_and_history(session, world):
    task = world.task(session, "t1")
    finance, office = world.people["李科长"], world.people["王主任"]
    lifecycle.accept(session, task, finance)
    assert task.acknowledged_at is not None and task.assignee_id == finance.id
    lifecycle.report_progress(session, task, finance, 30, "资金已下达")
    assert (task.status, task.progress, task.notes) == (S.in_progress, 30, "资金已下达")
    lifecycle.submit(session, task, finance, "已完成")
    assert task.submitted_at is not None and task.progress == 100
    lifecycle.return_task(session, task, office, "缺少验收报告")
    assert task.status == S.in_progress and task.submitted_at is None
    lifecycle.submit(session, task, finance)
    lifecycle.verify(session, task, office)
    assert task.status == S.verified and task.verified_at is not None
    types = [e.type for e in task_history(session, task.id)]
    assert types == ["task.created", "task.accepted", "task.progress", "task.submitted", "task.returned",
                     "task.submitted", "task.verified"]
    returned = [e for e in task_history(session, task.id) if e.type == "task.returned"][0]
    assert returned.payload == {"from": "已提交", "to": "办理中", "reason": "缺少验收报告"}
    assert returned.actor == "王主任" and returned.actor_id == office.id


# --- who may act --------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["verify", "return", "withdraw"])
def test_only_office_may_verify_return_withdraw(session, world, action):
    task = put(session, world.task(session, "t1"), S.submitted)
    before = event_count(session)
    with pytest.raises(NotPermitted, match="只有办公室人员"):
        run(session, world, task, action, actor="李科长")
    assert task.status == S.submitted and event_count(session) == before


@pytest.mark.parametrize("action", ["accept", "progress", "submit"])
def test_other_department_may_not_act(session, world, action):
    task = world.task(session, "t1", unit="财政局")
    if action != "accept":
        put(session, task, S.accepted)
    status, before = task.status, event_count(session)
    with pytest.raises(NotPermitted, match="不是任务 #.* 的责任单位（财政局）人员"):
        run(session, world, task, action, actor="张局长")
    assert task.status == status and event_count(session) == before


def test_office_may_act_for_any_unit(session, world):
    task = world.task(session, "t1", unit="住建局")
    lifecycle.accept(session, task, world.people["王主任"])
    assert task.status == S.accepted


def test_school_task_is_accepted_by_the_school_contact(session, world):
    task = world.task(session, "t1", unit="城关一小")
    assert task.responsible_school_id == world.schools["城关一小"].id and task.department_id is None
    with pytest.raises(NotPermitted, match="城关一小"):
        lifecycle.accept(session, task, world.people["李科长"])
    lifecycle.accept(session, task, world.people["赵校长"])
    assert task.status == S.accepted


def test_school_task_is_also_moved_by_a_person_of_the_school(session, world):
    from tracker.org.models import Person

    teacher = Person(campaign_id=world.campaign.id, name="钱老师", school_id=world.schools["城关一小"].id)
    session.add(teacher)
    session.flush()
    task = put(session, world.task(session, "t1", unit="城关一小"), S.accepted)
    lifecycle.submit(session, task, teacher)
    assert task.status == S.submitted
    with pytest.raises(NotPermitted):
        lifecycle.accept(session, world.task(session, "t2", unit="财政局"), teacher)


def test_person_of_another_campaign_or_inactive_may_not_act(session, world):
    other = build_world(session, code="other")
    task = world.task(session, "t1")
    with pytest.raises(NotPermitted, match="不属于"):
        lifecycle.accept(session, task, other.people["王主任"])
    world.people["李科长"].active = False
    with pytest.raises(NotPermitted, match="已停用"):
        lifecycle.accept(session, task, world.people["李科长"])
    assert task.status == S.assigned and event_count(session, task) == 1


# --- input --------------------------------------------------------------------------------------

def test_bad_percent_is_refused(session, world):
    task = put(session, world.task(session, "t1"), S.accepted)
    before = event_count(session)
    for percent in (-1, 101, True, 50.5, "60"):
        with pytest.raises(InvalidTaskInput, match="0 到 100"):
            lifecycle.report_progress(session, task, world.people["李科长"], percent)
        assert (task.status, task.progress, event_count(session)) == (S.accepted, 0, before)


@pytest.mark.parametrize("action", ["return", "withdraw"])
def test_return_and_withdraw_need_a_reason(session, world, action):
    task = put(session, world.task(session, "t1"), S.submitted)
    fn = lifecycle.return_task if action == "return" else lifecycle.withdraw
    with pytest.raises(InvalidTaskInput, match="必须说明原因"):
        fn(session, task, world.people["王主任"], "   ")
    assert task.status == S.submitted and event_count(session, task) == 1


def test_a_stale_copy_cannot_move_a_task_someone_else_moved(engine):
    with session_scope(engine) as s:
        world = build_world(s)
        task_id = world.task(s, "t1").id
        office_id, finance_id = world.people["王主任"].id, world.people["李科长"].id
    with Session(engine) as first, Session(engine) as second:
        mine = first.get(Task, task_id)
        theirs = second.get(Task, task_id)
        assert mine.status == theirs.status == S.assigned
        lifecycle.accept(first, mine, first.get(type(world.people["李科长"]), finance_id))
        first.commit()
        with pytest.raises(TransitionError, match="已被他人处理"):
            lifecycle.withdraw(second, theirs, second.get(type(world.people["王主任"]), office_id), "重复")
        second.rollback()
    with Session(engine) as s:
        assert s.get(Task, task_id).status == S.accepted
        assert [e.type for e in task_history(s, task_id)] == ["task.created", "task.accepted"]


# --- resolved by data, reopen ---------------------------------------------------------------------

def test_resolved_by_data_then_verified_then_shortfall_returns(session, world):
    snap = world.assessment(session)
    task = put(session, world.task(session, "t1"), S.in_progress)
    event = lifecycle.mark_resolved_by_data(session, task, snap.id)
    assert event.payload["assessment_id"] == snap.id and task.status == S.in_progress
    assert task.resolved_by_assessment_id == snap.id
    with pytest.raises(TransitionError, match=f"已被评估 #{snap.id} 标记"):
        lifecycle.mark_resolved_by_data(session, task, snap.id)
    lifecycle.verify(session, task, world.people["王主任"])  # 销号 without a submission
    assert task.status == S.verified
    later = world.assessment(session)
    event = lifecycle.reopen(session, task, reason="复测仍不达标", assessment_id=later.id)
    assert task.status == S.in_progress
    assert task.resolved_by_assessment_id is None and task.verified_at is None
    assert event.payload["was_resolved_by_assessment_id"] == snap.id
    assert event.payload["assessment_id"] == later.id


def test_withdrawn_task_is_not_reopened(session, world):
    task = put(session, world.task(session, "t1"), S.withdrawn)
    with pytest.raises(TransitionError, match="「已撤销」，不能重新打开"):
        lifecycle.reopen(session, task, reason="复测仍不达标")


# --- overdue and on time --------------------------------------------------------------------------

FRIDAY_DUE = dt.date(2026, 12, 4)


def test_overdue_clock_stops_at_submission_and_restarts_after_return(session, world):
    task = world.task(session, "t1", due_on=FRIDAY_DUE)
    finance, office = world.people["李科长"], world.people["王主任"]
    assert not is_overdue(task, FRIDAY_DUE)  # due today is not late
    assert is_overdue(task, dt.date(2026, 12, 5)) and days_overdue(task, dt.date(2026, 12, 5)) == 0
    assert days_overdue(task, dt.date(2026, 12, 7)) == 1  # Monday after a Friday deadline
    assert days_overdue(task, dt.date(2026, 12, 14)) == 6
    lifecycle.accept(session, task, finance)
    lifecycle.submit(session, task, finance)
    assert not is_overdue(task, dt.date(2026, 12, 14)) and days_overdue(task, dt.date(2026, 12, 14)) == 0
    lifecycle.return_task(session, task, office, "材料不全")
    assert is_overdue(task, dt.date(2026, 12, 14)) and days_overdue(task, dt.date(2026, 12, 14)) == 6
    assert not is_overdue(task, dt.date(2026, 12, 3))
    lifecycle.submit(session, task, finance)
    lifecycle.verify(session, task, office)
    assert not is_overdue(task, dt.date(2027, 3, 1))


def test_withdrawn_task_is_never_overdue(session, world):
    task = put(session, world.task(session, "t1", due_on=FRIDAY_DUE), S.withdrawn)
    assert not is_overdue(task, dt.date(2027, 1, 5))


def _shanghai(y, m, d, hh, mm):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("submitted", "expected"), [
    (_shanghai(2026, 12, 4, 23, 30), True),  # the due date, late evening in Shanghai
    (_shanghai(2026, 12, 5, 0, 30), False),  # 16:30 UTC on the due date, but the 5th in Shanghai
    (_shanghai(2026, 11, 30, 9, 0), True),
])
def test_on_time_uses_the_shanghai_date_of_submission(session, world, submitted, expected):
    task = world.task(session, "t1", due_on=FRIDAY_DUE)
    finance, office = world.people["李科长"], world.people["王主任"]
    lifecycle.accept(session, task, finance, at=submitted - dt.timedelta(hours=1))
    lifecycle.submit(session, task, finance, at=submitted)
    assert on_time(task) is None  # not verified yet
    lifecycle.verify(session, task, office, at=submitted + dt.timedelta(days=5))
    assert on_time(task) is expected
    assert on_time(task, task_history(session, task.id)) is expected


def test_on_time_counts_the_last_submission_after_a_return(session, world):
    task = world.task(session, "t1", due_on=FRIDAY_DUE)
    finance, office = world.people["李科长"], world.people["王主任"]
    lifecycle.accept(session, task, finance, at=_shanghai(2026, 11, 26, 9, 0))
    lifecycle.submit(session, task, finance, at=_shanghai(2026, 12, 1, 9, 0))
    lifecycle.return_task(session, task, office, "材料不全", at=_shanghai(2026, 12, 2, 9, 0))
    lifecycle.submit(session, task, finance, at=_shanghai(2026, 12, 8, 9, 0))
    lifecycle.verify(session, task, office, at=_shanghai(2026, 12, 9, 9, 0))
    assert on_time(task) is False
    assert on_time(task, task_history(session, task.id)) is False


def test_on_time_is_none_for_open_and_withdrawn(session, world):
    task = world.task(session, "t1")
    assert on_time(task) is None
    lifecycle.withdraw(session, task, world.people["王主任"], "不再需要")
    assert on_time(task) is None and on_time(task, task_history(session, task.id)) is None
