"""The tracker owns the outcome of the flow runs it starts (issue 16 §2): a run that failed, crashed
or did not start within its bound is started again; the gate safety net passes a gate whose check
was lost. Real Prefect (the test harness's server) for the runs' states."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from sqlmodel import select

from flows import DEPLOYMENTS
from flows.dispatcher import DispatchMode, dispatch_pending, run_embedded
from flows.followup import MAX_ATTEMPTS, check_gates, follow_flow_runs
from tests.factories_db import build_world
from tracker.db import session_scope, utcnow
from tracker.events.models import Event, FlowRunRecord
from tracker.org.models import Phase, PhaseStatus
from tracker.phases.models import PhaseStep
from tracker.tasks import lifecycle

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=CHINA)
REPO_PREFECT_YAML = __import__("pathlib").Path(__file__).resolve().parents[2] / "prefect.yaml"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


def _world(engine, *, verified: bool):
    with session_scope(engine) as session:
        world = build_world(session)
        task = world.task(session, "t1")
        if verified:
            office = world.people["王主任"]
            task.evidence_required = False
            lifecycle.accept(session, task, office)
            lifecycle.submit(session, task, office, note="已完成")
            lifecycle.verify(session, task, office)
        return world.campaign.code, {c: p.id for c, p in world.phases.items()}


def _record(engine, code, phase_id, **fields) -> int:
    values = dict(flow_name="gate-check", run_name=f"gate-check/{code}-自查自评",
                  parameters={"campaign_code": code, "phase_id": phase_id, "phase_name": "自查自评"},
                  event_ids=[], mode="embedded", state="failed", message="数据库连接中断")
    values.update(fields)
    with session_scope(engine) as session:
        row = FlowRunRecord(**values)
        session.add(row)
        session.flush()
        return row.id


def _records(engine) -> list[FlowRunRecord]:
    with session_scope(engine) as session:
        return list(session.exec(select(FlowRunRecord).order_by(FlowRunRecord.id)))


def test_prefect_yaml_lists_every_flow_under_its_readable_name():
    deployments = yaml.safe_load(REPO_PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]
    listed = {d["entrypoint"].rpartition(":")[2]: d["name"] for d in deployments}
    from flows.phases import FLOWS

    for flow_name, flow in FLOWS.items():
        assert listed[flow.fn.__name__] == DEPLOYMENTS[flow_name]
    assert sorted(d["name"] for d in deployments) == sorted(DEPLOYMENTS.values())


@pytest.mark.usefixtures("prefect_harness")
async def test_a_failed_run_is_started_again_until_it_completes(engine, frozen):
    code, phases = _world(engine, verified=True)
    failed = _record(engine, code, phases["self_check"])

    report = await follow_flow_runs(engine)
    assert report.retried == [(failed, "数据库连接中断")]
    old, new = _records(engine)
    assert (old.state, new.state, new.attempt, new.retry_of) == ("retried", "completed", 2, failed)
    assert new.message.startswith("通过：")
    with session_scope(engine) as session:
        assert PhaseStatus(session.get(Phase, phases["self_check"]).status) is PhaseStatus.passed

    again = await follow_flow_runs(engine)
    assert again.retried == [] and len(_records(engine)) == 2


async def test_a_run_failing_every_time_is_given_up(engine):
    code, phases = _world(engine, verified=False)
    last = _record(engine, code, phases["self_check"], attempt=MAX_ATTEMPTS)
    report = await follow_flow_runs(engine)
    assert report.given_up == [last] and report.retried == []
    assert [r.state for r in _records(engine)] == ["given_up"]


@pytest.mark.usefixtures("prefect_harness")
async def test_runs_on_workers_not_started_in_time_or_crashed_are_started_again(engine, frozen, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Crashed

    import flows.followup as followup
    from flows.gates import gate_check_flow

    code, phases = _world(engine, verified=True)
    params = {"campaign_code": code, "phase_id": phases["self_check"], "phase_name": "自查自评"}
    async with get_client() as client:
        # runs no worker will take: one left Scheduled, one Crashed, one Completed
        waiting, crashed, done = [await client.create_flow_run(gate_check_flow, parameters=params) for _ in range(3)]
        await client.set_flow_run_state(crashed.id, Crashed(message="worker 进程被杀"), force=True)
        await client.set_flow_run_state(done.id, Completed(message="未通过：还有 1 项任务未销号"), force=True)
    long_ago = utcnow() - dt.timedelta(minutes=10)
    ids = {name: _record(engine, code, phases["self_check"], mode="deployments", state="created",
                         flow_run_id=str(run.id), created_at=long_ago, message="")
           for name, run in (("waiting", waiting), ("crashed", crashed), ("done", done))}

    started = []

    async def run_here(start):  # stands in for the worker: the retry runs in this process
        started.append(start)
        return await run_embedded(start)

    monkeypatch.setattr(followup, "create_deployment_run", run_here)
    report = await follow_flow_runs(engine)
    assert report.completed == [ids["done"]]
    whys = dict(report.retried)
    assert set(whys) == {ids["waiting"], ids["crashed"]}
    assert "仍未开始运行" in whys[ids["waiting"]] and whys[ids["crashed"]].startswith("CRASHED")
    assert {s.attempt for s in started} == {2} and all(s.parameters == params for s in started)
    async with get_client() as client:
        assert (await client.read_flow_run(waiting.id)).state.is_cancelled()  # a late worker won't start it
    by_id = {r.id: r for r in _records(engine)}
    assert by_id[ids["done"]].state == "completed" and by_id[ids["done"]].message.startswith("未通过")
    assert by_id[ids["waiting"]].state == by_id[ids["crashed"]].state == "retried"
    with session_scope(engine) as session:
        passed = session.exec(select(Event).where(Event.type == "phase.gate_passed")).all()
    assert len(passed) == 1  # two retries of one gate check: passed once


@pytest.mark.usefixtures("prefect_harness")
async def test_the_safety_net_passes_a_gate_whose_check_was_lost(engine, frozen):
    code, phases = _world(engine, verified=True)
    with session_scope(engine) as session:
        # the dispatcher claimed the 销号 and its gate check was lost with a worker
        for event in session.exec(select(Event).where(Event.type == "task.verified")):
            event.dispatched_at = utcnow()
            session.add(event)
        other = build_world(session, code="later")  # a campaign whose first phase's start date has come
        other.phases["self_check"].status = PhaseStatus.pending.value
        session.add(other.phases["self_check"])
        later_first = other.phases["self_check"].id

    sweep = check_gates(engine, today=dt.date(2026, 12, 7))
    # checked: every active phase with no open task (the new campaign's phase has none yet: not passed)
    assert sorted((r["phase_id"], r["newly_passed"]) for r in sweep.results) == [
        (phases["self_check"], True), (later_first, False)]
    assert [c["phase_id"] for c in sweep.closed] == [phases["self_check"]]
    assert sweep.started == [later_first]
    with session_scope(engine) as session:
        assert session.exec(select(PhaseStep).where(PhaseStep.step == "summary")).one().phase_id == phases["self_check"]

    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert sorted(o.start.flow_name for o in report.outcomes) == ["phase-rectification", "phase-self-check"]
    assert not any(r["newly_passed"] for r in check_gates(engine, today=dt.date(2026, 12, 7)).results)
