"""The office's 督办 moves beyond a task's own lifecycle (issue 12 §2–3):

- 延期申请: the lead unit asks for a new due date with a reason; the office approves (the due
  date moves, the reminder ladder is worked out again) or refuses; the unit is told either way.
- 调整时限: the office re-dates an open task directly, with a reason (``task.due_changed``).
- 转办: the office gives a task to another lead unit, with a reason; its history stays.
- 分解: the lead unit or the office splits a task into sub-tasks for other units or schools;
  the parent is submitted only when every sub-task is done (``lifecycle.submit``).
- 联办: a cooperating unit reports on its own share; the office chases one cooperating unit.
- 批量签收: several tasks signed at once, each its own move and event, refusals listed.

The same guarantees as the lifecycle: each move writes exactly one event on each task it moves,
in the transaction of the change; a refused move raises a ``TransitionError`` (Chinese; its
``NotPermitted`` subclass for the wrong person, ``InvalidTaskInput`` for a bad value) before
anything is written. Functions take a session first and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tracker.db import utcnow
from tracker.events.models import Event
from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.org.service import UnknownName, find_department
from tracker.plans.kinds import UnitKind
from tracker.tasks import lifecycle
from tracker.tasks.lifecycle import (
    CLOCK_RUNNING,
    OPEN,
    InvalidTaskInput,
    NotPermitted,
    TransitionError,
    may_act,
    unit_name,
)
from tracker.tasks.models import (
    CooperatorReport,
    Evidence,
    ExtensionStatus,
    Task,
    TaskCooperator,
    TaskExtension,
    TaskOrigin,
    TaskStatus,
)
from tracker.tasks.service import NewTask, TaskNotFound, change_due_date, create_tasks, get_task
from tracker.tasks.service import cooperators as task_cooperators

MAX_CHILDREN = 500  # sub-tasks in one split (a county has a few hundred schools)


EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)  # a campaign's dates, with room


def _date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidTaskInput(f"{field}必须是日期（YYYY-MM-DD），收到「{value}」")
    if not EARLIEST <= value <= LATEST:  # the working-day calendar and the lights count day by day
        raise InvalidTaskInput(f"{field}「{value.isoformat()}」超出可用范围（{EARLIEST.year}—{LATEST.year} 年）")
    return value


def _reason(reason: str | None, what: str, task: Task) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidTaskInput(f"{what}任务 #{task.id} 必须说明原因")
    return text


def _actor_in_campaign(task: Task, person: Person, label: str) -> None:
    if person.campaign_id != task.campaign_id:
        raise NotPermitted(f"「{person.name}」不属于任务 #{task.id} 所在的创建工作，不能{label}")
    if not person.active:
        raise NotPermitted(f"「{person.name}」已停用，不能{label}")


def _office(task: Task, person: Person, label: str) -> None:
    _actor_in_campaign(task, person, label)
    if not person.is_office:
        raise NotPermitted(f"只有领导小组办公室可以{label}，「{person.name}」不是办公室人员")


def is_lead(session: Session, task: Task, person: Person) -> bool:
    """The person is of the task's lead unit (its department, or the responsible school)."""
    if task.department_id is not None:
        return person.department_id == task.department_id
    return not person.is_office and may_act(session, task, person)


def _lead(session: Session, task: Task, person: Person, label: str) -> None:
    _actor_in_campaign(task, person, label)
    if not is_lead(session, task, person):
        raise NotPermitted(f"只有任务 #{task.id} 的牵头单位（{unit_name(session, task)}）可以{label}，"
                           f"「{person.name}」不是该单位人员")


def _state(task: Task, allowed: Iterable[TaskStatus], label: str) -> None:
    if TaskStatus(task.status) not in allowed:
        raise TransitionError(f"任务 #{task.id} 当前状态为「{TaskStatus(task.status).value}」，不能{label}")


