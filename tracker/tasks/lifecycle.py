"""The life of a task: who may move it where, and what each move records.

    待签收 → 已签收 → 办理中 → 已提交 → 已销号
                          ↖ 退回 ┘        (office only)
    any open state → 已撤销                (office only)

The allowed moves are data (``TRANSITIONS``). Every successful move changes the task and writes
exactly one event in the same transaction; a refused move raises ``TransitionError`` (Chinese
message) and writes nothing. The status change is a conditional UPDATE on the status last read,
so two people acting on the same task at once cannot both succeed.

Overdue is derived, never stored: a task is overdue while it is with its unit (待签收, 已签收,
办理中) after its due date. The clock stops at 已提交; 退回 starts it again, so a returned task past
its due date is overdue again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, update
from sqlmodel import Session, select

from tracker.clock import local_date, local_time  # noqa: F401  (lifecycle.local_date: callers' older spelling)
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Department, Person, School
from tracker.tasks.models import Evidence, Task, TaskStatus
from tracker.workdays import working_days_between
from tracker.errors import ErrorKind, JunhengError

S = TaskStatus

# States in which the task is with its unit: the overdue clock runs.
CLOCK_RUNNING = frozenset({S.assigned, S.accepted, S.in_progress})
OPEN = frozenset({S.assigned, S.accepted, S.in_progress, S.submitted})
CLOSED = frozenset({S.verified, S.withdrawn})


class TransitionError(JunhengError, kind=ErrorKind.conflict):
    """A move the task's state or the actor does not allow. ``str()`` is the Chinese message."""


class NotPermitted(TransitionError, kind=ErrorKind.forbidden):
    """The actor may not make this move on this task."""


class InvalidTaskInput(TransitionError, kind=ErrorKind.invalid):
    """A bad value (percent, empty reason) for an otherwise allowed move."""


class EvidenceMissing(TransitionError):
    """提交 of a task that needs evidence (``Task.evidence_required``) before any file is there."""


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # the Chinese verb used in messages
    event_type: str
    moves: Mapping[TaskStatus, TaskStatus]
    # extra moves allowed while the task is marked resolved by data (the assessment no longer
    # shows its shortfall): the office may 销号 without a submission, and a reappearing
    # shortfall reopens the task wherever it stands
    moves_if_resolved: Mapping[TaskStatus, TaskStatus] = field(default_factory=dict)
    office_only: bool = False
    system: bool = False  # done by the system (assessment), not by a person
    requires_unresolved: bool = False

    def target(self, task: Task) -> TaskStatus | None:
        """The status this move leads to from the task's state, or None when not allowed."""
        status = TaskStatus(task.status)
        resolved = task.resolved_by_assessment_id is not None
        if self.requires_unresolved and resolved:
            return None
        if resolved and status in self.moves_if_resolved:
            return self.moves_if_resolved[status]
        return self.moves.get(status)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", "签收", "task.accepted", {S.assigned: S.accepted}),
        Transition("progress", "报告进度", "task.progress",
                   {S.accepted: S.in_progress, S.in_progress: S.in_progress}),
        # submitting straight after accepting is allowed: an attestation may be done at once
        Transition("submit", "提交", "task.submitted", {S.accepted: S.submitted, S.in_progress: S.submitted}),
        Transition("verify", "销号", "task.verified", {S.submitted: S.verified},
                   moves_if_resolved={S.assigned: S.verified, S.accepted: S.verified,
                                      S.in_progress: S.verified, S.submitted: S.verified},
                   office_only=True),
        Transition("return", "退回", "task.returned", {S.submitted: S.in_progress}, office_only=True),
        Transition("withdraw", "撤销", "task.withdrawn",
                   {S.assigned: S.withdrawn, S.accepted: S.withdrawn, S.in_progress: S.withdrawn,
                    S.submitted: S.withdrawn}, office_only=True),
        Transition("reopen", "重新打开", "task.reopened",
                   {S.submitted: S.in_progress, S.verified: S.in_progress},
                   moves_if_resolved={S.assigned: S.assigned, S.accepted: S.in_progress,
                                      S.in_progress: S.in_progress},
                   system=True),
        Transition("resolve_by_data", "标记为数据已达标", "task.resolved_by_data",
                   {S.assigned: S.assigned, S.accepted: S.accepted, S.in_progress: S.in_progress,
                    S.submitted: S.submitted},
                   system=True, requires_unresolved=True),
    )
}


