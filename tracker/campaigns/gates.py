"""Phase gates: when a phase's work is done, it passes and the next phase starts.

A phase's gate passes when it has work and all of it is closed — every task 已销号 or 已撤销 —
and, for a review phase (市级/省级/国家) or a phase a review above the county was opened in (seed 001's
自评申报 holds the 市督导室复核), a verdict other than 不通过 is recorded (the latest counts). The
county's own 县级督查 never holds a gate by its verdict, only by its open tasks. A non-review phase
with no tasks at all does not pass: an empty self-check means the self-check has not run yet.
The check runs after every 销号 and every verdict (the dispatcher starts it) and is safe to run
twice: only the first successful check writes ``phase.gate_passed``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, func, update
from sqlmodel import Session, select

from tracker.db import utcnow
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Phase, PhaseStatus
from tracker.plans.kinds import PhaseKind
from tracker.reviews.models import Review
from tracker.reviews.service import hosting_phase_ids, latest_verdict
from tracker.tasks.lifecycle import OPEN
from tracker.tasks.models import Task
from tracker.workdays import working_days_between

FAILED_VERDICT = "不通过"
REVIEW_KINDS = frozenset({PhaseKind.review_city, PhaseKind.review_province, PhaseKind.review_national})


@dataclass
class GateResult:
    phase: Phase
    passed: bool
    newly_passed: bool = False  # this check passed the gate (and wrote the event)
    reasons: list[str] = field(default_factory=list)  # why it does not pass (Chinese)
    activated: Phase | None = None  # the next phase this check activated


@dataclass
class GateStatus:
    phase: Phase
    total_tasks: int
    open_tasks: int
    days_left: int | None  # working days to gate_on (negative when past), None when unknown
    verdict_needed: bool  # a review phase still waiting for its verdict


def is_review(phase: Phase) -> bool:
    return PhaseKind(phase.kind) in REVIEW_KINDS


def _task_counts(session: Session, phase: Phase) -> tuple[int, int]:
    total, open_ = session.exec(
        select(func.count(), func.sum(case((Task.status.in_([s.value for s in OPEN]), 1), else_=0)))
        .select_from(Task).where(Task.phase_id == phase.id)
    ).one()
    return int(total), int(open_ or 0)


def _verdict(session: Session, phase: Phase) -> Review | None:
    return latest_verdict(session, phase.id)


def waits_for_verdict(session: Session, phase: Phase) -> bool:
    """A review phase, or one holding a review above the county."""
    return is_review(phase) or phase.id in hosting_phase_ids(session, phase.campaign_id)


def check_gate(session: Session, phase: Phase, actor: str = SYSTEM_ACTOR) -> GateResult:
    if PhaseStatus(phase.status) is PhaseStatus.passed:
        return GateResult(phase=phase, passed=True)

    total, open_ = _task_counts(session, phase)
    reasons: list[str] = []
    waits = waits_for_verdict(session, phase)
    review = _verdict(session, phase) if waits else None
    if waits:
        if review is None:
            reasons.append(f"阶段「{phase.name}」尚未录入评估结论")
        elif review.verdict == FAILED_VERDICT:
            # a failed review is rectified and reviewed again; only a later verdict passes the gate
            reasons.append(f"阶段「{phase.name}」评估结论为「不通过」，整改后需重新评估")
    if not is_review(phase) and total == 0:
        reasons.append(f"阶段「{phase.name}」还没有任务")
    if open_:
        reasons.append(f"阶段「{phase.name}」还有 {open_} 项任务未销号")
    if reasons:
        return GateResult(phase=phase, passed=False, reasons=reasons)

    now = utcnow()
    # Conditional, so two checks running at once pass the gate (and write the event) only once.
    passed = session.execute(
        update(Phase).where(Phase.id == phase.id, Phase.status != PhaseStatus.passed.value)
        .values(status=PhaseStatus.passed.value, passed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(phase)
    if passed != 1:
        return GateResult(phase=phase, passed=True)
    payload = {"phase_id": phase.id, "phase": phase.code, "name": phase.name, "tasks": total}
    if review is not None:
        payload.update(review_id=review.id, verdict=review.verdict)
    record_event(session, type="phase.gate_passed", actor=actor, campaign_id=phase.campaign_id,
                 payload=payload, at=now)

    activated = None
    following = session.exec(
        select(Phase).where(Phase.campaign_id == phase.campaign_id, Phase.ordinal > phase.ordinal)
        .order_by(Phase.ordinal, Phase.id)
    ).first()
    if following is not None and PhaseStatus(following.status) is PhaseStatus.pending:
        changed = session.execute(
            update(Phase).where(Phase.id == following.id, Phase.status == PhaseStatus.pending.value)
            .values(status=PhaseStatus.active.value)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(following)
        if changed == 1:
            record_event(session, type="phase.activated", actor=actor, campaign_id=phase.campaign_id,
                         payload={"phase_id": following.id, "phase": following.code, "name": following.name,
                                  "after": phase.code}, at=now)
            activated = following
    return GateResult(phase=phase, passed=True, newly_passed=True, activated=activated)


def gate_status(session: Session, phase: Phase, today: dt.date) -> GateStatus:
    total, open_ = _task_counts(session, phase)
    days_left = working_days_between(today, phase.gate_on) if phase.gate_on else None
    verdict_needed = waits_for_verdict(session, phase) and _verdict(session, phase) is None
    return GateStatus(phase=phase, total_tasks=total, open_tasks=open_, days_left=days_left,
                      verdict_needed=verdict_needed)
