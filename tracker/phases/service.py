"""A phase's entry steps and its closing figures (issue 16 §1), over the store.

Each step is done once per phase: ``done_step`` says whether it has been, ``record_step`` stores
what it did (flows/phases.py runs the step and records it in one transaction). The steps here
touch only the tracker; the notices (notifications/phases.py) and the 阶段小结's document are made
above, by the flow's steps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from tracker.campaigns import gates
from tracker.clock import local_today
from tracker.db import utcnow
from tracker.errors import ErrorKind, JunhengError
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Campaign, Phase, PhaseStatus
from tracker.org.queries import office_department
from tracker.org.service import plan_of
from tracker.phases import queries
from tracker.phases.models import PhaseStep
from tracker.plans.kinds import ENTRY_STEP_NAMES, PHASE_KIND_NAMES, RESUBMIT_INTERVALS, PhaseKind
from tracker.reviews import service as reviews
from tracker.tasks.models import TaskOrigin
from tracker.tasks.service import NewTask, change_due_date, create_tasks
from tracker.workdays import add_working_days

SUMMARY = "summary"  # the closing step: the 阶段小结

# the entry steps of each kind of phase, in the order its flow runs them
ENTRY_STEPS: dict[PhaseKind, tuple[str, ...]] = {
    PhaseKind.self_check: ("deployment_notice", "ladder"),
    PhaseKind.rectification: ("redate_shortfalls", "deployment_notice", "ladder", "resubmission_request"),
    PhaseKind.review_city: ("review_record", "inspection_tasks", "materials", "deployment_notice", "ladder"),
    PhaseKind.review_province: ("review_record", "inspection_tasks", "materials", "deployment_notice", "ladder"),
    PhaseKind.review_national: ("review_record", "inspection_tasks", "materials", "survey", "application_package",
                                "deployment_notice", "ladder"),
    PhaseKind.other: ("deployment_notice", "ladder"),
}
REVIEW_LEVEL_OF_KIND = {kind: level for level, kind in reviews.LEVELS.items()}


class PhaseFlowError(JunhengError, ValueError, kind=ErrorKind.not_found):
    """A phase id that is not there, or not the campaign's (Chinese message)."""


def phase_in(session: Session, campaign: Campaign, phase_id: int) -> Phase:
    phase = session.get(Phase, phase_id)
    if phase is None or phase.campaign_id != campaign.id:
        raise PhaseFlowError(f"创建工作「{campaign.code}」中没有编号为 {phase_id} 的阶段")
    return phase


def kind_of(phase: Phase) -> PhaseKind:
    return PhaseKind(phase.kind)


def kind_name(phase: Phase) -> str:
    return PHASE_KIND_NAMES.get(kind_of(phase), "其他")


def plan_entry(campaign: Campaign, phase: Phase):
    """The plan's entry of this phase (None for a campaign stored without a plan)."""
    if not campaign.plan:
        return None
    return next((p for p in plan_of(campaign).phases if p.code == phase.code), None)


def steps_for(campaign: Campaign, phase: Phase) -> list[str]:
    """The entry steps this phase's flow runs: its kind's, less those the plan switches off."""
    entry = plan_entry(campaign, phase)
    off = {label for label in (entry.steps_off if entry is not None else [])}
    return [s for s in ENTRY_STEPS[kind_of(phase)] if ENTRY_STEP_NAMES[s] not in off]


# --- once per phase and step --------------------------------------------------------------------


def done_step(session: Session, phase: Phase, step: str) -> PhaseStep | None:
    return queries.step_row(session, phase.id, step)


def record_step(session: Session, phase: Phase, step: str, result: dict[str, Any],
                document: bytes | None = None) -> PhaseStep:
    """Store that ``step`` is done for ``phase``. A second run's insert meets the unique key
    (phase, step) and its whole transaction rolls back: the step's work is never done twice."""
    row = PhaseStep(campaign_id=phase.campaign_id, phase_id=phase.id, step=step, result=result, document=document)
    session.add(row)
    session.flush()
    return row


# --- activation ---------------------------------------------------------------------------------