def _touch(session: Session, task: Task, now: dt.datetime, **values) -> None:
    """Change the task if its status is still the one read (someone else's move in between
    refuses ours), and mark its reminder ladder to be worked out again."""
    session.flush()
    stmt = (update(Task).where(Task.id == task.id, Task.status == TaskStatus(task.status).value)
            .values(updated_at=now, next_reminder_at=now, **values).execution_options(synchronize_session=False))
    if session.execute(stmt).rowcount != 1:
        session.refresh(task)
        raise TransitionError(f"任务 #{task.id} 已被他人处理（当前状态为「{TaskStatus(task.status).value}」），请刷新后重试")
    session.refresh(task)


# ---------------------------------------------------------------------------------------------
# telling people: notice items through the notices machinery (composed and sent like the ladder's)


@dataclass(frozen=True)
class _Addressee:
    name: str
    address: str
    person_id: int | None

    @property
    def key(self) -> str:
        return f"p{self.person_id}" if self.person_id is not None else self.address.lower()


def _department_contacts(session: Session, campaign_id: int, department_id: int) -> list[_Addressee]:
    people = session.exec(select(Person).where(Person.campaign_id == campaign_id, Person.department_id == department_id,
                                               Person.is_contact.is_(True), Person.active.is_(True))
                          .order_by(Person.id))
    return [_Addressee(p.name, p.email.strip(), p.id) for p in people if (p.email or "").strip()]


def _unit_contacts(session: Session, task: Task) -> list[_Addressee]:
    if task.department_id is not None:
        return _department_contacts(session, task.campaign_id, task.department_id)
    school = session.get(School, task.responsible_school_id) if task.responsible_school_id else None
    address = (school.contact_email or "").strip() if school else ""
    if not address:
        return []
    person = session.exec(select(Person).where(Person.campaign_id == task.campaign_id,
                                               func.lower(Person.email) == address.lower())).first()
    return [_Addressee(person.name if person else (school.contact_name or school.name), address,
                       person.id if person else None)]


def _notify(session: Session, task: Task, rung: Rung, occurrence: int, key_part: str,
            to: Sequence[_Addressee], payload: dict, now: dt.datetime) -> int:
    """Queue one notice item per addressee (unique key: never owed twice); returns how many."""
    seen: set[str] = set()
    for a in to:
        if a.key in seen:
            continue
        seen.add(a.key)
        session.add(NoticeItem(campaign_id=task.campaign_id, task_id=task.id, rung=rung.value, occurrence=occurrence,
                               idempotency_key=f"{task.id}:{rung.value}:{key_part}:{a.key}"[:200],
                               recipient_person_id=a.person_id, recipient_name=a.name, recipient_address=a.address,
                               payload={"task_id": task.id, "title": task.title, **payload},
                               not_before=now, created_at=now))
    session.flush()
    return len(seen)


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


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
    _state(task, CLOCK_RUNNING, label)
    _lead(session, task, person, label)
    due_on = _date(due_on, "申请的截止日期")
    text = _reason(reason, "申请延期", task)
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
    _office(task, person, "审批延期申请")
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
    to = _unit_contacts(session, task)
    requester = session.get(Person, ext.requested_by_id) if ext.requested_by_id else None
    if requester is not None and (requester.email or "").strip():
        to.append(_Addressee(requester.name, requester.email.strip(), requester.id))
    _notify(session, task, Rung.extension, ext.id, f"{ext.id}", to, {"reason": text}, now)


def approve_extension(session: Session, ext: TaskExtension, person: Person, note: str = "",
                      *, at: dt.datetime | None = None) -> Task:
    """The office approves: the task's due date becomes the date asked for (its 原定时限, if
    any, no longer applies), the ladder is worked out again on it, the unit is told. Refused
    when the task has left its unit meanwhile (submitted or closed)."""
    now = at or utcnow()
    task = _check_decision(session, ext, person)
    _state(task, CLOCK_RUNNING, "同意延期")
    before = task.due_on
    # the task first (its status checked in the UPDATE), then the request: a refusal of either
    # raises before the other is written … or after, and the caller rolls the transaction back
    _touch(session, task, now, due_on=ext.due_on, planned_due_on=None)
    _decide(session, ext, person, ExtensionStatus.approved, (note or "").strip(), now)
    record_event(session, type=EventType.task_extension_approved.value, actor=person.name, actor_id=person.id,
                 campaign_id=task.campaign_id, task_id=task.id, at=now,
                 payload={"extension_id": ext.id, "due_from": before.isoformat(), "due_to": ext.due_on.isoformat(),
                          "note": ext.decision_note, "requested_by": ext.requested_by})
    _tell_decision(session, task, ext, f"领导小组办公室同意贵单位的延期申请，完成时限由 {_cn(before)} "
                                       f"调整为 {_cn(ext.due_on)}。", now)
    return task


