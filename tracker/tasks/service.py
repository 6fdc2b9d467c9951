"""Creating, finding and counting tasks. Functions take a session first and never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, insert
from sqlmodel import Session, select

from tracker.assessment.models import ShortfallRecord
from tracker.clock import local_date
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.notices.models import MessageState, NoticeItem, OutboundMessage, Rung
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.org.service import current_phase
from tracker.plans import REDATE_WORKING_DAYS
from tracker.plans.kinds import UnitKind
from tracker.tasks.lifecycle import CLOCK_RUNNING
from tracker.tasks.models import Task, TaskCooperator, TaskOrigin, TaskStatus, evidence_required_by_default
from tracker.workdays import add_working_days, working_days_between
from tracker.errors import ErrorKind, JunhengError


class TaskNotFound(JunhengError, LookupError, kind=ErrorKind.not_found):
    """No task with that id in this campaign (Chinese message)."""


class InvalidTask(JunhengError, ValueError):
    """A task that cannot be created as asked (Chinese message)."""


def _id(obj: Any) -> int | None:
    if obj is None or isinstance(obj, int):
        return obj
    return obj.id


def redate_working_days(campaign: Campaign) -> int:
    """The plan's 提醒.逾期顺延工作日 (a campaign set up without a plan, or before the setting
    existed, gets the default)."""
    reminders = (campaign.plan or {}).get("reminders") or {}
    value = reminders.get("redate_working_days")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else REDATE_WORKING_DAYS


@dataclass(frozen=True)
class WorkingDue:
    """The due date a task gets for a plan date on a given day."""

    due_on: dt.date  # the date the task is due: the plan date, or ``working_days`` on when it had passed
    planned_due_on: dt.date | None  # 原定时限: the plan date when it had passed, else None
    working_days: int | None  # the working days granted when re-dated, else None

    @property
    def redated(self) -> bool:
        return self.planned_due_on is not None


def working_due(plan_date: dt.date, today: dt.date, working_days: int) -> WorkingDue:
    """No task is born overdue: a plan date before ``today`` (Beijing date) becomes ``today`` plus
    ``working_days`` working days, keeping the plan date as the 原定时限. A plan date of today
    stays: the task is due today, not overdue."""
    if plan_date >= today:
        return WorkingDue(plan_date, None, None)
    return WorkingDue(add_working_days(today, working_days), plan_date, working_days)


@dataclass(frozen=True)
class RedatedTask:
    """A task created (or moved by a changed plan) after its plan date had passed, for telling
    the office: 原定时限 → the working due date."""

    task_id: int
    title: str
    planned_due_on: dt.date  # 原定时限
    due_on: dt.date
    working_days: int  # working days from the day it was dated to ``due_on``

    @classmethod
    def of(cls, task: Task, dated_on: dt.date | None = None) -> "RedatedTask":
        """``task`` (which has a ``planned_due_on``), dated on ``dated_on`` (default: the day it was created)."""
        assert task.planned_due_on is not None
        day = dated_on or local_date(task.created_at)
        return cls(task.id, task.title, task.planned_due_on, task.due_on, working_days_between(day, task.due_on))

    def as_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "title": self.title, "planned_due_on": self.planned_due_on.isoformat(),
                "due_on": self.due_on.isoformat(), "working_days": self.working_days}


@dataclass
class NewTask:
    """One task for ``create_tasks``: what ``create_task`` takes, less the campaign, actor and day."""

    phase: Phase
    title: str
    measures: str
    origin: TaskOrigin | str
    origin_key: str
    due_on: dt.date
    department: Department | None = None
    responsible_school: School | None = None
    school: School | None = None
    indicator: str | None = None
    cooperating: Iterable[Department | int] = ()
    shortfall: ShortfallRecord | None = None
    finding_id: int | None = None  # the review finding (tracker.reviews) the task rectifies
    event_details: dict[str, Any] | None = None
    parent: Task | None = None  # 分解: the task this one is split from (tracker.tasks.moves)
    # 交办 (issue 12): 事项来源 (TaskSource value) and its reference; None: the origin's default
    source: str = ""
    source_ref: str = ""
    evidence_required: bool | None = None
    recurrence: str | None = None  # tracker.tasks.recurrence: monthly:<day> | weekly:<1–7>


def create_task(
    session: Session,
    *,
    campaign: Campaign,
    phase: Phase,
    title: str,
    measures: str,
    origin: TaskOrigin | str,
    origin_key: str,
    due_on: dt.date,
    department: Department | None = None,
    responsible_school: School | None = None,
    school: School | None = None,
    indicator: str | None = None,
    cooperating: Iterable[Department | int] = (),
    actor: str | Person = SYSTEM_ACTOR,
    shortfall: ShortfallRecord | None = None,
    finding_id: int | None = None,
    today: dt.date | None = None,
    event_details: dict[str, Any] | None = None,
) -> Task:
    """Create the task for ``origin_key`` in the campaign, or return the one already there.

    The responsible unit is exactly one of ``department`` and ``responsible_school`` (a school
    fixing what it can itself); ``school`` is the school the work is about (一校一案) and defaults
    to the responsible school. Writes one ``task.created`` event when it creates.

    ``due_on`` is the date the plan (or the reviewer) gives. When it is before ``today`` (default:
    the Beijing date now) the task is not born overdue: it is due the plan's 逾期顺延工作日 working
    days after today, ``planned_due_on`` keeps the plan date, and the event says so.
    """
    existing = session.exec(
        select(Task).where(Task.campaign_id == campaign.id, Task.origin_key == origin_key)
    ).first()
    if existing is not None:
        return existing
    new = NewTask(phase=phase, title=title, measures=measures, origin=origin, origin_key=origin_key, due_on=due_on,
                  department=department, responsible_school=responsible_school, school=school, indicator=indicator,
                  cooperating=cooperating, shortfall=shortfall, finding_id=finding_id, event_details=event_details)
    return create_tasks(session, campaign, [new], actor=actor, today=today)[0]


def _checked(campaign: Campaign, new: NewTask) -> tuple[str, TaskOrigin, School | None]:
    """(title, origin, school) of ``new`` once checked; ``InvalidTask`` (Chinese) when it cannot be made."""
    title = (new.title or "").strip()
    if not title:
        raise InvalidTask(f"任务标题不能为空（{new.origin_key}）")
    if (new.department is None) == (new.responsible_school is None):
        raise InvalidTask(f"任务「{title}」必须有且只有一个责任单位（部门或学校）")
    if new.phase.campaign_id != campaign.id:
        raise InvalidTask(f"阶段「{new.phase.name}」不属于创建工作「{campaign.name}」")
    for unit in (new.department, new.responsible_school, new.school):
        if unit is not None and unit.campaign_id != campaign.id:
            raise InvalidTask(f"「{unit.name}」不属于创建工作「{campaign.name}」")
    if not isinstance(new.due_on, dt.date) or isinstance(new.due_on, dt.datetime):
        raise InvalidTask(f"任务「{title}」的截止日期必须是日期，收到「{new.due_on}」")
    try:
        origin = TaskOrigin(new.origin)
    except ValueError:
        raise InvalidTask(f"任务「{title}」的来源「{new.origin}」无效") from None
    return title, origin, new.school if new.school is not None else new.responsible_school


def create_tasks(
    session: Session,
    campaign: Campaign,
    new_tasks: Iterable[NewTask],
    *,
    actor: str | Person = SYSTEM_ACTOR,
    today: dt.date | None = None,
) -> list[Task]:
    """Create tasks whose ``origin_key`` the campaign does not have yet (the caller has looked),
    in a few statements however many: one INSERT of the tasks (their ids returned), one of their
    cooperating units and one of their ``task.created`` events. Each task, its re-dating and its
    event are as ``create_task`` makes them. All are checked before anything is added: one that
    cannot be made raises ``InvalidTask`` and none is added. The task tallies follow by trigger."""
    checked = [(new, *_checked(campaign, new)) for new in new_tasks]
    if not checked:
        return []
    created_at = utcnow()
    today = today or local_date(created_at)
    working_days = redate_working_days(campaign)
    actor_name, actor_id = (actor.name, actor.id) if isinstance(actor, Person) else (actor, None)
    rows: list[dict[str, Any]] = []
    dues: list[WorkingDue] = []
    for new, title, origin, school in checked:
        due = working_due(new.due_on, today, working_days)
        rows.append(dict(
            campaign_id=campaign.id,
            phase_id=new.phase.id,
            title=title,
            measures=new.measures or "",
            indicator=new.indicator,
            school_id=_id(school),
            department_id=_id(new.department),
            responsible_school_id=_id(new.responsible_school),
            due_on=due.due_on,
            planned_due_on=due.planned_due_on,
            status=TaskStatus.assigned.value,
            origin=origin.value,
            origin_key=new.origin_key,
            shortfall_id=_id(new.shortfall),
            finding_id=new.finding_id,
            parent_id=_id(new.parent),
            source=new.source or "",
            source_ref=new.source_ref or "",
            recurrence=new.recurrence,
            evidence_required=(evidence_required_by_default(origin) if new.evidence_required is None
                               else bool(new.evidence_required)),
            created_at=created_at,
            updated_at=created_at,
            # the reminder sweep sends the 交办单 (tracker.reminders.sweep)
            next_reminder_at=created_at,
        ))
        dues.append(due)
    # One INSERT … RETURNING (batched by SQLAlchemy's insertmanyvalues) gives the Task rows with
    # their ids, in no particular order: matched back by origin_key, unique in the campaign.
    # (render_nulls: rows with and without a school, say, go in the same batch)
    inserted = session.scalars(insert(Task).returning(Task).execution_options(render_nulls=True), rows)
    by_key = {t.origin_key: t for t in inserted}
    tasks = [by_key[row["origin_key"]] for row in rows]

    at = utcnow()
    cooperator_rows: list[dict[str, int]] = []
    event_rows: list[dict[str, Any]] = []
    for (new, title, origin, _school), task, due, row in zip(checked, tasks, dues, rows):
        cooperator_ids: list[int] = []
        for unit in new.cooperating:
            unit_id = _id(unit)
            if unit_id is None or unit_id == task.department_id or unit_id in cooperator_ids:
                continue
            cooperator_ids.append(unit_id)
            cooperator_rows.append({"task_id": task.id, "department_id": unit_id})
        event_rows.append(dict(
            campaign_id=campaign.id,
            type="task.created",
            actor=actor_name,
            actor_id=actor_id,
            task_id=task.id,
            at=at,
            dispatched_at=None,
            payload={
                "title": title,
                "origin": origin.value,
                "origin_key": new.origin_key,
                "phase": new.phase.code,
                "due_on": due.due_on.isoformat(),
                # set when the plan date had passed: the 原定时限 and the working days granted
                "planned_due_on": due.planned_due_on.isoformat() if due.redated else None,
                "redated_working_days": due.working_days,
                "department_id": task.department_id,
                "responsible_school_id": task.responsible_school_id,
                "school_id": task.school_id,
                "indicator": new.indicator,
                "cooperating": cooperator_ids,
                **({"parent_id": task.parent_id} if task.parent_id is not None else {}),
                "evidence_required": row["evidence_required"],
                **({"source": row["source"], "source_ref": row["source_ref"]} if row["source"] else {}),
                **({"recurrence": row["recurrence"]} if row["recurrence"] else {}),
                **(new.event_details or {}),  # what made it, e.g. the assessment a reconciliation followed
            },
        ))
    # a batch each (executemany): no ids are needed back
    if cooperator_rows:
        session.execute(insert(TaskCooperator).execution_options(render_nulls=True), cooperator_rows)
    session.execute(insert(Event).execution_options(render_nulls=True), event_rows)
    return tasks


# the statuses in which a task's due date still matters (closed tasks keep theirs as history)
OPEN_STATUSES = (TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.submitted)


def change_due_date(
    session: Session,
    task: Task,
    due_on: dt.date,
    *,
    actor: str | Person = SYSTEM_ACTOR,
    reason: str = "",
    measures: str | None = None,
    at: dt.datetime | None = None,
    planned_due_on: dt.date | None = None,
) -> Event:
    """Move an open task's due date; writes one ``task.due_changed`` event (payload ``due_from``,
    ``due_to``, ``reason``; not ``from``/``to``, which name statuses in lifecycle events).

    Like every lifecycle move it sets ``next_reminder_at`` to now, so the reminder sweep works out
    the task's ladder again on the new date. ``measures`` replaces the text when given (a stand-in
    date's note no longer holds). ``planned_due_on`` is the task's 原定时限 from now on: the plan
    date when ``due_on`` is a working due date given because that plan date had passed, else None
    (the task has no 原定时限 any more)."""
    if TaskStatus(task.status) not in OPEN_STATUSES:
        raise InvalidTask(f"任务 #{task.id} 当前状态为「{TaskStatus(task.status).value}」，不能再调整截止日期",
                          kind=ErrorKind.conflict)
    if not isinstance(due_on, dt.date) or isinstance(due_on, dt.datetime):
        raise InvalidTask(f"任务 #{task.id} 的截止日期必须是日期，收到「{due_on}」")
    now = at or utcnow()
    before = task.due_on
    task.due_on = due_on
    task.planned_due_on = planned_due_on
    task.updated_at = now
    task.next_reminder_at = now
    if measures is not None:
        task.measures = measures
    session.add(task)
    session.flush()
    actor_name, actor_id = (actor.name, actor.id) if isinstance(actor, Person) else (actor, None)
    return record_event(session, type="task.due_changed", actor=actor_name, actor_id=actor_id,
                        campaign_id=task.campaign_id, task_id=task.id, at=now,
                        payload={"due_from": before.isoformat(), "due_to": due_on.isoformat(), "reason": reason,
                                 "planned_due_on": planned_due_on.isoformat() if planned_due_on else None})


def get_task(session: Session, task_id: int, campaign: Campaign | None = None) -> Task:
    task = session.get(Task, task_id)
    if task is None or (campaign is not None and task.campaign_id != campaign.id):
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    return task


def cooperators(session: Session, task: Task) -> list[Department]:
    return list(session.exec(
        select(Department).join(TaskCooperator, TaskCooperator.department_id == Department.id)
        .where(TaskCooperator.task_id == task.id).order_by(Department.id)
    ))


@dataclass(frozen=True)
class Unsigned:
    """Who has not signed: how long a 待签收 task has waited and what reminding it took."""

    working_days: int  # working days since it was assigned (交办)
    reminders_sent: int  # 签收提醒 sent (each occurrence once, however many recipients)
    notified: bool  # its 任务交办单 has been sent to someone


def unsigned_details(session: Session, tasks: Iterable[Task], today: dt.date) -> dict[int, Unsigned]:
    """For each 待签收 task of ``tasks``: working days waiting and the notices sent (the delivery
    log: only items whose message went out count)."""
    waiting = [t for t in tasks if TaskStatus(t.status) is TaskStatus.assigned]
    if not waiting:
        return {}
    sent: dict[int, dict[str, int]] = {}
    ids = [t.id for t in waiting]
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(NoticeItem.task_id, NoticeItem.rung, func.count(func.distinct(NoticeItem.occurrence)))
            .join(OutboundMessage, OutboundMessage.id == NoticeItem.message_id)
            .where(NoticeItem.task_id.in_(ids[start:start + 500]), OutboundMessage.state == MessageState.sent.value,
                   NoticeItem.rung.in_([Rung.assigned.value, Rung.ack_resend.value]))
            .group_by(NoticeItem.task_id, NoticeItem.rung)).all()
        for task_id, rung, count in rows:
            sent.setdefault(task_id, {})[rung] = count
    return {t.id: Unsigned(working_days=max(0, working_days_between(local_date(t.created_at), today)),
                           reminders_sent=sent.get(t.id, {}).get(Rung.ack_resend.value, 0),
                           notified=bool(sent.get(t.id, {}).get(Rung.assigned.value)))
            for t in waiting}


def _overdue_clause(today: dt.date):
    return Task.status.in_([s.value for s in CLOCK_RUNNING]) & (Task.due_on < today)


def list_tasks(
    session: Session,
    campaign: Campaign,
    status: TaskStatus | str | None = None,
    department: Department | int | None = None,
    school: School | int | None = None,
    overdue: bool | None = None,
    today: dt.date | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Task]:
    """The campaign's tasks, by due date. ``department`` matches the responsible department;
    ``school`` matches the school the task is about or the school responsible for it.
    ``overdue`` needs ``today``."""
    stmt = select(Task).where(Task.campaign_id == campaign.id)
    if status is not None:
        stmt = stmt.where(Task.status == TaskStatus(status).value)
    if department is not None:
        stmt = stmt.where(Task.department_id == _id(department))
    if school is not None:
        school_id = _id(school)
        stmt = stmt.where((Task.school_id == school_id) | (Task.responsible_school_id == school_id))
    if overdue is not None:
        if today is None:
            raise ValueError("list_tasks(overdue=…) needs today")
        clause = _overdue_clause(today)
        stmt = stmt.where(clause if overdue else ~clause)
    stmt = stmt.order_by(Task.due_on, Task.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.exec(stmt))


def campaign_status(session: Session, campaign: Campaign, today: dt.date) -> dict:
    """The figures of ``junheng campaign status --json``:

    {"campaign": code, "phase": current phase name | null, "gate_date": ISO | null,
     "tasks": {"total", "by_status": {status: n for all six}, "overdue"},
     "departments": [{"name", "total", "done", "overdue"}]}

    A unit's ``total`` leaves out withdrawn tasks (no longer its work) and ``done`` counts 已销号.
    Every active department is listed except the office when it has no tasks; schools are listed
    when they are responsible for a task.
    """
    overdue_expr = func.sum(case((_overdue_clause(today), 1), else_=0))
    rows = session.exec(
        select(Task.department_id, Task.responsible_school_id, Task.status, func.count(), overdue_expr)
        .where(Task.campaign_id == campaign.id)
        .group_by(Task.department_id, Task.responsible_school_id, Task.status)
    ).all()

    by_status = {s.value: 0 for s in TaskStatus}
    overdue_total = 0
    per_dept: dict[int, dict[str, int]] = {}
    per_school: dict[int, dict[str, int]] = {}
    for dept_id, school_id, status, count, overdue in rows:
        status = TaskStatus(status)
        by_status[status.value] += count
        overdue_total += overdue or 0
        if dept_id is not None:
            unit = per_dept.setdefault(dept_id, {"total": 0, "done": 0, "overdue": 0})
        elif school_id is not None:
            unit = per_school.setdefault(school_id, {"total": 0, "done": 0, "overdue": 0})
        else:
            continue
        if status is not TaskStatus.withdrawn:
            unit["total"] += count
        if status is TaskStatus.verified:
            unit["done"] += count
        unit["overdue"] += overdue or 0

    departments: list[dict] = []
    for dept in session.exec(select(Department).where(Department.campaign_id == campaign.id)
                             .order_by(Department.id)):
        figures = per_dept.get(dept.id)
        if figures is None and (not dept.active or UnitKind(dept.kind) is UnitKind.office):
            continue
        departments.append({"name": dept.name, **(figures or {"total": 0, "done": 0, "overdue": 0})})
    if per_school:
        schools = session.exec(select(School).where(School.id.in_(list(per_school))).order_by(School.name))
        for school in schools:
            departments.append({"name": school.name, **per_school[school.id]})

    phase = current_phase(session, campaign, today)
    return {
        "campaign": campaign.code,
        "phase": phase.name if phase else None,
        "gate_date": phase.gate_on.isoformat() if phase and phase.gate_on else None,
        "tasks": {"total": sum(by_status.values()), "by_status": by_status, "overdue": overdue_total},
        "departments": departments,
    }