def activate(session: Session, phase: Phase, actor: str = SYSTEM_ACTOR, *, reason: str = "") -> bool:
    """Make a pending phase active and record ``phase.activated`` (which starts its flow); False
    when it was not pending. Conditional, so two callers activate it once."""
    changed = session.execute(
        update(Phase).where(Phase.id == phase.id, Phase.status == PhaseStatus.pending.value)
        .values(status=PhaseStatus.active.value).execution_options(synchronize_session=False)).rowcount
    session.refresh(phase)
    if changed != 1:
        return False
    record_event(session, type="phase.activated", actor=actor, campaign_id=phase.campaign_id,
                 payload={"phase_id": phase.id, "phase": phase.code, "name": phase.name, "reason": reason})
    return True


def start_due_campaigns(session: Session, today: dt.date, actor: str = SYSTEM_ACTOR) -> list[int]:
    """Activate the first phase of every campaign that has not begun although that phase's start
    date has come; returns the phases activated."""
    return [p.id for p in queries.campaigns_not_started(session, today)
            if activate(session, p, actor, reason="已到阶段开始日期")]


@dataclass
class SafetyNetReport:
    checked: list[int]
    passed: list[int]
    activated: list[int]


def check_active_gates(session: Session, actor: str = SYSTEM_ACTOR) -> SafetyNetReport:
    """The gate check of every active phase whose tasks are all closed (found in one statement):
    a safety net under the dispatcher, for a gate check lost with a worker."""
    checked, passed, activated = [], [], []
    for phase_id in queries.gate_candidates(session):
        phase = session.get(Phase, phase_id)
        result = gates.check_gate(session, phase, actor=actor)
        checked.append(phase_id)
        if result.newly_passed:
            passed.append(phase_id)
            if result.activated is not None:
                activated.append(result.activated.id)
    return SafetyNetReport(checked, passed, activated)


# --- entry steps that only touch the store -----------------------------------------------------


def refresh_ladder(session: Session, phase: Phase, now: dt.datetime | None = None) -> dict[str, Any]:
    """The reminder ladder worked out again for the phase's open tasks: the next sweep reads them
    (their ``next_reminder_at`` set to now, as every move does)."""
    return {"tasks": queries.refresh_ladder(session, phase.id, now or utcnow())}


def redate_shortfalls(session: Session, campaign: Campaign, phase: Phase, actor: str = SYSTEM_ACTOR,
                      today: dt.date | None = None) -> dict[str, Any]:
    """整改: every open shortfall task whose indicator has no 完成时限 in the plan's 分工 is due at
    this phase's gate (a task keeps a date the plan gave it). Without a gate date nothing moves."""
    if phase.gate_on is None:
        return {"redated": [], "note": "阶段关口日期未定，未调整任务时限"}
    plan = plan_of(campaign) if campaign.plan else None
    moved = []
    for task in queries.open_shortfall_tasks(session, campaign.id):
        entry = plan.assignments.get(task.indicator) if plan is not None and task.indicator else None
        if entry is not None and entry.due_on is not None:
            continue
        if task.due_on == phase.gate_on:
            continue
        before = task.due_on
        change_due_date(session, task, phase.gate_on, actor=actor,
                        reason=f"进入「{phase.name}」阶段：未定完成时限的整改任务以阶段关口为期")
        moved.append({"task_id": task.id, "from": before.isoformat(), "to": phase.gate_on.isoformat()})
    return {"redated": moved}


def resubmission_interval(campaign: Campaign, phase: Phase) -> tuple[str, int] | None:
    """(word, days) of the plan's 重报数据 for a rectification phase; 每月 when the plan says nothing."""
    entry = plan_entry(campaign, phase)
    word = (entry.resubmit if entry is not None else None) or "每月"
    return word, RESUBMIT_INTERVALS[word]


def open_review_record(session: Session, campaign: Campaign, phase: Phase, actor: str = SYSTEM_ACTOR,
                       *, level: str | None = None) -> dict[str, Any]:
    """A review phase's review record (its level given, else by the phase's kind), dated at the
    gate; one already opened in the phase is kept."""
    level = reviews.normalize_level(level) if level else REVIEW_LEVEL_OF_KIND.get(kind_of(phase))
    if level is None:
        return {"review_id": None}
    existing = queries.reviews_of_phase(session, phase.id, level)
    if existing:
        return {"review_id": existing[0].id, "level": level, "already": True}
    review = reviews.open_review(session, campaign, phase, level, phase.gate_on, actor)
    return {"review_id": review.id, "level": level,
            "held_on": phase.gate_on.isoformat() if phase.gate_on else None}