def refuse_extension(session: Session, ext: TaskExtension, person: Person, reason: str,
                     *, at: dt.datetime | None = None) -> Task:
    """The office refuses, with a reason; the due date stays, the unit is told."""
    now = at or utcnow()
    task = _check_decision(session, ext, person)
    text = _reason(reason, "不同意延期申请的", task)
    _decide(session, ext, person, ExtensionStatus.refused, text, now)
    record_event(session, type=EventType.task_extension_refused.value, actor=person.name, actor_id=person.id,
                 campaign_id=task.campaign_id, task_id=task.id, at=now,
                 payload={"extension_id": ext.id, "due_on": task.due_on.isoformat(),
                          "asked_for": ext.due_on.isoformat(), "reason": text, "requested_by": ext.requested_by})
    _tell_decision(session, task, ext, f"领导小组办公室不同意贵单位的延期申请（原因：{text}），"
                                       f"完成时限仍为 {_cn(task.due_on)}，请抓紧办理。", now)
    return task


# ---------------------------------------------------------------------------------------------
# 调整时限 by the office


def redate(session: Session, task: Task, person: Person, due_on: dt.date, reason: str,
           *, at: dt.datetime | None = None) -> Event:
    """The office moves an open task's due date with a reason: one ``task.due_changed``."""
    label = "调整截止日期"
    _state(task, OPEN, label)
    _office(task, person, label)
    due_on = _date(due_on, "截止日期")
    text = _reason(reason, "调整截止日期的", task)
    if due_on == task.due_on:
        raise InvalidTaskInput(f"任务 #{task.id} 的截止日期已是 {due_on.isoformat()}")
    return change_due_date(session, task, due_on, actor=person, reason=text, at=at)


# ---------------------------------------------------------------------------------------------
# 转办


@dataclass(frozen=True)
class Unit:
    """A lead unit: a department or a school (exactly one)."""

    department: Department | None = None
    school: School | None = None

    @property
    def name(self) -> str:
        return self.department.name if self.department is not None else self.school.name


def unit_choices(session: Session, campaign_id: int) -> tuple[list[Department], list[School]]:
    """The campaign's active departments (office left out) and its schools, for a form's choices."""
    departments = [d for d in session.exec(select(Department).where(Department.campaign_id == campaign_id,
                                                                    Department.active.is_(True))
                                           .order_by(Department.id))
                   if d.kind != UnitKind.office.value]
    schools = list(session.exec(select(School).where(School.campaign_id == campaign_id).order_by(School.name)))
    return departments, schools


def find_unit(session: Session, campaign: Campaign, name: str, field: str = "单位") -> Unit:
    """A department (full name, 简称 or alias) or a school (name or 标识码) of the campaign;
    ``InvalidTaskInput`` naming ``field`` when there is none."""
    wanted = (name or "").strip()
    if not wanted:
        raise InvalidTaskInput(f"{field}不能为空")
    try:
        return Unit(department=find_department(session, campaign, wanted))
    except UnknownName as exc:
        school = session.exec(select(School).where(School.campaign_id == campaign.id,
                                                   (School.name == wanted) | (School.key == wanted))).first()
        if school is not None:
            return Unit(school=school)
        raise InvalidTaskInput(f"{field}「{wanted}」不是本创建工作的单位或学校（{exc.message}）") from None


