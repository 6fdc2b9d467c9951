"""Tasks brought in line with an assessment (idempotent), and due dates that follow the plan.

One task per shortfall key; a key gone marks its task resolved by data (the office then 销号);
a key back again reopens its task. A changed plan moves the dates it gave.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.clock import local_date
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.clock import local_today
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.events.service import SYSTEM_ACTOR
from tracker.org.models import Campaign, Phase
from tracker.plans import CampaignPlan
from tracker.schooldata.models import SchoolDataRow
from tracker.schooldata.submissions import SelfCheckError
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.tasks.service import (
    NewTask,
    RedatedTask,
    WorkingDue,
    change_due_date,
    create_tasks,
    redate_working_days,
    working_due,
)
from tracker.tasks.specs import (
    TaskSpec,
    attestation_spec,
    county_items,
    first_due,
    new_task,
    plan_specs,
    reconcile_context,
    shortfall_groups,
    shortfall_spec,
)


@dataclass
class ReconcileResult:
    """Task ids by what this reconciliation did to them."""

    created: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    # created tasks whose plan date had already passed: due 逾期顺延工作日 later, the office is told
    redated: list[RedatedTask] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "resolved": len(self.resolved),
                "reopened": len(self.reopened), "unchanged": len(self.unchanged)}

    def report(self) -> dict[str, Any]:
        """The counts and the re-dated tasks (plain values: what a flow step returns)."""
        return {**self.counts(), "redated": [r.as_dict() for r in self.redated]}


def reconcile_tasks(
    session: Session, campaign: Campaign, snapshot: AssessmentSnapshot, actor: str = SYSTEM_ACTOR
) -> ReconcileResult:
    """Bring the campaign's tasks in line with an assessment (idempotent).

    - a shortfall key without a task gets one (created);
    - a key whose task was resolved by data or verified is reopened (the shortfall came back);
    - a shortfall task whose key this assessment no longer shows is marked resolved by data,
      naming the assessment, for the office to 销号 (only for schools in this submission, so a
      sheet of some schools resolves nothing about the others);
    - an attestation task per county-level item and the plan's preparatory tasks are created
      once.
    Reopening and resolving are the system's moves (actor 系统); created tasks name ``actor``.
    """
    if snapshot.campaign_id != campaign.id:
        raise SelfCheckError(f"评估 #{snapshot.id} 不属于创建工作「{campaign.name}」")
    newest = session.exec(select(func.max(AssessmentSnapshot.id))
                          .where(AssessmentSnapshot.campaign_id == campaign.id)).one()
    if newest is not None and newest != snapshot.id:
        raise SelfCheckError(f"评估 #{snapshot.id} 不是最新的评估（最新为 #{newest}），不能据此调整任务")
    ctx = reconcile_context(session, campaign, local_date(snapshot.created_at))
    result = ReconcileResult()
    tasks = {t.origin_key: t for t in session.exec(select(Task).where(Task.campaign_id == campaign.id))}

    # The new tasks are made together, a few statements for all of them (create_tasks), before
    # any existing task is touched: whatever fails to be made, nothing has moved yet.
    new_tasks: list[NewTask] = []

    def create_once(spec: TaskSpec, shortfall: ShortfallRecord | None = None) -> None:
        """Create the task of ``spec.key`` unless there is one (then it stays as it is)."""
        task = tasks.get(spec.key)
        if task is None:
            new_tasks.append(new_task(spec, snapshot, shortfall))
        else:
            result.unchanged.append(task.id)

    for spec in plan_specs(ctx):
        create_once(spec)
    for item in county_items(ctx):
        create_once(attestation_spec(ctx, *item))

    groups = shortfall_groups(session, snapshot)
    for key, group in groups.items():
        if key not in tasks:
            create_once(shortfall_spec(ctx, group), group.records[0])
    for task in create_tasks(session, campaign, new_tasks, actor=actor, today=ctx.today):
        tasks[task.origin_key] = task
        result.created.append(task.id)
        if task.planned_due_on is not None:
            result.redated.append(RedatedTask.of(task, ctx.today))

    created = set(result.created)
    for key, group in groups.items():
        newest_record = group.records[0]
        task = tasks[key]
        if task.id in created:
            continue
        task.shortfall_id = newest_record.id
        session.add(task)
        status = TaskStatus(task.status)
        if status is not TaskStatus.withdrawn and (
                task.resolved_by_assessment_id is not None or status is TaskStatus.verified):
            lifecycle.reopen(session, task, SYSTEM_ACTOR,
                             reason=f"评估 #{snapshot.id} 又发现此问题：{newest_record.text}",
                             assessment_id=snapshot.id)
            result.reopened.append(task.id)
        else:
            result.unchanged.append(task.id)

    assessed = set(session.exec(select(SchoolDataRow.school_key)
                                .where(SchoolDataRow.submission_id == snapshot.submission_id)))
    for key, task in tasks.items():
        if TaskOrigin(task.origin) is not TaskOrigin.shortfall or key in groups or task.id in created:
            continue
        school_key = key.split("|")[3] if key.count("|") == 3 else ""
        status = TaskStatus(task.status)
        if (school_key and school_key not in assessed) or status in (TaskStatus.verified, TaskStatus.withdrawn) \
                or task.resolved_by_assessment_id is not None:
            result.unchanged.append(task.id)
            continue
        lifecycle.mark_resolved_by_data(session, task, snapshot.id, SYSTEM_ACTOR)
        result.resolved.append(task.id)
    session.flush()
    return result


def redated_by_assessment(session: Session, snapshot: AssessmentSnapshot) -> list[RedatedTask]:
    """The tasks that reconciling ``snapshot`` created after their plan date had passed, for
    showing the office later (a reassessment started by the dispatcher has no one to tell at the
    time): their ``task.created`` events name the assessment."""
    candidates = {t.id: t for t in session.exec(
        select(Task).where(Task.campaign_id == snapshot.campaign_id, Task.planned_due_on.is_not(None),
                           Task.origin != TaskOrigin.finding.value))}
    if not candidates:
        return []
    created = session.exec(select(Event.task_id, Event.payload).where(
        Event.type == "task.created", Event.task_id.in_(list(candidates))))
    made = sorted(task_id for task_id, payload in created if (payload or {}).get("assessment_id") == snapshot.id)
    return [RedatedTask.of(candidates[task_id]) for task_id in made]


# ---------------------------------------------------------------------------------------------
# Due dates that follow the plan


# Tasks whose due date the plan gives: a shortfall's and an attestation's (the indicator's
# 完成时限 in 分工, else its phase's gate) and a preparatory task's (its 完成时限). A review
# finding keeps the reviewer's deadline.
PLAN_DATED_ORIGINS = (TaskOrigin.shortfall, TaskOrigin.attestation, TaskOrigin.plan)


@dataclass(frozen=True)
class DueDateMove:
    task_id: int
    title: str
    before: dt.date
    after: dt.date
    planned_due_on: dt.date | None = None  # the new plan date when it had passed (``after`` is then N working days on)


def plan_due_dates(session: Session, campaign: Campaign) -> dict[int, tuple[dt.date, str]]:
    """Task id → (plan date, stand-in note) that the campaign's current plan and phases give each
    open task whose date comes from the plan, worked out as ``reconcile_tasks`` does (a stand-in
    date counts from the day the task was created). This is the plan's date: a task created after
    it had passed is due later and keeps it as ``planned_due_on``."""
    plan = CampaignPlan.from_stored(campaign.plan) if campaign.plan else None
    phases = {p.id: p for p in session.exec(select(Phase).where(Phase.campaign_id == campaign.id))}
    gates = [p.gate_on for p in phases.values() if p.gate_on is not None]
    latest = max(gates) if gates else None
    preparatory = {f"plan|{item.code}": item for item in plan.preparatory_tasks} if plan is not None else {}
    out: dict[int, tuple[dt.date, str]] = {}
    for task in session.exec(select(Task).where(
            Task.campaign_id == campaign.id,
            Task.status.in_([s.value for s in (TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress,
                                               TaskStatus.submitted)]),
            Task.origin.in_([o.value for o in PLAN_DATED_ORIGINS]))):
        origin = TaskOrigin(task.origin)
        if origin is TaskOrigin.plan:
            item = preparatory.get(task.origin_key)
            if item is not None:
                out[task.id] = (item.due_on, "")
            continue
        entry = plan.assignments.get(task.indicator or "") if plan is not None else None
        indicator_due = entry.due_on if entry is not None else None
        phase = phases.get(task.phase_id)
        gate = phase.gate_on if phase is not None else None
        # the same order of preference as shortfall_spec and attestation_spec
        candidates = (indicator_due, gate) if origin is TaskOrigin.shortfall else (gate, indicator_due)
        out[task.id] = first_due(latest, local_date(task.created_at), *candidates)
    return out


def follow_plan_due_dates(session: Session, campaign: Campaign, before: dict[int, tuple[dt.date, str]],
                          actor: str = SYSTEM_ACTOR, today: dt.date | None = None) -> list[DueDateMove]:
    """After a changed plan was applied: move each open task whose plan-given date changed
    (``before`` is ``plan_due_dates`` taken before applying it), one ``task.due_changed`` event
    each. A task whose date is no longer the one the old plan gave it (nor a working date given
    for it, with that plan date as its 原定时限) was set otherwise, and stays as it is.

    A re-dated phase or deadline that has already passed on ``today`` (default: the Beijing date
    now) does not make its tasks overdue at once: like a task created late, each is due the
    plan's 逾期顺延工作日 working days later and keeps the new plan date as its 原定时限. A task
    already given such working days keeps its due date (only its 原定时限 changes), and a task
    already overdue stays overdue at its new date."""
    after = plan_due_dates(session, campaign)
    today = today or local_today()
    working_days = redate_working_days(campaign)
    moves: list[DueDateMove] = []
    for task_id, (old_date, old_note) in sorted(before.items()):
        new = after.get(task_id)
        if new is None or new[0] == old_date:
            continue
        task = session.get(Task, task_id)
        if task is None:
            continue
        follows_plan = task.due_on == old_date if task.planned_due_on is None else task.planned_due_on == old_date
        if not follows_plan:
            continue
        new_date, new_note = new
        target = working_due(new_date, today, working_days)
        if target.redated and task.planned_due_on is not None:
            # already given its working days: a passed plan date moved again buys no more time
            target = WorkingDue(task.due_on, new_date, None)
        elif target.redated and task.due_on < today:
            # already overdue before the change: it stays overdue, at its new date
            target = WorkingDue(new_date, None, None)
        if (target.due_on, target.planned_due_on) == (task.due_on, task.planned_due_on):
            continue
        measures = task.measures
        if old_note and old_note in measures:
            measures = measures.replace(old_note, new_note)
        elif new_note and new_note not in measures:
            measures += new_note
        reason = "创建方案调整了阶段关口或完成时限，任务截止日期随之调整"
        if target.redated:
            reason += (f"；调整后的完成时限 {new_date.isoformat()} 已过，作为原定时限保留，"
                       f"办理时限为 {target.due_on.isoformat()}")
        before_due = task.due_on
        change_due_date(session, task, target.due_on, actor=actor, measures=measures, reason=reason,
                        planned_due_on=target.planned_due_on)
        moves.append(DueDateMove(task.id, task.title, before_due, target.due_on, target.planned_due_on))
    return moves




def create_plan_tasks(session: Session, campaign: Campaign, actor: str = SYSTEM_ACTOR,
                      today: dt.date | None = None) -> list[Task]:
    """The plan's preparatory tasks (``plan_specs``) the campaign does not have yet, created now:
    ``campaign init`` calls this, so the office can assign them before any school data is
    imported (issue 12 §1). Same origin_key (``plan|<code>``) as ``reconcile_tasks``, which
    then finds them there and leaves them as they are. Returns the tasks created."""
    ctx = reconcile_context(session, campaign, today or local_date(utcnow()))
    specs = plan_specs(ctx)
    if not specs:
        return []
    have = set(session.exec(select(Task.origin_key).where(Task.campaign_id == campaign.id,
                                                           Task.origin_key.in_([s.key for s in specs]))))
    wanted = [NewTask(phase=s.phase, title=s.title, measures=s.measures, origin=s.origin, origin_key=s.key,
                      due_on=s.due_on, department=s.department, cooperating=s.cooperating,
                      event_details={"from": "campaign_init"})
              for s in specs if s.key not in have]
    return create_tasks(session, campaign, wanted, actor=actor, today=ctx.today) if wanted else []
