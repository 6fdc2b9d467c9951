"""延期申请 (issue 12 §2): the lead unit asks for a new due date with a reason; the office approves
(the due date moves, the reminder ladder is worked out again) or refuses; the unit is told
either way. The same guarantees as every move (see moves.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tracker.db import utcnow
from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.notices.models import Rung
from tracker.org.models import Person
from tracker.tasks.lifecycle import (
    CLOCK_RUNNING,
    InvalidTaskInput,
    TransitionError,
)
from tracker.tasks.models import (
    ExtensionStatus,
    Task,
    TaskExtension,
)
from tracker.tasks.service import TaskNotFound, get_task
from tracker.tasks.move_rules import (
    Addressee,
    check_lead,
    check_office,
    check_state,
    checked_date,
    cn_day,
    notify,
    required_reason,
    touch,
    unit_contacts,
)

# ---------------------------------------------------------------------------------------------
# 延期申请


def pending_extension(session: Session, task_id: int) -> TaskExtension | None:
    return session.exec(select(TaskExtension).where(TaskExtension.pending_task_id == task_id)).first()


def pending_extensions(session: Session, task_ids: Sequence[int]) -> dict[int, TaskExtension]:
    """The pending 延期申请 of each of ``task_ids`` that has one (for a page of tasks: one query)."""
    out: dict[int, TaskExtension] = {}
    ids = list(task_ids)
    for start in range(0, len(ids), 500):
        for ext in session.exec(select(TaskExtension).where(TaskExtension.pending_task_id.in_(ids[start:start + 500]))):
            out[ext.task_id] = ext
    return out


def task_extensions(session: Session, task_id: int) -> list[TaskExtension]:
    return list(session.exec(select(TaskExtension).where(TaskExtension.task_id == task_id)
                             .order_by(TaskExtension.requested_at, TaskExtension.id)))


def campaign_extensions(session: Session, campaign_id: int, *, status: ExtensionStatus | None = None,
                        visible=None, limit: int = 200) -> list[TaskExtension]:
    """The campaign's 延期申请, newest first; ``status`` one kind (e.g. 待审批: the office's queue);
    ``visible`` a WHERE clause on ``Task`` for the tasks the reader may see."""
    stmt = select(TaskExtension).where(TaskExtension.campaign_id == campaign_id)
    if status is not None:
        stmt = stmt.where(TaskExtension.status == ExtensionStatus(status).value)
    if visible is not None:
        stmt = stmt.where(TaskExtension.task_id.in_(select(Task.id).where(visible)))
    return list(session.exec(stmt.order_by(TaskExtension.requested_at.desc(), TaskExtension.id.desc()).limit(limit)))


def get_extension(session: Session, extension_id: int, campaign_id: int | None = None) -> TaskExtension:
    ext = session.get(TaskExtension, extension_id)
    if ext is None or (campaign_id is not None and ext.campaign_id != campaign_id):
        raise TaskNotFound(f"没有编号为 #{extension_id} 的延期申请")
    return ext


def request_extension(session: Session, task: Task, person: Person, due_on: dt.date, reason: str,
                      *, at: dt.datetime | None = None) -> TaskExtension:
    """延期申请 by the lead unit: a later date than the current one, with a reason, while the task
    is with the unit; one pending request per task. Writes ``task.extension_requested``."""
    label = "申请延期"
    check_state(task, CLOCK_RUNNING, label)
    check_lead(session, task, person, label)
    due_on = checked_date(due_on, "申请的截止日期")
    text = required_reason(reason, "申请延期", task)
    if due_on <= task.due_on:
        raise InvalidTaskInput(f"申请的截止日期（{due_on.isoformat()}）必须晚于当前截止日期（{task.due_on.isoformat()}）")
    if pending_extension(session, task.id) is not None:
        raise TransitionError(f"任务 #{task.id} 已有待审批的延期申请，请等待办公室审批")
    now = at or utcnow()
    ext = TaskExtension(campaign_id=task.campaign_id, task_id=task.id, pending_task_id=task.id, due_from=task.due_on,
                        due_on=due_on, reason=text, requested_by=person.name, requested_by_id=person.id,
                        requested_at=now)
    try:
        with session.begin_nested():  # the unique pending_task_id: someone asked at the same moment
            session.add(ext)
            session.flush()
    except IntegrityError:
        raise TransitionError(f"任务 #{task.id} 已有待审批的延期申请，请等待办公室审批") from None
    record_event(session, type=EventType.task_extension_requested.value, actor=person.name, actor_id=person.id,
                 campaign_id=task.campaign_id, task_id=task.id, at=now,
                 payload={"extension_id": ext.id, "due_from": task.due_on.isoformat(), "due_to": due_on.isoformat(),
                          "reason": text, "department_id": task.department_id,
                          "responsible_school_id": task.responsible_school_id})
    return ext


def _check_decision(session: Session, ext: TaskExtension, person: Person) -> Task:
    task = get_task(session, ext.task_id)
    check_office(task, person, "审批延期申请")
    if ExtensionStatus(ext.status) is not ExtensionStatus.pending:
        raise TransitionError(f"延期申请 #{ext.id} {ExtensionStatus(ext.status).value}，不能再审批")
    return task


def _decide(session: Session, ext: TaskExtension, person: Person, status: ExtensionStatus,
            note: str, now: dt.datetime) -> None:
    session.flush()
    done = session.execute(
        update(TaskExtension).where(TaskExtension.id == ext.id, TaskExtension.status == ExtensionStatus.pending.value)
        .values(status=status.value, pending_task_id=None, decided_by=person.name, decided_by_id=person.id,
                decided_at=now, decision_note=note).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(ext)
        raise TransitionError(f"延期申请 #{ext.id} 已被他人审批（{ExtensionStatus(ext.status).value}），请刷新后重试")
    session.refresh(ext)


def _tell_decision(session: Session, task: Task, ext: TaskExtension, text: str, now: dt.datetime) -> None:
    to = unit_contacts(session, task)
    requester = session.get(Person, ext.requested_by_id) if ext.requested_by_id else None
    if requester is not None and (requester.email or "").strip():
        to.append(Addressee(requester.name, requester.email.strip(), requester.id))
    notify(session, task, Rung.extension, ext.id, f"{ext.id}", to, {"reason": text}, now)


def approve_extension(session: Session, ext: TaskExtension, person: Person, note: str = "",
                      *, at: dt.datetime | None = None) -> Task:
    """The office approves: the task's due date becomes the date asked for (its 原定时限, if
    any, no longer applies), the ladder is worked out again on it, the unit is told. Refused
    when the task has left its unit meanwhile (submitted or closed)."""
    now = at or utcnow()
    task = _check_decision(session, ext, person)
    check_state(task, CLOCK_RUNNING, "同意延期")
    before = task.due_on
    # the task first (its status checked in the UPDATE), then the request: a refusal of either
    # raises before the other is written … or after, and the caller rolls the transaction back
    touch(session, task, now, due_on=ext.due_on, planned_due_on=None)
    _decide(session, ext, person, ExtensionStatus.approved, (note or "").strip(), now)
    record_event(session, type=EventType.task_extension_approved.value, actor=person.name, actor_id=person.id,
                 campaign_id=task.campaign_id, task_id=task.id, at=now,
                 payload={"extension_id": ext.id, "due_from": before.isoformat(), "due_to": ext.due_on.isoformat(),
                          "note": ext.decision_note, "requested_by": ext.requested_by})
    _tell_decision(session, task, ext, f"领导小组办公室同意贵单位的延期申请，完成时限由 {cn_day(before)} "
                                       f"调整为 {cn_day(ext.due_on)}。", now)
    return task


def refuse_extension(session: Session, ext: TaskExtension, person: Person, reason: str,
                     *, at: dt.datetime | None = None) -> Task:
    """The office refuses, with a reason; the due date stays, the unit is told."""
    now = at or utcnow()
    task = _check_decision(session, ext, person)
    text = required_reason(reason, "不同意延期申请的", task)
    _decide(session, ext, person, ExtensionStatus.refused, text, now)
    record_event(session, type=EventType.task_extension_refused.value, actor=person.name, actor_id=person.id,
                 campaign_id=task.campaign_id, task_id=task.id, at=now,
                 payload={"extension_id": ext.id, "due_on": task.due_on.isoformat(),
                          "asked_for": ext.due_on.isoformat(), "reason": text, "requested_by": ext.requested_by})
    _tell_decision(session, task, ext, f"领导小组办公室不同意贵单位的延期申请（原因：{text}），"
                                       f"完成时限仍为 {cn_day(task.due_on)}，请抓紧办理。", now)
    return task