def transfer(session: Session, task: Task, person: Person, to: Unit, reason: str,
             *, at: dt.datetime | None = None) -> Event:
    """转办 (office): the task goes to another lead unit, back to 待签收 for it to sign; its
    history, evidence and due date stay. A pending 延期申请 of the old unit lapses. A submitted
    task must be returned first (the old unit's work is under review)."""
    label = "转办"
    _state(task, CLOCK_RUNNING, label)
    _office(task, person, label)
    text = _reason(reason, "转办", task)
    new_dept = to.department.id if to.department is not None else None
    new_school = to.school.id if to.school is not None else None
    unit = to.department or to.school
    if unit.campaign_id != task.campaign_id:
        raise InvalidTaskInput(f"「{to.name}」不属于任务 #{task.id} 所在的创建工作")
    if (new_dept, new_school) == (task.department_id, task.responsible_school_id):
        raise InvalidTaskInput(f"任务 #{task.id} 的牵头单位已是「{to.name}」")
    now = at or utcnow()
    before = {"department_id": task.department_id, "responsible_school_id": task.responsible_school_id,
              "unit": unit_name(session, task), "status": TaskStatus(task.status).value}
    values: dict = {"department_id": new_dept, "responsible_school_id": new_school, "assignee_id": None,
                    "acknowledged_at": None, "status": TaskStatus.assigned.value}
    if new_school is not None and task.school_id is None:
        values["school_id"] = new_school
    _touch(session, task, now, **values)
    if new_dept is not None:  # the new lead is no longer a cooperator of its own task
        session.execute(delete(TaskCooperator).where(TaskCooperator.task_id == task.id,
                                                     TaskCooperator.department_id == new_dept))
    lapsed = pending_extension(session, task.id)
    if lapsed is not None:
        lapsed.status = ExtensionStatus.refused.value
        lapsed.pending_task_id = None
        lapsed.decided_by, lapsed.decided_by_id, lapsed.decided_at = person.name, person.id, now
        lapsed.decision_note = "任务已转办，申请失效"
        session.add(lapsed)
    return record_event(session, type=EventType.task_transferred.value, actor=person.name, actor_id=person.id,
                        campaign_id=task.campaign_id, task_id=task.id, at=now,
                        payload={"from_unit": before["unit"], "to_unit": to.name,
                                 "from_department_id": before["department_id"],
                                 "from_school_id": before["responsible_school_id"],
                                 "to_department_id": new_dept, "to_school_id": new_school, "reason": text,
                                 "from": before["status"], "to": TaskStatus.assigned.value,
                                 "extension_lapsed": lapsed.id if lapsed is not None else None})


# ---------------------------------------------------------------------------------------------
# 分解


@dataclass(frozen=True)
class SubTask:
    """One sub-task of a split: its title, unit, due date and measures."""

    title: str
    unit: Unit
    due_on: dt.date
    measures: str = ""


def children(session: Session, task_id: int) -> list[Task]:
    return list(session.exec(select(Task).where(Task.parent_id == task_id).order_by(Task.id)))


