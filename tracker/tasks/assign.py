"""交办: the office creates work itself (issue 12 §1) and edits what it created.

One office task (``TaskOrigin.office``) has a title, a 事项来源 (``TaskSource``) with its reference
(文号, meeting and date), 措施/要求, a lead unit (a department by name, 简称 or alias, or a school
by name), cooperating units, a phase (default: the campaign's current phase), a due date,
whether 提交 needs evidence, and an optional indicator. Everything is checked before anything is
written; every bad field is reported (``AssignmentError.problems``: field → Chinese message) and
nothing is stored. The task goes through ``create_tasks``, so it is never born overdue and gets
its one ``task.created`` event; the reminder sweep sends its 交办单.

``edit_office_task`` changes title, measures, lead and cooperating units and due date of an open
office task, with a reason: one ``task.edited`` event per edit listing every change. The unit is
told by a 任务变更通知 (``tracker.reminders.immediate.edit_task`` queues it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, delete, select

from tracker.errors import ErrorDetail, JunhengError
from tracker.clock import local_date
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.events.service import record_event
from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.org.service import UnknownName, current_phase, find_department
from tracker.tasks.lifecycle import OPEN, NotPermitted
from tracker.tasks.models import Task, TaskCooperator, TaskOrigin, TaskSource, TaskStatus
from tracker.tasks.recurrence import parse_recurrence
from tracker.tasks.service import NewTask, cooperators, create_tasks

MAX_TITLE = 200
MAX_TEXT = 4000
SOURCE_NAMES = [s.value for s in TaskSource]

# field → its Chinese name, for messages (the API's JSON names, the sheet's columns say the same)
FIELD_NAMES = {"title": "任务名称", "source": "事项来源", "source_ref": "来源文号/会议", "measures": "措施/要求",
               "lead": "牵头单位", "cooperating": "配合单位", "phase": "阶段", "due_on": "完成时限",
               "evidence_required": "须上传佐证材料", "indicator": "指标代码", "reason": "调整原因",
               "recurrence": "重复"}


class AssignmentError(JunhengError, ValueError):
    """An office task that cannot be created or edited as asked: ``problems`` is a list of
    (field, Chinese message), every one found; ``message`` sums them up."""

    def __init__(self, problems: Sequence[tuple[str, str]]):
        self.problems = list(problems)
        message = "；".join(m for _, m in self.problems)
        super().__init__(message, summary=f"任务未保存：{message}",
                         details=[ErrorDetail(m, location=f"body.{name}") for name, m in self.problems])


@dataclass
class OfficeTaskInput:
    """What the office fills in (the API's JSON, a form, a sheet row, the CLI's options)."""

    title: str
    lead: str
    due_on: dt.date | str | None
    source: str = TaskSource.other.value
    source_ref: str = ""
    measures: str = ""
    cooperating: Sequence[str] = ()
    phase: str | None = None
    evidence_required: bool | None = None  # None: the office's default (no)
    indicator: str | None = None
    origin_key: str | None = None  # None: a new key (one task per call)
    recurrence: str | None = None  # 「每月 25 日」「每周五」(tracker.tasks.recurrence); None: once


@dataclass
class ResolvedTask:
    """An ``OfficeTaskInput`` checked against the campaign."""

    new: NewTask
    problems: list[tuple[str, str]] = field(default_factory=list)


class _Units:
    """The campaign's units, read once for many rows."""

    def __init__(self, session: Session, campaign: Campaign):
        self.session = session
        self.campaign = campaign
        self.schools = {s.name: s for s in session.exec(select(School).where(School.campaign_id == campaign.id))}
        self.phases = list(session.exec(select(Phase).where(Phase.campaign_id == campaign.id)
                                        .order_by(Phase.ordinal, Phase.id)))

    def department(self, name: str) -> Department:
        return find_department(self.session, self.campaign, name)

    def lead(self, name: str) -> Department | School:
        try:
            return self.department(name)
        except UnknownName:
            school = self.schools.get(name.strip())
            if school is not None:
                return school
            raise

    def phase(self, name: str | None, today: dt.date) -> Phase | None:
        if name is None or not str(name).strip():
            return current_phase(self.session, self.campaign, today) or (self.phases[-1] if self.phases else None)
        wanted = str(name).strip()
        for p in self.phases:
            if wanted in (p.name, p.code):
                return p
        raise UnknownName(f"没有阶段「{wanted}」（阶段有：{'、'.join(p.name for p in self.phases)}）")


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _text(problems: list, name: str, value: Any, limit: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        problems.append((name, f"「{FIELD_NAMES[name]}」不能为空"))
    elif len(text) > limit:
        problems.append((name, f"「{FIELD_NAMES[name]}」不能超过 {limit} 个字"))
    elif "\x00" in text:
        problems.append((name, f"「{FIELD_NAMES[name]}」含有无效字符"))
    return text


def resolve(units: _Units, data: OfficeTaskInput, today: dt.date) -> ResolvedTask:
    """Check one office task against the campaign; problems are collected, not raised."""
    problems: list[tuple[str, str]] = []
    title = _text(problems, "title", data.title, MAX_TITLE, required=True)
    measures = _text(problems, "measures", data.measures, MAX_TEXT)
    source_ref = _text(problems, "source_ref", data.source_ref, 500)
    source = str(data.source or TaskSource.other.value).strip()
    if source not in SOURCE_NAMES:
        problems.append(("source", f"事项来源「{source}」无效，可选：{'、'.join(SOURCE_NAMES)}"))
    lead: Department | School | None = None
    if not str(data.lead or "").strip():
        problems.append(("lead", "「牵头单位」不能为空"))
    else:
        try:
            lead = units.lead(str(data.lead))
        except UnknownName as exc:
            problems.append(("lead", f"牵头单位：{exc.message}"))
    helpers: list[Department] = []
    for name in data.cooperating or ():
        if not str(name).strip():
            continue
        try:
            dept = units.department(str(name))
        except UnknownName as exc:
            problems.append(("cooperating", f"配合单位：{exc.message}"))
            continue
        if dept not in helpers and dept is not lead:
            helpers.append(dept)
    phase = None
    try:
        phase = units.phase(data.phase, today)
        if phase is None:
            problems.append(("phase", f"创建工作「{units.campaign.code}」没有阶段，无法交办任务"))
    except UnknownName as exc:
        problems.append(("phase", exc.message))
    due: dt.date | None = None
    if data.due_on in (None, ""):
        problems.append(("due_on", "「完成时限」不能为空，格式为 YYYY-MM-DD"))
    else:
        try:
            due = parse_date(data.due_on)
        except ValueError:
            problems.append(("due_on", f"完成时限「{data.due_on}」不是有效日期，格式为 YYYY-MM-DD，例如 2027-03-31"))
    indicator = (str(data.indicator).strip() or None) if data.indicator is not None else None
    recurrence = None
    try:
        recurrence = parse_recurrence(data.recurrence)
    except ValueError as exc:
        problems.append(("recurrence", str(exc)))
    if indicator is not None and len(indicator) > 32:
        problems.append(("indicator", "「指标代码」不能超过 32 个字符"))
    if problems or lead is None or phase is None or due is None:
        return ResolvedTask(NewTask(phase=phase, title=title, measures=measures, origin=TaskOrigin.office,
                                    origin_key="", due_on=dt.date.min), problems)
    key = data.origin_key or f"office:{uuid.uuid4().hex[:20]}"
    return ResolvedTask(NewTask(
        phase=phase, title=title, measures=measures, origin=TaskOrigin.office, origin_key=key, due_on=due,
        department=lead if isinstance(lead, Department) else None,
        responsible_school=lead if isinstance(lead, School) else None,
        indicator=indicator, cooperating=helpers, source=source, source_ref=source_ref,
        evidence_required=bool(data.evidence_required) if data.evidence_required is not None else False,
        recurrence=recurrence))


def require_office(person: Person, campaign: Campaign, what: str = "交办任务") -> None:
    if person.campaign_id != campaign.id or not person.active or not person.is_office:
        raise NotPermitted(f"只有办公室人员可以{what}，「{person.name}」不是办公室人员")


def create_office_task(session: Session, campaign: Campaign, data: OfficeTaskInput, actor: Person,
                       *, today: dt.date | None = None) -> Task:
    """交办 one task (office only). ``AssignmentError`` lists every bad field; nothing is written."""
    require_office(person=actor, campaign=campaign)
    today = today or local_date(utcnow())
    resolved = resolve(_Units(session, campaign), data, today)
    if resolved.problems:
        raise AssignmentError(resolved.problems)
    if data.origin_key:
        existing = session.exec(select(Task).where(Task.campaign_id == campaign.id,
                                                   Task.origin_key == data.origin_key)).first()
        if existing is not None:
            return existing
    return create_tasks(session, campaign, [resolved.new], actor=actor, today=today)[0]


def sheet_origin_key(title: str, lead: str, due_on: dt.date) -> str:
    """A 任务清单 row's stable key: the same row imported twice is the same task."""
    digest = hashlib.sha256(f"{title.strip()}\x1f{lead.strip()}\x1f{due_on.isoformat()}".encode()).hexdigest()
    return f"office:sheet:{digest[:24]}"


def assign_choices(session: Session, campaign_id: int) -> tuple[list[Department], list[Phase]]:
    """The active units and the phases a 交办 form offers."""
    units = list(session.exec(select(Department).where(Department.campaign_id == campaign_id, Department.active)
                              .order_by(Department.id)))
    phases = list(session.exec(select(Phase).where(Phase.campaign_id == campaign_id)
                               .order_by(Phase.ordinal, Phase.id)))
    return units, phases


def units_for(session: Session, campaign: Campaign) -> _Units:
    return _Units(session, campaign)


def existing_keys(session: Session, campaign: Campaign, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(session.exec(select(Task.origin_key).where(
            Task.campaign_id == campaign.id, Task.origin_key.in_(keys[start:start + 500]))))
    return found


# ---------------------------------------------------------------------------------------------
# editing


@dataclass
class TaskEdit:
    """What the office changes (None: unchanged) and why."""

    reason: str
    title: str | None = None
    measures: str | None = None
    lead: str | None = None
    cooperating: Sequence[str] | None = None
    due_on: dt.date | str | None = None


def edit_office_task(session: Session, task: Task, edit: TaskEdit, actor: Person,
                     *, at: dt.datetime | None = None) -> Event | None:
    """Change an open office task (office only), writing one ``task.edited`` event with every
    change (``changes``: field → [before, after]) and the reason. Nothing changed: no event,
    returns None. Refusals raise before anything is written."""
    campaign = session.get(Campaign, task.campaign_id)
    require_office(actor, campaign, "调整交办任务")
    if TaskOrigin(task.origin) is not TaskOrigin.office:
        raise AssignmentError([("task", f"任务 #{task.id} 不是办公室交办的任务，不能在此调整")])
    if TaskStatus(task.status) not in OPEN:
        raise AssignmentError([("task", f"任务 #{task.id} 当前状态为「{TaskStatus(task.status).value}」，不能再调整")])
    problems: list[tuple[str, str]] = []
    reason = _text(problems, "reason", edit.reason, 2000, required=True)
    units = _Units(session, campaign)
    changes: dict[str, list[Any]] = {}
    values: dict[str, Any] = {}
    if edit.title is not None:
        title = _text(problems, "title", edit.title, MAX_TITLE, required=True)
        if title and title != task.title:
            changes["title"], values["title"] = [task.title, title], title
    if edit.measures is not None:
        measures = _text(problems, "measures", edit.measures, MAX_TEXT)
        if measures != task.measures:
            changes["measures"], values["measures"] = [task.measures, measures], measures
    new_lead: Department | School | None = None
    if edit.lead is not None:
        try:
            new_lead = units.lead(edit.lead)
        except UnknownName as exc:
            problems.append(("lead", f"牵头单位：{exc.message}"))
    old_helpers = cooperators(session, task)
    new_helpers: list[Department] | None = None
    if edit.cooperating is not None:
        new_helpers = []
        for name in edit.cooperating:
            if not str(name).strip():
                continue
            try:
                dept = units.department(str(name))
            except UnknownName as exc:
                problems.append(("cooperating", f"配合单位：{exc.message}"))
                continue
            if dept not in new_helpers:
                new_helpers.append(dept)
    due: dt.date | None = None
    if edit.due_on not in (None, ""):
        try:
            due = parse_date(edit.due_on)
        except ValueError:
            problems.append(("due_on", f"完成时限「{edit.due_on}」不是有效日期，格式为 YYYY-MM-DD"))
    if problems:
        raise AssignmentError(problems)
    old_lead_name = _lead_name(session, task)
    if new_lead is not None:
        dept_id = new_lead.id if isinstance(new_lead, Department) else None
        school_id = new_lead.id if isinstance(new_lead, School) else None
        if (dept_id, school_id) != (task.department_id, task.responsible_school_id):
            if TaskStatus(task.status) is not TaskStatus.assigned:
                # a signed task changes hands by 转办 (its own move, with its history), not by an edit
                raise AssignmentError([("lead", f"任务 #{task.id} 已签收，不能再调整牵头单位")])
            changes["lead"] = [old_lead_name, new_lead.name]
            values.update(department_id=dept_id, responsible_school_id=school_id,
                          school_id=school_id if school_id is not None
                          else (task.school_id if task.responsible_school_id is None else None))
    lead_dept_id = values.get("department_id", task.department_id)
    if new_helpers is not None:
        new_helpers = [d for d in new_helpers if d.id != lead_dept_id]
        if [d.id for d in new_helpers] != [d.id for d in old_helpers]:
            changes["cooperating"] = [[d.name for d in old_helpers], [d.name for d in new_helpers]]
    if due is not None and due != task.due_on:
        changes["due_on"] = [task.due_on.isoformat(), due.isoformat()]
        values.update(due_on=due, planned_due_on=None)
    if not changes:
        return None
    now = at or utcnow()
    for name, value in values.items():
        setattr(task, name, value)
    task.updated_at = now
    task.next_reminder_at = now  # the ladder is worked out again (a new date, a new unit)
    session.add(task)
    if "cooperating" in changes:
        session.exec(delete(TaskCooperator).where(TaskCooperator.task_id == task.id))
        for dept in new_helpers or ():
            session.add(TaskCooperator(task_id=task.id, department_id=dept.id))
    session.flush()
    return record_event(session, type="task.edited", actor=actor.name, actor_id=actor.id,
                        campaign_id=task.campaign_id, task_id=task.id, at=now,
                        payload={"changes": changes, "reason": reason})


def _lead_name(session: Session, task: Task) -> str:
    if task.department_id is not None:
        dept = session.get(Department, task.department_id)
        return dept.name if dept else ""
    school = session.get(School, task.responsible_school_id) if task.responsible_school_id else None
    return school.name if school else ""


CHANGE_LABELS = {"title": "任务名称", "measures": "措施/要求", "lead": "牵头单位", "cooperating": "配合单位",
                 "due_on": "完成时限"}


def describe_changes(changes: dict[str, list[Any]]) -> str:
    """「完成时限：2027-03-01 → 2027-03-15；牵头单位：A → B」"""
    parts = []
    for name, (before, after) in changes.items():
        if isinstance(before, list):
            before, after = "、".join(before) or "无", "、".join(after) or "无"
        if name == "measures":
            parts.append("措施/要求已修改")
            continue
        parts.append(f"{CHANGE_LABELS.get(name, name)}：{before} → {after}")
    return "；".join(parts)