def inspection_tasks(session: Session, campaign: Campaign, phase: Phase, actor: str = SYSTEM_ACTOR,
                     today: dt.date | None = None) -> dict[str, Any]:
    """迎检准备: the office's tasks for a review — 资料汇编 complete N working days (the plan's
    资料汇编提前工作日, 10 by default) before the gate, 自评报告 updated for it. Keyed by phase, so
    they are made once."""
    office = office_department(session, campaign.id)
    if office is None:
        return {"created": [], "note": "方案未设办公室，未建立迎检准备任务"}
    entry = plan_entry(campaign, phase)
    lead = entry.compile_lead_days if entry is not None else 10
    gate = phase.gate_on
    compile_due = add_working_days(gate, -lead) if gate is not None else None
    fallback = add_working_days(today or local_today(), 20)
    wanted = [
        (f"phase:{phase.code}:资料汇编", f"{phase.name}迎检：完成资料汇编",
         f"对照评估指标整理佐证材料，汇编成册，于关口前 {lead} 个工作日完成。", compile_due or fallback),
        (f"phase:{phase.code}:自评报告", f"{phase.name}迎检：更新自评报告",
         "按最新数据和整改进展更新自评报告（junheng report）。", gate or fallback),
    ]
    new = [NewTask(phase=phase, title=title, measures=measures, origin=TaskOrigin.plan, origin_key=key,
                   due_on=due, department=office) for key, title, measures, due in wanted]
    created = create_tasks(session, campaign, new, actor=actor, today=today)
    return {"created": [t.id for t in created]}


# --- the 阶段小结's figures -----------------------------------------------------------------------


@dataclass
class IndicatorChange:
    stage: str
    code: str
    before: str
    after: str


@dataclass
class PhaseSummaryFigures:
    campaign_name: str
    county: str
    phase_name: str
    kind_name: str
    starts_on: dt.date | None
    gate_on: dt.date | None
    passed_at: dt.datetime | None
    tasks: dict[str, int]
    shortfalls_before: int | None
    shortfalls_after: int | None
    indicators: list[IndicatorChange]
    next_phase: str | None


def _indicator_text(entry: dict | None) -> str:
    if not entry:
        return "—"
    parts = []
    if entry.get("cv") is not None:
        parts.append(f"差异系数 {entry['cv']:.3f}" + ("（达标）" if entry.get("cv_ok") else "（未达标）"))
    below = entry.get("schools_below")
    if below is not None:
        parts.append(f"未达标学校 {len(below) if isinstance(below, list) else below} 所")
    return "；".join(parts) or "—"


def indicator_changes(before: dict | None, after: dict | None) -> list[IndicatorChange]:
    """Per stage and indicator, the figures of two assessments' results (either may be missing)."""
    rows = []
    stages_after = (after or {}).get("stages") or {}
    stages_before = (before or {}).get("stages") or {}
    for stage in list(dict.fromkeys([*stages_before, *stages_after])):
        ind_b = (stages_before.get(stage) or {}).get("indicators") or {}
        ind_a = (stages_after.get(stage) or {}).get("indicators") or {}
        for code in list(dict.fromkeys([*ind_b, *ind_a])):
            rows.append(IndicatorChange(stage, code, _indicator_text(ind_b.get(code)), _indicator_text(ind_a.get(code))))
    return rows


def summary_figures(session: Session, campaign: Campaign, phase: Phase, today: dt.date) -> PhaseSummaryFigures:
    """What the 阶段小结 says: the phase's tasks (due, done, late, returned, extended) and the
    indicators at its start and now."""
    started = queries.activation_time(session, phase.id)
    before = queries.snapshot_at(session, campaign.id, started) if started is not None else None
    after = queries.snapshot_at(session, campaign.id)
    counts = queries.shortfall_counts(session, [s.id for s in (before, after) if s is not None])
    following = queries.following_phase(session, phase)
    return PhaseSummaryFigures(
        campaign_name=campaign.name, county=campaign.county, phase_name=phase.name, kind_name=kind_name(phase),
        starts_on=phase.starts_on, gate_on=phase.gate_on, passed_at=phase.passed_at,
        tasks=queries.task_figures(session, phase.id, today),
        shortfalls_before=counts.get(before.id, 0) if before is not None else None,
        shortfalls_after=counts.get(after.id, 0) if after is not None else None,
        indicators=indicator_changes(before.result if before else None, after.result if after else None),
        next_phase=following.name if following is not None else None)