def can(task: Task, action: str) -> bool:
    """Whether the task's state allows ``action`` (who acts is checked separately)."""
    return TRANSITIONS[action].target(task) is not None


def allowed_actions(task: Task) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if t.target(task) is not None]


# ---------------------------------------------------------------------------------------------
# who may act


def _school_people_match(session: Session, school_id: int, person: Person) -> bool:
    """A school acts through a person of the school (``Person.school_id``, set for a school's web
    log-in), or the person whose e-mail is the school's contact e-mail (the plan has no
    per-school roster)."""
    if person.school_id is not None and person.school_id == school_id:
        return True
    if not person.email:
        return False
    school = session.get(School, school_id)
    return bool(school and school.contact_email
                and school.contact_email.strip().lower() == person.email.strip().lower())


def unit_name(session: Session, task: Task) -> str:
    """The responsible unit's display name: its department, else the responsible school."""
    if task.department_id is not None:
        dept = session.get(Department, task.department_id)
        if dept is not None:
            return dept.name
    if task.responsible_school_id is not None:
        school = session.get(School, task.responsible_school_id)
        if school is not None:
            return school.name
    return "未指定单位"


def may_act(session: Session, task: Task, person: Person) -> bool:
    """The office acts on every task; a unit's own people on the unit's tasks."""
    if person.campaign_id != task.campaign_id or not person.active:
        return False
    if person.is_office:
        return True
    if task.department_id is not None and person.department_id == task.department_id:
        return True
    if task.responsible_school_id is not None:
        return _school_people_match(session, task.responsible_school_id, person)
    return False


def _check_actor(session: Session, task: Task, transition: Transition, person: Person) -> None:
    if person.campaign_id != task.campaign_id:
        raise NotPermitted(f"「{person.name}」不属于任务 #{task.id} 所在的创建工作，不能{transition.label}")
    if not person.active:
        raise NotPermitted(f"「{person.name}」已停用，不能{transition.label}任务 #{task.id}")
    if transition.office_only:
        if not person.is_office:
            raise NotPermitted(f"只有办公室人员可以{transition.label}任务，「{person.name}」不是办公室人员")
        return
    if not may_act(session, task, person):
        raise NotPermitted(
            f"「{person.name}」不是任务 #{task.id} 的责任单位（{unit_name(session, task)}）人员，"
            f"不能{transition.label}")


# ---------------------------------------------------------------------------------------------
# making a move