def split(session: Session, task: Task, person: Person, subtasks: Sequence[SubTask],
          *, at: dt.datetime | None = None) -> list[Task]:
    """分解 by the lead unit or the office: the sub-tasks are created in one batch
    (``create_tasks``: one ``task.created`` each, in the parent's phase), and the parent gets one
    ``task.split`` naming them. A sub-task is due no later than its parent."""
    label = "分解任务"
    _state(task, CLOCK_RUNNING, label)
    _actor_in_campaign(task, person, label)
    if not (person.is_office or is_lead(session, task, person)):
        raise NotPermitted(f"只有办公室或任务 #{task.id} 的牵头单位（{unit_name(session, task)}）可以{label}")
    if not subtasks:
        raise InvalidTaskInput("分解任务至少要有一项子任务")
    if len(subtasks) > MAX_CHILDREN:
        raise InvalidTaskInput(f"一次最多分解 {MAX_CHILDREN} 项子任务，收到 {len(subtasks)} 项")
    for n, sub in enumerate(subtasks, start=1):
        if not (sub.title or "").strip():
            raise InvalidTaskInput(f"第 {n} 项子任务的标题不能为空")
        _date(sub.due_on, f"第 {n} 项子任务的截止日期")
        if sub.due_on > task.due_on:
            raise InvalidTaskInput(f"第 {n} 项子任务的截止日期（{sub.due_on.isoformat()}）不能晚于"
                                   f"任务 #{task.id} 的截止日期（{task.due_on.isoformat()}）")
    campaign = session.get(Campaign, task.campaign_id)
    phase = session.get(Phase, task.phase_id)
    already = session.exec(select(func.count()).select_from(Task).where(Task.parent_id == task.id)).one()
    now = at or utcnow()
    new = [NewTask(phase=phase, title=sub.title.strip(), measures=(sub.measures or "").strip(),
                   origin=TaskOrigin.split, origin_key=f"split:{task.id}:{already + n}", due_on=sub.due_on,
                   department=sub.unit.department, responsible_school=sub.unit.school,
                   school=sub.unit.school if sub.unit.school is not None else None,
                   indicator=task.indicator, parent=task,
                   event_details={"parent_id": task.id})
           for n, sub in enumerate(subtasks, start=1)]
    # the parent's state is checked again in the same UPDATE as its mark (a move in between refuses)
    _touch(session, task, now)
    try:
        with session.begin_nested():  # two splits at once: the second's origin keys collide
            made = create_tasks(session, campaign, new, actor=person, today=None)
    except IntegrityError:
        raise TransitionError(f"任务 #{task.id} 正被他人分解，请刷新后重试") from None
    record_event(session, type=EventType.task_split.value, actor=person.name, actor_id=person.id,
                 campaign_id=task.campaign_id, task_id=task.id, at=now,
                 payload={"children": [c.id for c in made],
                          "units": [s.unit.name for s in subtasks], "count": len(made)})
    return made


# ---------------------------------------------------------------------------------------------
# 联办


def is_cooperator(session: Session, task: Task, person: Person) -> bool:
    return person.department_id is not None and \
        session.get(TaskCooperator, (task.id, person.department_id)) is not None


def cooperator_report(session: Session, task: Task, person: Person, percent: int, note: str = "",
                      evidence_id: int | None = None, *, at: dt.datetime | None = None) -> CooperatorReport:
    """A cooperating unit reports on its own share (progress 0–100, a note, optionally an
    evidence file of the task). The task's state does not change; one
    ``task.cooperator_reported`` with the unit's department id."""
    label = "报告配合事项进展"
    _state(task, OPEN, label)
    _actor_in_campaign(task, person, label)
    if not is_cooperator(session, task, person):
        raise NotPermitted(f"「{person.name}」所在单位不是任务 #{task.id} 的配合单位，不能{label}")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise InvalidTaskInput(f"进度必须是 0 到 100 之间的整数，收到「{percent}」")
    text = (note or "").strip()
    if not text and evidence_id is None:
        raise InvalidTaskInput("请填写进展说明或附上佐证材料")
    if evidence_id is not None:
        evidence = session.get(Evidence, evidence_id)
        if evidence is None or evidence.task_id != task.id:
            raise InvalidTaskInput(f"佐证材料 #{evidence_id} 不属于任务 #{task.id}")
    now = at or utcnow()
    report = CooperatorReport(campaign_id=task.campaign_id, task_id=task.id, department_id=person.department_id,
                              percent=percent, note=text, evidence_id=evidence_id, reported_by=person.name,
                              reported_by_id=person.id, reported_at=now)
    session.add(report)
    session.flush()
    dept = session.get(Department, person.department_id)
    record_event(session, type=EventType.task_cooperator_reported.value, actor=person.name, actor_id=person.id,
                 campaign_id=task.campaign_id, task_id=task.id, at=now,
                 payload={"report_id": report.id, "department_id": person.department_id,
                          "unit": dept.name if dept else "", "percent": percent, "note": text,
                          "evidence_id": evidence_id})
    return report


