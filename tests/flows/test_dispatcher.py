"""The event dispatcher: claims each event once, starts the reacting flows (real Prefect runs)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import pytest
from sqlmodel import select

from flows.dispatcher import (
    DispatchError,
    DispatchMode,
    claim_events,
    dispatch_mode,
    dispatch_once,
    dispatch_pending,
)
from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.events.service import record_event
from tracker.org.models import Phase, PhaseStatus
from tracker.tasks import lifecycle
from tracker.tasks.models import Task


def _close(session, task: Task, office) -> None:
    """签收 → 提交 → 销号, all by the office (which may act on every task)."""
    lifecycle.accept(session, task, office)
    lifecycle.submit(session, task, office, note="已完成")
    lifecycle.verify(session, task, office)


def _world_with_tasks(engine, per_phase: dict[str, int]):
    with session_scope(engine) as session:
        world = build_world(session)
        ids = {phase: [world.task(session, f"{phase}-{n}", phase=phase).id for n in range(count)]
               for phase, count in per_phase.items()}
        return world.campaign.code, {code: p.id for code, p in world.phases.items()}, ids, world.people["王主任"].id


def _verify(engine, task_ids, office_id) -> None:
    from tracker.org.models import Person

    with session_scope(engine) as session:
        office = session.get(Person, office_id)
        for task_id in task_ids:
            _close(session, session.get(Task, task_id), office)


def _phase_status(engine, phase_id) -> PhaseStatus:
    with session_scope(engine) as session:
        return PhaseStatus(session.get(Phase, phase_id).status)


def test_two_dispatchers_claim_disjoint_sets_covering_every_event(engine):
    with session_scope(engine) as session:
        world = build_world(session)
        task = world.task(session, "t1")
        wanted = [record_event(session, type="task.verified", actor="王主任", campaign_id=world.campaign.id,
                               task_id=task.id).id for _ in range(120)]
        # events no flow reacts to are never claimed
        for _ in range(30):
            record_event(session, type="task.progress", actor="王主任", campaign_id=world.campaign.id,
                         task_id=task.id)

    barrier = threading.Barrier(2)
    claimed: dict[str, list[int]] = {"a": [], "b": []}

    def dispatcher(name: str) -> None:
        barrier.wait()
        while True:
            ids, _ = claim_events(engine, limit=7)
            if not ids:
                return
            claimed[name].extend(ids)

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not set(claimed["a"]) & set(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == wanted
    with session_scope(engine) as session:
        left = session.exec(select(Event).where(Event.dispatched_at.is_(None))).all()
    assert {e.type for e in left} == {"task.created", "task.progress"}


async def test_verifying_a_phase_passes_its_gate_through_the_dispatcher(engine, prefect_harness):
    code, phases, tasks, office_id = _world_with_tasks(engine, {"self_check": 3})
    first, last = tasks["self_check"][:2], tasks["self_check"][2:]

    _verify(engine, first, office_id)
    # recording 销号 starts nothing by itself
    assert _phase_status(engine, phases["self_check"]) is PhaseStatus.active

    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert len(report.claimed) == 2
    assert len(report.outcomes) == 1  # two events, one gate check
    outcome = report.outcomes[0]
    assert outcome.ok and outcome.start.flow_name == "gate-check"
    assert outcome.start.parameters == {"campaign_code": code, "phase_id": phases["self_check"], "phase_name": "自查自评"}
    assert outcome.result["passed"] is False
    assert any("1 项任务未销号" in r for r in outcome.result["reasons"])
    assert _phase_status(engine, phases["self_check"]) is PhaseStatus.active

    _verify(engine, last, office_id)
    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    # the gate check passes, and the next pass starts the activated phase's own flow (issue 16)
    assert [o.start.flow_name for o in report.outcomes] == ["gate-check", "phase-rectification"]
    assert report.outcomes[0].result["newly_passed"] is True
    assert report.outcomes[0].result["activated_phase_id"] == phases["rectification"]
    assert _phase_status(engine, phases["self_check"]) is PhaseStatus.passed
    assert _phase_status(engine, phases["rectification"]) is PhaseStatus.active

    again = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert again.claimed == [] and again.outcomes == []
    with session_scope(engine) as session:
        passed = session.exec(select(Event).where(Event.type == "phase.gate_passed")).all()
    assert len(passed) == 1


async def test_withdrawing_the_last_open_task_also_checks_the_gate(engine, prefect_harness):
    from tracker.org.models import Person

    code, phases, tasks, office_id = _world_with_tasks(engine, {"self_check": 2})
    _verify(engine, tasks["self_check"][:1], office_id)
    with session_scope(engine) as session:
        lifecycle.withdraw(session, session.get(Task, tasks["self_check"][1]), session.get(Person, office_id),
                           reason="与其他任务合并")
    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert [o.result.get("newly_passed") for o in report.outcomes] == [True, None]  # gate check, next phase's flow
    assert _phase_status(engine, phases["self_check"]) is PhaseStatus.passed


def test_two_dispatcher_threads_start_one_flow_run_per_event(engine, prefect_harness):
    code, phases, tasks, office_id = _world_with_tasks(engine, {"self_check": 4, "rectification": 4})
    _verify(engine, tasks["self_check"] + tasks["rectification"], office_id)
    with session_scope(engine) as session:
        verified = sorted(e.id for e in session.exec(select(Event).where(Event.type == "task.verified")))

    barrier = threading.Barrier(2)
    reports = {}

    def dispatcher(name: str) -> None:
        barrier.wait()
        # one event per pass, so each event gets its own flow run and a double start would show
        reports[name] = asyncio.run(dispatch_pending(engine, mode=DispatchMode.embedded, limit=1))

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)

    started = Counter(eid for r in reports.values() for o in r.outcomes for eid in o.start.event_ids
                      if o.start.flow_name == "gate-check")
    assert sorted(started) == verified
    assert set(started.values()) == {1}
    assert all(o.ok for r in reports.values() for o in r.outcomes)
    assert _phase_status(engine, phases["self_check"]) is PhaseStatus.passed
    assert _phase_status(engine, phases["rectification"]) is PhaseStatus.passed
    with session_scope(engine) as session:
        assert len(session.exec(select(Event).where(Event.type == "phase.gate_passed")).all()) == 2


async def test_deployments_mode_gives_claims_back_when_the_server_is_unreachable(engine, monkeypatch):
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    code, phases, tasks, office_id = _world_with_tasks(engine, {"self_check": 1})
    _verify(engine, tasks["self_check"], office_id)
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api", PREFECT_CLIENT_MAX_RETRIES: 0}):
        report = await dispatch_once(engine, mode=DispatchMode.deployments)
    assert len(report.claimed) == 1 and report.released == report.claimed
    assert report.failed == 1 and "Prefect 服务器" in report.outcomes[0].error
    with session_scope(engine) as session:
        event = session.get(Event, report.claimed[0])
    assert event.dispatched_at is None  # the next pass tries again


def test_dispatch_mode_is_checked(monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("JUNHENG_PREFECT_MODE", raising=False)
    assert dispatch_mode() is DispatchMode.embedded
    with pytest.raises(DispatchError, match="JUNHENG_PREFECT_MODE 的值「sometimes」无效"):
        dispatch_mode("sometimes")
    with temporary_settings({PREFECT_API_URL: None}):
        with pytest.raises(DispatchError, match="需要 Prefect 服务器"):
            dispatch_mode("deployments")
    with temporary_settings({PREFECT_API_URL: "http://prefect.example:4200/api"}):
        assert dispatch_mode("deployments") is DispatchMode.deployments


async def test_an_event_naming_no_phase_starts_nothing_and_says_why(engine, prefect_harness):
    with session_scope(engine) as session:
        world = build_world(session)
        # a verdict naming a phase the campaign does not have: no gate check to run
        record_event(session, type="review.verdict", actor="王主任", campaign_id=world.campaign.id,
                     payload={"review_id": None, "phase_id": 999})
    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert report.outcomes == [] and [why for _, why in report.ignored] == ["找不到事件对应的阶段"]
    again = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert again.claimed == []
