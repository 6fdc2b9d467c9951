"""The tracker owns the outcome of every flow run the dispatcher started (issue 16 §2).

On a Prefect server with workers a run can be lost: a worker's machine dies while the run is
"Submitting" (the run waits there, no other worker takes it), or the worker's process is killed
mid-run (the run goes to Crashed and nothing retries it) — and the events were already marked
dispatched. So the dispatcher records each run it creates (``FlowRunRecord``) and this follow-up,
run by the scheduler every minute (``follow_flow_runs``) or ``junheng flows follow``, reads the
state of the runs not yet settled (one API call for all of them) and:

- Completed → ``completed``, with the run's state message (通过 / 未通过 and why);
- Failed or Crashed → starts it again (a new run, a new record ``retry_of`` the old one);
- not started (Scheduled, Pending, Late) after ``start_bound`` → cancels it and starts it again;
- Running for longer than ``run_bound`` → starts it again (a worker that vanished mid-run leaves
  its run Running until the server notices).

The flows are idempotent, so a run started twice does its work once. After ``MAX_ATTEMPTS`` a run
is ``given_up`` and logged: a flow that fails every time is a bug, not an outage. Embedded runs are
followed too: a failed one is run again in this process.

Besides, ``check_gates`` (the scheduler, every 10 minutes) checks the gate of every active phase whose
tasks are all closed, found in one statement: a safety net for a gate check lost any other way.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from flows.dispatcher import (
    DispatchMode,
    FlowOutcome,
    FlowStart,
    create_deployment_run,
    record_flow_runs,
    run_embedded,
)
from tracker.db import get_engine, session_scope, utcnow
from tracker.events.models import FlowRunRecord
from tracker.events.queries import flow_runs_to_follow, settle_flow_run

log = logging.getLogger("junheng.dispatcher")

MAX_ATTEMPTS = 5
START_BOUND = dt.timedelta(minutes=3)  # a run no worker started within this is started again
RUN_BOUND = dt.timedelta(minutes=30)  # a run still Running after this is started again
NOT_STARTED = {"SCHEDULED", "PENDING"}
RETRIED = {"FAILED": "failed", "CRASHED": "crashed"}


@dataclass
class FollowReport:
    completed: list[int] = field(default_factory=list)  # record ids
    retried: list[tuple[int, str]] = field(default_factory=list)  # (old record id, why)
    given_up: list[int] = field(default_factory=list)
    waiting: int = 0
    outcomes: list[FlowOutcome] = field(default_factory=list)  # the runs started again


async def _states(flow_run_ids: list[str]) -> dict[str, tuple[str, str, dt.datetime | None]]:
    """Prefect's state (type, message, when it was entered) of these runs, in one API call."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    if not flow_run_ids:
        return {}
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(i) for i in flow_run_ids])),
            limit=len(flow_run_ids))
    return {str(r.id): (r.state.type.value if r.state else "SCHEDULED", (r.state.message or "") if r.state else "",
                        r.state.timestamp if r.state else None) for r in runs}


