"""The event dispatcher: tracker events start the short flows that react to them.

A person's command (``junheng task verify``, a verdict entered, a sheet imported) only records
its event in the tracker's append-only log and returns. The dispatcher — ``junheng dispatch``,
run on a clock by the scheduler or by hand — reads the events nobody has dispatched yet, claims
them, and starts the reacting flows:

    task.verified, task.withdrawn  → gate-check (the task's phase)
    review.verdict                 → gate-check (the review's phase)
    submission.imported            → reassessment, unless the self-check flow imported it itself
                                     (that flow assesses at once; it marks the event in its payload)
    briefing.due                   → weekly-briefing (the week in its payload; the scheduler's
                                     Monday 08:30 job records it)
    phase.activated                → the phase's own flow by its kind (flows/phases.py):
                                     phase-self-check, phase-rectification, phase-review (level
                                     市级/省级), phase-national-check, phase-custom

Every flow run it starts is recorded (``FlowRunRecord``: flow, parameters, events, Prefect's run
id, outcome), so the tracker owns the outcome: flows/followup.py starts again a run that failed,
crashed or did not start within a bound (issue 16 §2).

Why our own dispatcher rather than Prefect custom events with deployment triggers: triggers
need a running Prefect server (the demo, the tests and a one-machine county run Prefect
embedded, with an ephemeral server that runs no automations), and Prefect's own event store would
duplicate the tracker's event log, which is the record the office reads. The dispatcher works in
both set-ups: embedded it runs the flows in this process; with ``JUNHENG_PREFECT_MODE=deployments``
it creates flow runs of the deployments in prefect.yaml for the workers to pick up.

Claiming is one conditional UPDATE (``… SET dispatched_at = now WHERE id IN (…) AND dispatched_at
IS NULL RETURNING id``), so two dispatchers running at once — two threads, two machines —
never both start a flow for one event: each gets back only the rows it changed. Several events
asking for the same flow run (ten tasks of a phase verified in a row) start it once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows import ASSESSED_BY_CALLER, deployment_of
from tracker.events.models import FlowRunRecord
from tracker.events.queries import add_flow_runs
from tracker.org.models import Campaign, Phase
from tracker.plans.kinds import PhaseKind
from tracker.reviews.models import Review
from tracker.db import get_engine, session_scope, utcnow
from tracker.events.models import Event
from tracker.events.queries import claim_events as claim
from tracker.events.queries import events_by_id, undispatched_ids
from tracker.events.queries import release_events as release
from tracker.tasks.models import Task
from tracker.errors import JunhengError

log = logging.getLogger("junheng.dispatcher")

GATE_CHECK = "gate-check"
REASSESSMENT = "reassessment"
BRIEFING = "weekly-briefing"
PHASE = "phase"  # the phase's own flow, chosen by its kind (PHASE_FLOWS)

# the flow of each phase kind (flows/phases.py), and the parameters it takes beside the phase
PHASE_FLOWS: dict[PhaseKind, tuple[str, dict[str, Any]]] = {
    PhaseKind.self_check: ("phase-self-check", {}),
    PhaseKind.rectification: ("phase-rectification", {}),
    PhaseKind.review_city: ("phase-review", {"level": "市级"}),
    PhaseKind.review_province: ("phase-review", {"level": "省级"}),
    PhaseKind.review_national: ("phase-national-check", {}),
    PhaseKind.other: ("phase-custom", {}),
}

# event type → the flow that reacts to it
REACTIONS: dict[str, str] = {
    "task.verified": GATE_CHECK,
    "task.withdrawn": GATE_CHECK,  # withdrawing the last open task closes the phase's work too
    "review.verdict": GATE_CHECK,
    "submission.imported": REASSESSMENT,
    "briefing.due": BRIEFING,
    "phase.activated": PHASE,
}

DEFAULT_BATCH = 200
MAX_PASSES = 20  # a pass's flows record events (a gate passed → phase.activated): look again, boundedly


class DispatchMode(str, Enum):
    embedded = "embedded"  # run the flows in this process (ephemeral Prefect, or PREFECT_API_URL)
    deployments = "deployments"  # create runs of prefect.yaml's deployments for the workers


class DispatchError(JunhengError):
    """A set-up problem the user must fix (Chinese message)."""


def dispatch_mode(value: str | None = None) -> DispatchMode:
    raw = (value or os.environ.get("JUNHENG_PREFECT_MODE") or DispatchMode.embedded.value).strip().lower()
    try:
        mode = DispatchMode(raw)
    except ValueError:
        raise DispatchError(
            f"JUNHENG_PREFECT_MODE 的值「{raw}」无效：应为 embedded（本进程内运行流程）或 "
            "deployments（交给 Prefect 服务器上的部署和 worker 运行）") from None
    if mode is DispatchMode.deployments and not _prefect_api_url():
        raise DispatchError("JUNHENG_PREFECT_MODE=deployments 需要 Prefect 服务器：请设置 PREFECT_API_URL，"
                            "例如 http://prefect-host:4200/api")
    return mode


def _prefect_api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@dataclass(frozen=True)
class FlowStart:
    """One flow run to start, and the events it answers."""

    flow_name: str
    parameters: dict[str, Any]
    event_ids: tuple[int, ...]
    attempt: int = 1  # > 1: started again by flows/followup.py
    retry_of: int | None = None  # the FlowRunRecord it takes over from

    def idempotency_key(self) -> str:
        """A second creation for the same events (a retried pass) returns the same run; a retry
        (``attempt`` > 1) is a new run."""
        key = f"junheng-{self.flow_name}-events-{'-'.join(map(str, self.event_ids))}"
        if not self.event_ids:
            key = f"junheng-{self.flow_name}-" + "-".join(f"{k}={v}" for k, v in sorted(self.parameters.items()))
        return key if self.attempt == 1 else f"{key}-attempt-{self.attempt}-of-{self.retry_of}"


@dataclass
class FlowOutcome:
    start: FlowStart
    ok: bool
    result: dict[str, Any] | None = None  # embedded: the flow's return value
    flow_run_id: str | None = None
    error: str | None = None
    message: str | None = None  # the run's final state message (embedded): 通过 / 未通过 and why


@dataclass
class DispatchReport:
    claimed: list[int] = field(default_factory=list)
    ignored: list[tuple[int, str]] = field(default_factory=list)  # (event id, why no flow)
    outcomes: list[FlowOutcome] = field(default_factory=list)
    released: list[int] = field(default_factory=list)  # claims given back (flow runs not created)

    @property
    def started(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)


# --- claiming -------------------------------------------------------------------------------


def claim_events(engine: Engine | None = None, limit: int = DEFAULT_BATCH) -> tuple[list[int], dt.datetime]:
    """Claim up to ``limit`` undispatched events of the reacting types; returns the ids this call
    claimed (and the claim's timestamp). Ids another dispatcher claimed first are not returned."""
    engine = engine or get_engine()
    while True:
        stamp = utcnow()
        with session_scope(engine) as session:
            candidates = undispatched_ids(session, REACTIONS, limit)
            if not candidates:
                return [], stamp
            claimed = claim(session, candidates, stamp)
        if claimed:
            return claimed, stamp
        # Another dispatcher took every candidate between our read and our update: look again.


def release_events(event_ids: list[int], stamp: dt.datetime, engine: Engine | None = None) -> int:
    """Give claims back (their flow runs could not be created), so the next pass retries them.
    Only this claim's rows (same timestamp) are released."""
    if not event_ids:
        return 0
    with session_scope(engine or get_engine()) as session:
        return release(session, event_ids, stamp)


# --- from events to flow runs ---------------------------------------------------------------


def plan_flow_starts(session: Session, event_ids: list[int]) -> tuple[list[FlowStart], list[tuple[int, str]]]:
    """The flow runs the events ask for (one per distinct flow and parameters), and the events
    that ask for none, with the reason."""
    wanted: dict[tuple[str, tuple], list[int]] = {}
    ignored: list[tuple[int, str]] = []
    codes: dict[int, str] = {}

    def code_of(campaign_id: int | None) -> str | None:
        if campaign_id is None:
            return None
        if campaign_id not in codes:
            campaign = session.get(Campaign, campaign_id)
            codes[campaign_id] = campaign.code if campaign else None
        return codes[campaign_id]

    for event in events_by_id(session, event_ids):
        flow_name = REACTIONS.get(event.type)
        code = code_of(event.campaign_id)
        if flow_name is None or code is None:
            ignored.append((event.id, "事件不属于任何创建活动"))
            continue
        payload = event.payload or {}
        if flow_name in (GATE_CHECK, PHASE):
            phase_id = _phase_of(session, event)
            phase = session.get(Phase, phase_id) if phase_id is not None else None
            if phase is None:
                ignored.append((event.id, "找不到事件对应的阶段"))
                continue
            # the readable name beside the id: Prefect's UI shows parameters and names runs by it
            params = {"campaign_code": code, "phase_id": phase.id, "phase_name": phase.name}
            if flow_name == PHASE:
                flow_name, extra = PHASE_FLOWS[PhaseKind(phase.kind)]
                params.update(extra)
        elif flow_name == BRIEFING:
            if not payload.get("week"):
                ignored.append((event.id, "事件未注明周次"))
                continue
            # briefing.due is the scheduler's Monday job: that briefing goes out by mail
            params = {"campaign_code": code, "iso_week": str(payload["week"]), "send": True}
        else:
            if payload.get(ASSESSED_BY_CALLER):
                ignored.append((event.id, "自查流程已评估该批数据"))
                continue
            submission_id = payload.get("submission_id")
            if submission_id is None:
                ignored.append((event.id, "事件未注明数据批次"))
                continue
            params = {"campaign_code": code, "submission_id": int(submission_id)}
        wanted.setdefault((flow_name, tuple(sorted(params.items()))), []).append(event.id)

    starts = [FlowStart(flow_name=name, parameters=dict(params), event_ids=tuple(ids))
              for (name, params), ids in wanted.items()]
    return starts, ignored


def _phase_of(session: Session, event: Event) -> int | None:
    payload = event.payload or {}
    if event.type == "phase.activated":
        return int(payload["phase_id"]) if payload.get("phase_id") is not None else None
    if event.type == "review.verdict":
        if payload.get("phase_id") is not None:
            return int(payload["phase_id"])
        review = session.get(Review, payload.get("review_id")) if payload.get("review_id") else None
        return review.phase_id if review else None
    task = session.get(Task, event.task_id) if event.task_id is not None else None
    return task.phase_id if task else None


# --- running --------------------------------------------------------------------------------


def flow_by_name(name: str):
    from flows.briefing import weekly_briefing_flow
    from flows.gates import gate_check_flow
    from flows.phases import FLOWS
    from flows.selfcheck import reassessment_flow, self_check_flow

    return {GATE_CHECK: gate_check_flow, REASSESSMENT: reassessment_flow, BRIEFING: weekly_briefing_flow,
            "self-check": self_check_flow, **FLOWS}[name]


async def run_embedded(start: FlowStart) -> FlowOutcome:
    flow = flow_by_name(start.flow_name)
    state = await flow(**start.parameters, return_state=True)
    run_id = str(state.state_details.flow_run_id) if state.state_details.flow_run_id else None
    if state.is_completed():
        return FlowOutcome(start, ok=True, result=await state.result(), flow_run_id=run_id, message=state.message)
    try:
        await state.result()  # raises the flow's own error
        message = state.message or state.name
    except Exception as exc:  # noqa: BLE001 — reported, the other flow runs go on
        message = str(exc) or type(exc).__name__
    log.error("流程 %s %s 运行失败：%s", start.flow_name, start.parameters, message)
    return FlowOutcome(start, ok=False, flow_run_id=run_id, error=message)


async def create_deployment_run(start: FlowStart) -> FlowOutcome:
    from prefect.deployments import run_deployment

    flow_run = await run_deployment(
        name=deployment_of(start.flow_name),
        parameters=start.parameters,
        timeout=0,  # create the run and return; a worker runs it
        # a second creation for the same events (a retried pass) returns the same run
        idempotency_key=start.idempotency_key(),
        tags=["junheng", "dispatch"],
    )
    return FlowOutcome(start, ok=True, flow_run_id=str(flow_run.id))


async def dispatch_once(engine: Engine | None = None, *, mode: DispatchMode | str | None = None,
                        limit: int = DEFAULT_BATCH) -> DispatchReport:
    """One pass: claim what is waiting (up to ``limit`` events) and start the reacting flows."""
    mode = mode if isinstance(mode, DispatchMode) else dispatch_mode(mode)
    engine = engine or get_engine()
    report = DispatchReport()
    claimed, stamp = claim_events(engine, limit)
    report.claimed = claimed
    if not claimed:
        return report
    with session_scope(engine) as session:
        starts, report.ignored = plan_flow_starts(session, claimed)

    for start in starts:
        if mode is DispatchMode.embedded:
            report.outcomes.append(await run_embedded(start))
            continue
        try:
            report.outcomes.append(await create_deployment_run(start))
        except Exception as exc:  # noqa: BLE001 — the server is unreachable or the deployment missing
            # The network failed, not the work: give the claim back so the next pass retries.
            report.released.extend(start.event_ids)
            release_events(list(start.event_ids), stamp, engine)
            message = f"无法在 Prefect 服务器上创建流程运行 {deployment_of(start.flow_name)}：{exc}"
            log.error(message)
            report.outcomes.append(FlowOutcome(start, ok=False, error=message))
    record_flow_runs(report.outcomes, mode, engine)
    return report


RUN_STATES = {True: "completed", False: "failed"}


def record_flow_runs(outcomes: list[FlowOutcome], mode: DispatchMode, engine: Engine | None = None) -> list[int]:
    """Record the flow runs a pass started, in one INSERT: with a worker their outcome is not known
    yet (``created``); embedded, the run is over (``completed`` / ``failed``). A run whose creation
    failed for want of the server is not recorded: its events were given back instead."""
    rows = []
    with session_scope(engine or get_engine()) as session:
        for outcome in outcomes:
            if mode is DispatchMode.deployments and outcome.flow_run_id is None:
                continue
            params = outcome.start.parameters
            state = "created" if mode is DispatchMode.deployments else RUN_STATES[outcome.ok]
            rows.append(FlowRunRecord(
                campaign_id=_campaign_id(session, params.get("campaign_code")), flow_name=outcome.start.flow_name,
                run_name=run_name(outcome.start), parameters=params, event_ids=list(outcome.start.event_ids),
                mode=mode.value, flow_run_id=outcome.flow_run_id, state=state,
                message=(outcome.error or outcome.message or "")[:2000],
                attempt=outcome.start.attempt, retry_of=outcome.start.retry_of))
        add_flow_runs(session, rows)
        return [r.id for r in rows]


def _campaign_id(session: Session, code: str | None) -> int | None:
    from tracker.org.queries import campaign_id_by_code

    return campaign_id_by_code(session, code) if code else None


def run_name(start: FlowStart) -> str:
    """The readable name of the run (the same as flows.naming gives it inside Prefect)."""
    p = start.parameters
    what = (p.get("phase_name") or (f"阶段{p['phase_id']}" if p.get("phase_id") is not None else None)
            or p.get("iso_week") or (f"数据批次{p['submission_id']}" if p.get("submission_id") is not None else None))
    return f"{start.flow_name}/{p.get('campaign_code') or '默认'}" + (f"-{what}" if what else "")


async def dispatch_pending(engine: Engine | None = None, *, mode: DispatchMode | str | None = None,
                           limit: int = DEFAULT_BATCH) -> DispatchReport:
    """Passes until nothing is waiting (events released for a retry wait for the next call)."""
    total = DispatchReport()
    for _ in range(MAX_PASSES):
        report = await dispatch_once(engine, mode=mode, limit=limit)
        total.claimed += report.claimed
        total.ignored += report.ignored
        total.outcomes += report.outcomes
        total.released += report.released
        # Another pass while this one claimed anything: the flows it ran may have recorded events
        # of their own (a gate passed activates the next phase, whose flow starts at once).
        if not report.claimed or report.released:
            return total
    return total


def run_forever(interval: float, on_report: Callable[[DispatchReport], None], *,
                engine: Engine | None = None, mode: DispatchMode | str | None = None) -> None:
    """The long-running dispatcher: a pass every ``interval`` seconds until interrupted."""
    mode = mode if isinstance(mode, DispatchMode) else dispatch_mode(mode)

    async def loop() -> None:
        while True:
            report = await dispatch_pending(engine, mode=mode)
            if report.claimed:
                on_report(report)
            await asyncio.sleep(interval)

    asyncio.run(loop())