def _apply(
    session: Session,
    task: Task,
    action: str,
    *,
    actor_name: str,
    actor_id: int | None,
    payload: dict,
    values: dict,
    at: dt.datetime | None,
) -> Event:
    transition = TRANSITIONS[action]
    source = TaskStatus(task.status)
    target = transition.target(task)
    if target is None:
        raise TransitionError(_refusal(task, transition))
    now = at or utcnow()
    # next_reminder_at = now: the reminder sweep looks at the task's ladder again (tracker.reminders.sweep)
    changes = {"status": target.value, "updated_at": now, "next_reminder_at": now, **values}
    session.flush()
    # Conditional on the status (and resolved mark) we decided on: if someone else moved the task
    # in between, nothing changes and the move is refused.
    stmt = (
        update(Task)
        .where(Task.id == task.id, Task.status == source.value)
        .where(Task.resolved_by_assessment_id.is_(None) if task.resolved_by_assessment_id is None
               else Task.resolved_by_assessment_id == task.resolved_by_assessment_id)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount != 1:
        session.refresh(task)
        raise TransitionError(f"任务 #{task.id} 已被他人处理（当前状态为「{TaskStatus(task.status).value}」），"
                              f"请刷新后重试")
    session.refresh(task)
    return record_event(
        session,
        type=transition.event_type,
        actor=actor_name,
        actor_id=actor_id,
        campaign_id=task.campaign_id,
        task_id=task.id,
        payload={"from": source.value, "to": target.value, **payload},
        at=now,
    )


def _refusal(task: Task, transition: Transition) -> str:
    status = TaskStatus(task.status).value
    if transition.requires_unresolved and task.resolved_by_assessment_id is not None:
        return f"任务 #{task.id} 已被评估 #{task.resolved_by_assessment_id} 标记为数据已达标"
    return f"任务 #{task.id} 当前状态为「{status}」，不能{transition.label}"


def _person_move(session, task, action, actor: Person, *, payload=None, values=None, at=None,
                 check_input: Callable[[], None] | None = None) -> Event:
    """A person's move, checked in the order most useful to them: the task's state, then who
    they are, then what they typed."""
    transition = TRANSITIONS[action]
    if transition.target(task) is None:
        raise TransitionError(_refusal(task, transition))
    _check_actor(session, task, transition, actor)
    if check_input is not None:
        check_input()
    return _apply(session, task, action, actor_name=actor.name, actor_id=actor.id,
                  payload=payload or {}, values=values or {}, at=at)


def _require_reason(reason: str | None, what: str, task: Task) -> Callable[[], None]:
    def check() -> None:
        if not (reason or "").strip():
            raise InvalidTaskInput(f"{what}任务 #{task.id} 必须说明原因")
    return check


def accept(session: Session, task: Task, actor: Person, *, at: dt.datetime | None = None) -> Event:
    """签收: the unit acknowledges the task. The first person to sign becomes its assignee."""
    now = at or utcnow()
    values: dict = {"acknowledged_at": now}
    if task.assignee_id is None:
        values["assignee_id"] = actor.id
    return _person_move(session, task, "accept", actor, values=values, at=now)


def report_progress(session: Session, task: Task, actor: Person, percent: int, note: str = "",
                    *, at: dt.datetime | None = None) -> Event:
    """进度: percent 0–100 and a note. The first report moves 已签收 to 办理中."""
    def check_percent() -> None:
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidTaskInput(f"进度必须是 0 到 100 之间的整数，收到「{percent}」")

    note = (note or "").strip()
    values: dict = {"progress": percent}
    if note:
        values["notes"] = note
    return _person_move(session, task, "progress", actor, payload={"percent": percent, "note": note},
                        values=values, at=at, check_input=check_percent)


def open_children(session: Session, task: Task) -> list[Task]:
    """The sub-tasks (分解) of ``task`` not yet done: neither 已销号 nor 已撤销 (no longer needed)."""
    return list(session.exec(select(Task).where(Task.parent_id == task.id,
                                                Task.status.not_in([s.value for s in CLOSED]))
                             .order_by(Task.id)))


def evidence_count(session: Session, task: Task) -> int:
    return session.execute(select(func.count()).select_from(Evidence).where(Evidence.task_id == task.id)).scalar_one()


def _require_evidence(session: Session, task: Task) -> Callable[[], None]:
    def check() -> None:
        if task.evidence_required and evidence_count(session, task) == 0:
            raise EvidenceMissing(f"任务 #{task.id}「{task.title}」要求上传佐证材料后才能提交，"
                                  f"目前还没有任何佐证材料，请先上传")
    return check


def submit(session: Session, task: Task, actor: Person, note: str = "",
           *, at: dt.datetime | None = None) -> Event:
    """提交: the unit says the work is done; the overdue clock stops. A task split into sub-tasks
    (分解) is submitted only when every sub-task is done; a task that needs evidence
    (``evidence_required``) is refused (``EvidenceMissing``) until it has a file. Clears the
    已退回 mark."""
    now = at or utcnow()
    note = (note or "").strip()
    values: dict = {"submitted_at": now, "progress": 100, "return_reason": None, "returned_at": None}
    if note:
        values["notes"] = note

    needs_evidence = _require_evidence(session, task)

    def children_done_and_evidence() -> None:
        waiting = open_children(session, task)
        if waiting:
            listed = "、".join(f"#{c.id}（{TaskStatus(c.status).value}）" for c in waiting[:10])
            more = f"等 {len(waiting)} 项" if len(waiting) > 10 else ""
            raise TransitionError(f"任务 #{task.id} 的分解任务尚未全部销号：{listed}{more}，不能提交")
        needs_evidence()

    return _person_move(session, task, "submit", actor, payload={"note": note}, values=values, at=now,
                        check_input=children_done_and_evidence)


def verify(session: Session, task: Task, actor: Person, note: str = "",
           *, at: dt.datetime | None = None) -> Event:
    """销号 (office only): a submitted task, or one the data shows resolved, is closed."""
    now = at or utcnow()
    payload: dict = {"note": (note or "").strip()}
    if task.resolved_by_assessment_id is not None:
        payload["resolved_by_assessment_id"] = task.resolved_by_assessment_id
    return _person_move(session, task, "verify", actor, payload=payload,
                        values={"verified_at": now, "progress": 100, "return_reason": None, "returned_at": None},
                        at=now)


def return_task(session: Session, task: Task, actor: Person, reason: str,
                *, at: dt.datetime | None = None) -> Event:
    """退回 (office only): back to 办理中 with a reason; the overdue clock runs again. The task
    carries the 已退回 mark (``return_reason``) until it is submitted again. (The 退回通知 is
    queued at once by ``tracker.reminders.immediate.return_task``, which every surface calls.)"""
    now = at or utcnow()
    reason = (reason or "").strip()
    return _person_move(session, task, "return", actor, payload={"reason": reason},
                        values={"submitted_at": None, "return_reason": reason, "returned_at": now}, at=now,
                        check_input=_require_reason(reason, "退回", task))


def withdraw(session: Session, task: Task, actor: Person, reason: str,
             *, at: dt.datetime | None = None) -> Event:
    """撤销 (office only): the task is no longer needed."""
    return _person_move(session, task, "withdraw", actor, payload={"reason": (reason or "").strip()}, at=at,
                        values={"return_reason": None, "returned_at": None}, check_input=_require_reason(reason, "撤销", task))


def reopen(session: Session, task: Task, actor_name: str = SYSTEM_ACTOR, reason: str = "",
           *, assessment_id: int | None = None, at: dt.datetime | None = None) -> Event:
    """重新打开 (system): the data shows the task's shortfall again after it was resolved by data,
    submitted or verified. The task goes back to its unit (办理中; 待签收 stays 待签收)."""
    payload: dict = {"reason": (reason or "").strip()}
    if assessment_id is not None:
        payload["assessment_id"] = assessment_id
    if task.resolved_by_assessment_id is not None:
        payload["was_resolved_by_assessment_id"] = task.resolved_by_assessment_id
    return _apply(session, task, "reopen", actor_name=actor_name, actor_id=None, payload=payload,
                  values={"submitted_at": None, "verified_at": None, "resolved_by_assessment_id": None},
                  at=at)


def mark_resolved_by_data(session: Session, task: Task, assessment_id: int, actor_name: str = SYSTEM_ACTOR,
                          *, at: dt.datetime | None = None) -> Event:
    """An assessment no longer shows the task's shortfall: mark it (status unchanged) for the
    office to 销号. Refused for closed tasks and for tasks already marked."""
    return _apply(session, task, "resolve_by_data", actor_name=actor_name, actor_id=None,
                  payload={"assessment_id": assessment_id},
                  values={"resolved_by_assessment_id": assessment_id}, at=at)


# ---------------------------------------------------------------------------------------------
# derived: overdue and on time


def is_overdue(task: Task, today: dt.date) -> bool:
    return TaskStatus(task.status) in CLOCK_RUNNING and today > task.due_on


def days_overdue(task: Task, today: dt.date) -> int:
    """Working days past the due date while overdue, else 0 (a weekend right after a Friday
    deadline is overdue by 0 working days)."""
    if not is_overdue(task, today):
        return 0
    return working_days_between(task.due_on, today)


def _completion_from_events(events: Sequence[Event]) -> dt.datetime | None:
    """When the verified work was done: its last submission before 销号 (not undone by 退回 or
    重新打开), else the 销号 itself (a task resolved by data and verified without a submission)."""
    submitted: dt.datetime | None = None
    completed: dt.datetime | None = None
    for event in sorted(events, key=lambda e: (e.at, e.id or 0)):
        if event.type == "task.submitted":
            submitted = event.at
        elif event.type in ("task.returned", "task.reopened"):
            submitted = None
            completed = None
        elif event.type == "task.verified":
            completed = submitted or event.at
    return completed


def on_time(task: Task, events: Sequence[Event] | None = None) -> bool | None:
    """True when submitted by the due date (Asia/Shanghai date) and later verified; False when
    verified but submitted late; None while not verified (open or withdrawn).

    Reads the task's own timestamps, or its event history when ``events`` is given (both agree)."""
    if TaskStatus(task.status) is not S.verified:
        return None
    if events is not None:
        done = _completion_from_events([e for e in events if e.task_id == task.id])
    else:
        done = task.submitted_at or task.verified_at
    if done is None:
        return None
    return local_date(done) <= task.due_on