async def _cancel(flow_run_id: str, running: bool = False) -> None:
    """Cancel a run nobody started, so a worker that comes back does not start it late; mark one
    whose worker vanished mid-run Crashed, so Prefect's UI does not show it running for ever."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Crashed

    state = (Crashed(message="超时未结束（worker 可能已停止），已由均衡督办重新派发") if running
             else Cancelled(message="未在时限内开始，已由均衡督办重新派发"))
    try:
        async with get_client() as client:
            await client.set_flow_run_state(UUID(flow_run_id), state, force=True)
    except Exception as exc:  # noqa: BLE001 — the new run is started anyway; the flows are idempotent
        log.warning("无法取消流程运行 %s：%s", flow_run_id, exc)


def _start_of(record: FlowRunRecord) -> FlowStart:
    return FlowStart(flow_name=record.flow_name, parameters=dict(record.parameters),
                     event_ids=tuple(record.event_ids), attempt=record.attempt + 1, retry_of=record.id)


async def follow_flow_runs(engine: Engine | None = None, *, now: dt.datetime | None = None,
                           start_bound: dt.timedelta = START_BOUND, run_bound: dt.timedelta = RUN_BOUND) -> FollowReport:
    """One pass over the recorded runs whose outcome is not settled (see the module's text)."""
    engine = engine or get_engine()
    now = now or utcnow()
    report = FollowReport()
    with session_scope(engine) as session:
        records = flow_runs_to_follow(session)
    if not records:
        return report
    remote = [r for r in records if r.mode == DispatchMode.deployments.value and r.state == "created" and r.flow_run_id]
    states = await _states([r.flow_run_id for r in remote]) if remote else {}

    again: list[tuple[FlowRunRecord, str, DispatchMode]] = []
    for record in records:
        mode = DispatchMode(record.mode) if record.mode in DispatchMode._value2member_map_ else DispatchMode.embedded
        if record.state in ("failed", "crashed", "late"):  # settled as failed, not yet started again
            again.append((record, record.message or record.state, mode))
            continue
        if record.mode != DispatchMode.deployments.value:
            continue
        kind, message, since = states.get(record.flow_run_id, ("SCHEDULED", "", None))
        age = now - (record.created_at if since is None or kind in NOT_STARTED else since)
        if kind == "COMPLETED":
            with session_scope(engine) as session:
                settle_flow_run(session, record.id, "completed", message, now)
            report.completed.append(record.id)
        elif kind in RETRIED:
            again.append((record, f"{kind}：{message}", mode))
        elif kind in NOT_STARTED and now - record.created_at > start_bound:
            await _cancel(record.flow_run_id)
            again.append((record, f"超过 {int(start_bound.total_seconds())} 秒仍未开始运行", mode))
        elif kind == "RUNNING" and age > run_bound:
            await _cancel(record.flow_run_id, running=True)
            again.append((record, f"运行超过 {int(run_bound.total_seconds() // 60)} 分钟仍未结束", mode))
        elif kind in ("CANCELLED", "CANCELLING"):
            with session_scope(engine) as session:
                settle_flow_run(session, record.id, "given_up", f"已被取消：{message}", now)
            report.given_up.append(record.id)
        else:
            report.waiting += 1

    for record, why, mode in again:
        if record.attempt >= MAX_ATTEMPTS:
            with session_scope(engine) as session:
                if settle_flow_run(session, record.id, "given_up", f"已尝试 {record.attempt} 次：{why}", now):
                    report.given_up.append(record.id)
                    log.error("流程 %s %s 已尝试 %d 次仍未成功，不再重试：%s", record.flow_name, record.parameters,
                              record.attempt, why)
            continue
        # claim the retry first (conditional), so two followers start it once
        with session_scope(engine) as session:
            if not settle_flow_run(session, record.id, "retried", why, now):
                continue
        start = _start_of(record)
        if mode is DispatchMode.deployments:
            try:
                outcome = await create_deployment_run(start)
            except Exception as exc:  # noqa: BLE001 — server away: the record goes back to be followed
                with session_scope(engine) as session:
                    settle_flow_run(session, record.id, "late", f"{why}；重新派发失败：{exc}", now, expected=("retried",))
                continue
        else:
            outcome = await run_embedded(start)
        record_flow_runs([outcome], mode, engine)
        report.retried.append((record.id, why))
        report.outcomes.append(outcome)
        log.warning("流程 %s %s 重新派发（第 %d 次）：%s", record.flow_name, record.parameters, start.attempt, why)
    return report


# --- the safety net: gate checks of every active phase -------------------------------------------


@dataclass
class GateSweep:
    results: list[dict] = field(default_factory=list)  # check_gate's dict per phase checked
    started: list[int] = field(default_factory=list)  # campaigns' first phases activated by date
    closed: list[dict] = field(default_factory=list)  # 阶段小结 written


def check_gates(engine: Engine | None = None, *, campaign_code: str | None = None, phase_id: int | None = None,
                today: dt.date | None = None) -> GateSweep:
    """Check gates in this process, without Prefect: one phase (``phase_id``), or every active phase
    whose tasks are all closed (found in one statement; also the first phase of a campaign whose
    start date has come is activated). A gate passed here gets its 阶段小结 as the flow would;
    the phases it activates start their flows at the next dispatch pass."""
    from flows.phase_steps import close_phase
    from flows.steps import check_gate
    from tracker.clock import local_today
    from tracker.org.models import Campaign, Phase
    from tracker.phases import queries as phase_queries
    from tracker.phases.service import start_due_campaigns

    engine = engine or get_engine()
    sweep = GateSweep()
    with session_scope(engine) as session:
        if phase_id is None:
            sweep.started = start_due_campaigns(session, today or local_today())
            targets = phase_queries.gate_candidates(session)
        else:
            targets = [phase_id]
        pairs = []
        for pid in targets:
            phase = session.get(Phase, pid)
            campaign = session.get(Campaign, phase.campaign_id) if phase is not None else None
            if campaign is not None and (campaign_code is None or campaign.code == campaign_code):
                pairs.append((campaign.code, pid))
            elif phase_id is not None:
                pairs.append((campaign_code or "", pid))  # check_gate names the problem in Chinese
    for code, pid in pairs:
        result = check_gate(code, pid)
        sweep.results.append(result)
        if result["passed"]:
            closing = close_phase(code, pid)
            if closing.get("closed") and not closing.get("already"):
                sweep.closed.append({"phase_id": pid, **closing})
    return sweep
