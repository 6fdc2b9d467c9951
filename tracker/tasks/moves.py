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

The 延期申请 live in extensions.py (importable from here too), the checks and the telling that the
moves share in move_rules.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tracker.db import utcnow
from tracker.events.models import Event
from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.notices.models import Rung
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
    unit_name,
)
from tracker.tasks.models import (
    CooperatorReport,
    Evidence,
    ExtensionStatus,
    Task,
    TaskCooperator,
    TaskOrigin,
    TaskStatus,
)
from tracker.tasks.service import NewTask, change_due_date, create_tasks
from tracker.tasks.service import cooperators as task_cooperators

from tracker.tasks.extensions import (  # 延期申请: importable from here as before
    pending_extension,
    pending_extensions,
    task_extensions,
    campaign_extensions,
    get_extension,
    request_extension,
    approve_extension,
    refuse_extension,
)
from tracker.tasks.move_rules import (
    check_in_campaign,
    check_office,
    check_state,
    checked_date,
    department_contacts,
    is_lead,
    notify,
    required_reason,
    touch,
)

MAX_CHILDREN = 500  # sub-tasks in one split (a county has a few hundred schools)


# ---------------------------------------------------------------------------------------------
# 调整时限 by the office


def redate(session: Session, task: Task, person: Person, due_on: dt.date, reason: str,
           *, at: dt.datetime | None = None) -> Event:
    """The office moves an open task's due date with a reason: one ``task.due_changed``."""
    label = "调整截止日期"
    check_state(task, OPEN, label)
    check_office(task, person, label)
    due_on = checked_date(due_on, "截止日期")
    text = required_reason(reason, "调整截止日期的", task)
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
    check_state(task, CLOCK_RUNNING, label)
    check_office(task, person, label)
    text = required_reason(reason, "转办", task)
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
    touch(session, task, now, **values)
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
    check_state(task, CLOCK_RUNNING, label)
    check_in_campaign(task, person, label)
    if not (person.is_office or is_lead(session, task, person)):
        raise NotPermitted(f"只有办公室或任务 #{task.id} 的牵头单位（{unit_name(session, task)}）可以{label}")
    if not subtasks:
        raise InvalidTaskInput("分解任务至少要有一项子任务")
    if len(subtasks) > MAX_CHILDREN:
        raise InvalidTaskInput(f"一次最多分解 {MAX_CHILDREN} 项子任务，收到 {len(subtasks)} 项")
    for n, sub in enumerate(subtasks, start=1):
        if not (sub.title or "").strip():
            raise InvalidTaskInput(f"第 {n} 项子任务的标题不能为空")
        checked_date(sub.due_on, f"第 {n} 项子任务的截止日期")
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
    touch(session, task, now)
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
    check_state(task, OPEN, label)
    check_in_campaign(task, person, label)
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
    evidence_id: int | None = None  # the latest report's evidence file, if it named one


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
                                   last.reported_at if last else None, len(mine), chases.get(dept.id, 0),
                                   last.evidence_id if last else None))
    return out


def chase_cooperator(session: Session, task: Task, person: Person, department_id: int, note: str = "",
                     *, at: dt.datetime | None = None) -> Event:
    """催办 one cooperating unit's share (office): a notice to the unit's contacts, one
    ``task.cooperator_chased``. Refused when the unit has no contact with an address (nothing
    could be sent: the office should fix the plan first)."""
    label = "催办配合单位"
    check_state(task, OPEN, label)
    check_office(task, person, label)
    if session.get(TaskCooperator, (task.id, department_id)) is None:
        raise InvalidTaskInput(f"单位 #{department_id} 不是任务 #{task.id} 的配合单位")
    dept = session.get(Department, department_id)
    to = department_contacts(session, task.campaign_id, department_id)
    if not to:
        raise TransitionError(f"「{dept.name}」没有填写了邮箱的联系人，催办无法送达；请先在创建方案中补充联系人")
    now = at or utcnow()
    n = session.exec(select(func.count()).select_from(Event).where(
        Event.task_id == task.id, Event.type == EventType.task_cooperator_chased.value)).one() + 1
    text = (note or "").strip()
    sent = notify(session, task, Rung.coop_chase, n, f"{n}:{department_id}", to, {"reason": text}, now)
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


__all__ = [
    "pending_extension",
    "pending_extensions",
    "task_extensions",
    "campaign_extensions",
    "get_extension",
    "request_extension",
    "approve_extension",
    "refuse_extension",
]