def cooperator_reports(session: Session, task_id: int) -> list[CooperatorReport]:
    return list(session.exec(select(CooperatorReport).where(CooperatorReport.task_id == task_id)
                             .order_by(CooperatorReport.reported_at, CooperatorReport.id)))


@dataclass(frozen=True)
class CooperatorShare:
    """A cooperating unit's share of a task as the lead unit and the office see it."""

    department_id: int
    name: str
    percent: int | None  # the latest report's, None before any
    note: str
    reported_at: dt.datetime | None
    reports: int
    chased: int


def cooperator_shares(session: Session, task: Task) -> list[CooperatorShare]:
    reports = cooperator_reports(session, task.id)
    chases: dict[int, int] = {}
    for payload in session.exec(select(Event.payload).where(
            Event.task_id == task.id, Event.type == EventType.task_cooperator_chased.value)):
        dept_id = (payload or {}).get("department_id")
        chases[dept_id] = chases.get(dept_id, 0) + 1
    out = []
    for dept in task_cooperators(session, task):
        mine = [r for r in reports if r.department_id == dept.id]
        last = mine[-1] if mine else None
        out.append(CooperatorShare(dept.id, dept.name, last.percent if last else None, last.note if last else "",
                                   last.reported_at if last else None, len(mine), chases.get(dept.id, 0)))
    return out


def chase_cooperator(session: Session, task: Task, person: Person, department_id: int, note: str = "",
                     *, at: dt.datetime | None = None) -> Event:
    """催办 one cooperating unit's share (office): a notice to the unit's contacts, one
    ``task.cooperator_chased``. Refused when the unit has no contact with an address (nothing
    could be sent: the office should fix the plan first)."""
    label = "催办配合单位"
    _state(task, OPEN, label)
    _office(task, person, label)
    if session.get(TaskCooperator, (task.id, department_id)) is None:
        raise InvalidTaskInput(f"单位 #{department_id} 不是任务 #{task.id} 的配合单位")
    dept = session.get(Department, department_id)
    to = _department_contacts(session, task.campaign_id, department_id)
    if not to:
        raise TransitionError(f"「{dept.name}」没有填写了邮箱的联系人，催办无法送达；请先在创建方案中补充联系人")
    now = at or utcnow()
    n = session.exec(select(func.count()).select_from(Event).where(
        Event.task_id == task.id, Event.type == EventType.task_cooperator_chased.value)).one() + 1
    text = (note or "").strip()
    sent = _notify(session, task, Rung.coop_chase, n, f"{n}:{department_id}", to, {"reason": text}, now)
    return record_event(session, type=EventType.task_cooperator_chased.value, actor=person.name, actor_id=person.id,
                        campaign_id=task.campaign_id, task_id=task.id, at=now,
                        payload={"department_id": department_id, "unit": dept.name, "note": text,
                                 "occurrence": n, "recipients": sent})


# ---------------------------------------------------------------------------------------------
# 批量签收


@dataclass(frozen=True)
class Refusal:
    task_id: int
    reason: str


def tasks_by_id(session: Session, campaign_id: int, ids: Sequence[int]) -> dict[int, Task]:
    """The tasks of the campaign among ``ids`` (others are left out)."""
    out: dict[int, Task] = {}
    wanted = list(ids)
    for start in range(0, len(wanted), 500):
        out.update((t.id, t) for t in session.exec(
            select(Task).where(Task.id.in_(wanted[start:start + 500]), Task.campaign_id == campaign_id)))
    return out


def accept_many(session: Session, tasks: Sequence[Task], person: Person, *,
                at: dt.datetime | None = None) -> tuple[list[Task], list[Refusal]]:
    """签收 each task (``lifecycle.accept``: one event each), in the caller's transaction; a task
    that cannot be signed is listed with the reason and the others go ahead (a refused
    ``accept`` writes nothing)."""
    done: list[Task] = []
    refused: list[Refusal] = []
    for task in tasks:
        try:
            lifecycle.accept(session, task, person, at=at)
        except TransitionError as exc:
            refused.append(Refusal(task.id, exc.message))
        else:
            done.append(task)
    return done, refused
