"""The deadline sweep: queue every notice the ladder owes, exactly once, and move each task's
``next_reminder_at`` on to its next rung.

Cost. The sweep reads only tasks whose ``next_reminder_at`` has come (the column is indexed), in
chunks ordered by (next_reminder_at, id), so its work grows with the tasks that are due, not
with all tasks. A task whose ladder has nothing more to say has ``next_reminder_at`` NULL and is
never read again until something happens to it.

Keeping ``next_reminder_at`` right. Rather than every writer computing the ladder, anything that
may move a task's ladder only marks the task "look again now": ``create_task`` and every
lifecycle move set ``next_reminder_at`` to the moment of the change, and the sweep, which has the
campaign's ladder settings, the calendar and the task's history at hand, computes the real next
time (``schedule_next`` does the same for one task). Marking is one column in the same UPDATE as
the move, so no path can forget the calculation or do it with stale settings. After a change
that moves many ladders at once (a new 提醒 section in the plan, an imported holiday notice),
``reschedule_open_tasks`` marks every open task of the campaign.

Never lost, never doubled. Each chunk is one transaction: read the chunk (PostgreSQL: ``FOR
UPDATE SKIP LOCKED``, so two sweeps never hold the same task), insert its ``NoticeItem`` rows with
``ON CONFLICT (idempotency_key) DO NOTHING``, move the chunk's ``next_reminder_at``, commit. A
process killed mid-sweep loses at most the chunk in flight, which rolls back and is still due at
the next sweep; a chunk swept twice inserts nothing new. The move of ``next_reminder_at`` is
conditional on the status and ``updated_at`` the sweep read, so a task changed meanwhile (signed
between our read and our write, on SQLite) keeps the "look again now" its change set.

The sweep commits its session once per chunk (dry run: never; it writes nothing at all).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, text, tuple_, update
from sqlmodel import Session

from tracker.calendar import CHINA, WorkingDayCalendar, active_calendar
from tracker.campaigns.models import Campaign, Department, Person, School
from tracker.campaigns.plan import ReminderLadder
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.notices.models import NoticeItem, Rung
from tracker.reminders.ack import ack_url
from tracker.reminders.ladder import (
    DEFAULT_LADDER,
    LADDER_RUNNING,
    RUNG_LABELS,
    Audience,
    LadderSettingsError,
    RungDue,
    TaskClock,
    ladder_settings,
    rungs_due,
    window_opening,
)
from tracker.reminders.lights import Light, task_light
from tracker.settings import get_settings
from tracker.tasks.models import Task, TaskCooperator, TaskStatus

DEFAULT_CHUNK = 500
RESTARTING_EVENTS = ("task.returned", "task.reopened")
OPEN_STATUSES = [s.value for s in (TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress,
                                   TaskStatus.submitted)]

_T = Task.__table__
# what the sweep reads of a task: plain rows, so a big sweep fills no identity map
_TASK_COLUMNS = [_T.c[name] for name in (
    "id", "campaign_id", "title", "measures", "indicator", "department_id", "responsible_school_id",
    "due_on", "status", "progress", "created_at", "updated_at", "acknowledged_at", "next_reminder_at")]


# ---------------------------------------------------------------------------------------------
# what a sweep reports


@dataclass(frozen=True, slots=True)
class SweepLine:
    """One notice owed: a rung of a task for one recipient."""

    campaign_id: int
    task_id: int
    task_title: str
    unit: str
    rung: Rung
    occurrence: int
    recipient_name: str
    recipient_address: str
    copy: bool
    light: Light | None
    not_before: dt.datetime
    new: bool  # queued by this sweep (dry run: would be); False when an earlier sweep queued it

    @property
    def rung_label(self) -> str:
        return RUNG_LABELS[self.rung]


@dataclass(frozen=True, slots=True)
class ChunkDone:
    index: int  # 1-based
    tasks: int
    inserted: int


@dataclass
class SweepReport:
    now: dt.datetime
    dry_run: bool
    tasks: int = 0  # tasks whose next reminder time had come
    chunks: int = 0
    lines: list[SweepLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # Chinese: what could not be queued, and why
    next_times: dict[int, dt.datetime | None] = field(default_factory=dict)  # task id → new next_reminder_at

    @property
    def new_lines(self) -> list[SweepLine]:
        return [line for line in self.lines if line.new]

    @property
    def queued(self) -> int:
        return sum(1 for line in self.lines if line.new)


# ---------------------------------------------------------------------------------------------
# who receives what


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    address: str
    person_id: int | None
    copy: bool = False

    @property
    def key(self) -> str:
        """The recipient part of the idempotency key: the person, else the address."""
        return f"p{self.person_id}" if self.person_id is not None else self.address.strip().lower()


class _CampaignContext:
    """A campaign's people, units and ladder, read once per sweep."""

    def __init__(self, session: Session, campaign_id: int, problems: list[str]) -> None:
        campaign = session.get(Campaign, campaign_id)
        self.campaign_id = campaign_id
        self.code = campaign.code if campaign else str(campaign_id)
        try:
            self.settings: ReminderLadder = ladder_settings(campaign.plan if campaign else None)
        except LadderSettingsError as exc:
            problems.append(f"创建工作「{self.code}」：{exc}；按默认提醒设置执行。")
            self.settings = DEFAULT_LADDER
        people = list(session.exec(select(Person).where(Person.campaign_id == campaign_id)).scalars())
        self.people_by_id = {p.id: p for p in people}
        self.departments = {d.id: d for d in session.exec(
            select(Department).where(Department.campaign_id == campaign_id)).scalars()}
        active = [p for p in people if p.active]
        self.office = [p for p in active if p.is_office]
        self._contacts: dict[int, list[Person]] = {}
        self._by_email: dict[str, Person] = {}
        self._by_name: dict[str, list[Person]] = {}
        for p in active:
            if p.is_contact and p.department_id is not None:
                self._contacts.setdefault(p.department_id, []).append(p)
            if p.email:
                self._by_email.setdefault(p.email.strip().lower(), p)
            self._by_name.setdefault(p.name, []).append(p)

    def contacts(self, department_id: int) -> list[Person]:
        return self._contacts.get(department_id, [])

    def person_by_email(self, address: str) -> Person | None:
        return self._by_email.get(address.strip().lower())

    def person_by_name(self, name: str, department_id: int | None = None) -> Person | None:
        return next((p for p in self._by_name.get(name, ())
                     if department_id is None or p.department_id == department_id), None)


def _as_recipient(person: Person, copy: bool = False) -> Recipient:
    return Recipient(person.name, (person.email or "").strip(), person.id, copy)


def recipients_for(ctx: _CampaignContext, task, audience: Audience, rung: Rung,
                   cooperating: list[int], school: School | None) -> tuple[list[Recipient], list[str]]:
    """The recipients of a rung of a task, and the people it cannot reach (no address), as names."""
    wanted: list[Recipient] = []
    if audience in (Audience.unit, Audience.unit_and_head):
        if task.department_id is not None:
            wanted += [_as_recipient(p) for p in ctx.contacts(task.department_id)]
            dept = ctx.departments.get(task.department_id)
            if audience is Audience.unit_and_head and dept is not None and (dept.head_name or dept.head_email):
                head = ctx.person_by_name(dept.head_name, dept.id) if dept.head_name else None
                if head is None and dept.head_email:
                    head = ctx.person_by_email(dept.head_email)
                address = (dept.head_email or (head.email if head else "") or "").strip()
                wanted.append(Recipient(dept.head_name or (head.name if head else address), address,
                                        head.id if head else None))
        elif school is not None:
            address = (school.contact_email or "").strip()
            person = ctx.person_by_email(address) if address else None
            wanted.append(Recipient(person.name if person else (school.contact_name or school.name), address,
                                    person.id if person else None))
        if rung is Rung.assigned:
            for dept_id in cooperating:
                wanted += [_as_recipient(p, copy=True) for p in ctx.contacts(dept_id)]
    elif audience is Audience.office_and_supervisor:
        wanted += [_as_recipient(p) for p in ctx.office]
        dept = ctx.departments.get(task.department_id) if task.department_id is not None else None
        supervisor = ctx.people_by_id.get(dept.supervisor_id) if dept and dept.supervisor_id else None
        if supervisor is not None and supervisor.active:
            wanted.append(_as_recipient(supervisor))

    chosen: dict[str, Recipient] = {}
    unreachable: list[str] = []
    for r in wanted:
        if not r.address:
            unreachable.append(r.name)
            continue
        previous = chosen.get(r.key)
        if previous is None or (previous.copy and not r.copy):  # in the To line beats in copy
            chosen[r.key] = r
    return list(chosen.values()), list(dict.fromkeys(unreachable))


def unit_name(ctx: _CampaignContext, task, school: School | None) -> str:
    if task.department_id is not None and task.department_id in ctx.departments:
        return ctx.departments[task.department_id].name
    if school is not None:
        return school.name
    return "未指定单位"


# Rungs counted from the due date: their occurrence ("3 working days before", "the 2nd 催办") is
# relative to that date, so the key names it, and a due date moved by a changed plan owes them anew.
DEADLINE_RUNGS = frozenset({Rung.due_soon, Rung.due_today, Rung.chase, Rung.escalation})


def idempotency_key(task_id: int, rung: Rung, occurrence: int, recipient: Recipient,
                    due_on: dt.date | None = None) -> str:
    if due_on is not None and rung in DEADLINE_RUNGS:
        return f"{task_id}:{rung.value}:{occurrence}@{due_on.isoformat()}:{recipient.key}"
    return f"{task_id}:{rung.value}:{occurrence}:{recipient.key}"


# ---------------------------------------------------------------------------------------------
# the sweep


@dataclass(frozen=True, slots=True)
class _History:
    restarted_at: dt.datetime | None = None
    last_returned_at: dt.datetime | None = None
    returns: int = 0
    return_reason: str = ""


def _histories(session: Session, task_ids: list[int]) -> dict[int, _History]:
    """The 退回 / 重新打开 history the ladder needs, for a chunk of tasks in one query (such events
    are few: most tasks have none)."""
    rows = session.execute(
        select(Event.task_id, Event.type, Event.at, Event.payload)
        .where(Event.task_id.in_(task_ids), Event.type.in_(RESTARTING_EVENTS))
        .order_by(Event.task_id, Event.at, Event.id)).all()
    out: dict[int, _History] = {}
    for task_id, type_, at, payload in rows:
        h = out.get(task_id, _History())
        if type_ == "task.returned":
            h = _History(at, at, h.returns + 1, str((payload or {}).get("reason") or ""))
        else:
            h = _History(at, h.last_returned_at, h.returns, h.return_reason)
        out[task_id] = h
    return out


def clock_of(session: Session, task) -> TaskClock:
    """A task's ladder clock, with its return history read from the event log."""
    history = _histories(session, [task.id]).get(task.id, _History())
    return TaskClock.of(task, restarted_at=history.restarted_at, last_returned_at=history.last_returned_at,
                        returns=history.returns)


def schedule_next(session: Session, task: Task, now: dt.datetime | None = None,
                  calendar: WorkingDayCalendar | None = None) -> dt.datetime | None:
    """Set ``task.next_reminder_at`` to its next rung after ``now`` (None: nothing more owed).

    The sweep does this for every task it reads; use it where one task's exact next time is
    wanted at once. (Task changes only need to mark the task due now: see the module doc.)"""
    now = now or utcnow()
    campaign = session.get(Campaign, task.campaign_id)
    state = rungs_due(clock_of(session, task), now, ladder_settings(campaign.plan if campaign else None),
                      calendar or active_calendar())
    task.next_reminder_at = state.next_at
    session.add(task)
    return state.next_at


def reschedule_open_tasks(session: Session, now: dt.datetime | None = None,
                          campaign: Campaign | int | None = None) -> int:
    """Mark every task with its unit or submitted as due for a look now (after a change of the
    ladder settings or the calendar); returns how many. Does not commit."""
    now = now or utcnow()
    stmt = update(Task).where(Task.status.in_(OPEN_STATUSES)).values(next_reminder_at=now)
    if campaign is not None:
        stmt = stmt.where(Task.campaign_id == (campaign if isinstance(campaign, int) else campaign.id))
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount


_ITEM_COLUMNS = {  # column → its PostgreSQL type
    "campaign_id": "integer", "task_id": "integer", "rung": "varchar", "occurrence": "integer",
    "idempotency_key": "varchar", "recipient_person_id": "integer", "recipient_name": "varchar",
    "recipient_address": "varchar", "in_copy": "boolean", "urgent": "boolean", "payload": "json",
    "not_before": "timestamptz", "created_at": "timestamptz",
}
# PostgreSQL: the chunk's rows travel as one JSON document that the server unpacks
# (json_to_recordset), so neither the driver nor the server handles thousands of parameters
_QUOTED = [f'"{c}"' for c in _ITEM_COLUMNS]
_PG_INSERT = text(
    f"INSERT INTO {NoticeItem.__tablename__} ({', '.join(_QUOTED)}) "
    f"SELECT {', '.join('r.' + q for q in _QUOTED)} "
    f"FROM json_to_recordset(CAST(:rows AS json)) "
    f"AS r({', '.join(f'{q} {t}' for q, t in zip(_QUOTED, _ITEM_COLUMNS.values()))}) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key")


def _json_value(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {value!r} as JSON")


def _insert_items(session: Session, rows: list[dict]) -> set[str]:
    """Insert notice items, skipping keys already stored; returns the keys inserted now."""
    if not rows:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        document = json.dumps(rows, ensure_ascii=False, default=_json_value)
        return set(session.execute(_PG_INSERT, {"rows": document}).scalars())
    from sqlalchemy.dialects.sqlite import insert

    table = NoticeItem.__table__
    stmt = (insert(table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key])
            .returning(table.c.idempotency_key))
    return set(session.execute(stmt, rows).scalars())


_MOVE_NEXT = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.status == bindparam("b_status"),
           _T.c.updated_at == bindparam("b_updated_at"))
    .values(next_reminder_at=bindparam("b_next"))
)


def sweep(
    session: Session,
    now: dt.datetime,
    dry_run: bool = False,
    *,
    campaign: Campaign | int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    calendar: WorkingDayCalendar | None = None,
    on_chunk: Callable[[ChunkDone], None] | None = None,
) -> SweepReport:
    """Queue what the ladder owes at ``now`` for every task whose next reminder time has come.

    ``dry_run`` computes and lists the same notices without writing anything. ``on_chunk`` is
    called after each committed chunk (progress output)."""
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware datetime")
    cal = calendar or active_calendar()
    report = SweepReport(now=now, dry_run=dry_run)
    contexts: dict[int, _CampaignContext] = {}
    campaign_id = campaign if isinstance(campaign, int) or campaign is None else campaign.id
    postgres = session.get_bind().dialect.name == "postgresql"
    after: tuple[dt.datetime, int] | None = None  # keyset cursor: (next_reminder_at, id) of the last row read

    while True:
        stmt = select(*_TASK_COLUMNS).where(_T.c.next_reminder_at <= now)
        if campaign_id is not None:
            stmt = stmt.where(_T.c.campaign_id == campaign_id)
        if after is not None:
            stmt = stmt.where(tuple_(_T.c.next_reminder_at, _T.c.id) > tuple_(
                bindparam("after_at", after[0], type_=_T.c.next_reminder_at.type), bindparam("after_id", after[1])))
        stmt = stmt.order_by(_T.c.next_reminder_at, _T.c.id).limit(chunk_size)
        if postgres and not dry_run:
            stmt = stmt.with_for_update(skip_locked=True)
        tasks = session.execute(stmt).all()
        if not tasks:
            break
        after = (tasks[-1].next_reminder_at, tasks[-1].id)
        report.chunks += 1
        report.tasks += len(tasks)
        inserted = _sweep_chunk(session, tasks, now, dry_run, cal, contexts, report)
        if not dry_run:
            session.commit()
        if on_chunk is not None:
            on_chunk(ChunkDone(report.chunks, len(tasks), inserted))
        if len(tasks) < chunk_size:
            break
    return report


def _sweep_chunk(session: Session, tasks, now: dt.datetime, dry_run: bool, cal: WorkingDayCalendar,
                 contexts: dict[int, _CampaignContext], report: SweepReport) -> int:
    ids = [t.id for t in tasks]
    histories = _histories(session, ids)
    cooperating: dict[int, list[int]] = {}
    for task_id, dept_id in session.execute(
            select(TaskCooperator.task_id, TaskCooperator.department_id)
            .where(TaskCooperator.task_id.in_(ids)).order_by(TaskCooperator.department_id)):
        cooperating.setdefault(task_id, []).append(dept_id)
    school_ids = {t.responsible_school_id for t in tasks if t.responsible_school_id is not None}
    schools = {s.id: s for s in session.execute(select(School).where(School.id.in_(school_ids))).scalars()} \
        if school_ids else {}
    today = now.astimezone(CHINA).date()
    base_url = get_settings().base_url.rstrip("/")

    rows: list[dict] = []
    lines: list[tuple[str, tuple]] = []  # (idempotency key, the SweepLine's fields but "new")
    moves: list[dict] = []
    for task in tasks:
        ctx = contexts.get(task.campaign_id)
        if ctx is None:
            ctx = contexts[task.campaign_id] = _CampaignContext(session, task.campaign_id, report.problems)
        history = histories.get(task.id, _History())
        clock = TaskClock.of(task, restarted_at=history.restarted_at,
                             last_returned_at=history.last_returned_at, returns=history.returns)
        state = rungs_due(clock, now, ctx.settings, cal)
        report.next_times[task.id] = state.next_at
        moves.append({"b_id": task.id, "b_status": task.status, "b_updated_at": task.updated_at,
                      "b_next": state.next_at})
        if not state.due:
            continue
        school = schools.get(task.responsible_school_id)
        unit = unit_name(ctx, task, school)
        light = task_light(task, today, yellow_within=ctx.settings.yellow_within_working_days, calendar=cal)
        not_before = window_opening(now, ctx.settings, cal)
        coop_ids = cooperating.get(task.id, [])
        unreachable_by_name: dict[str, list[str]] = {}  # person → the rungs that cannot reach them
        undeliverable: list[str] = []  # rungs that reach nobody at all
        for due in state.due:
            recipients, unreachable = recipients_for(ctx, task, due.audience, due.rung, coop_ids, school)
            for name in unreachable:
                unreachable_by_name.setdefault(name, []).append(due.label)
            if not recipients:
                undeliverable.append(due.label)
                continue
            payload = _payload(task, due, ctx, unit, light, today, cal, coop_ids, base_url, history)
            # a rung the plan marks urgent (提醒.紧急发送) goes out at once, outside working hours too
            urgent = due.rung.value in ctx.settings.urgent
            rung_not_before = now if urgent else not_before
            for r in recipients:
                key = idempotency_key(task.id, due.rung, due.occurrence, r, task.due_on)
                item_payload = payload
                if (not r.copy and r.person_id is not None and task.status == TaskStatus.assigned.value
                        and due.audience is not Audience.office_and_supervisor):
                    item_payload = {**payload, "ack_url": ack_url(task.id, r.person_id, now, base_url=base_url)}
                rows.append({
                    "campaign_id": task.campaign_id, "task_id": task.id, "rung": due.rung.value,
                    "occurrence": due.occurrence, "idempotency_key": key, "recipient_person_id": r.person_id,
                    "recipient_name": r.name, "recipient_address": r.address, "in_copy": r.copy, "urgent": urgent,
                    "payload": item_payload, "not_before": rung_not_before, "created_at": utcnow(),
                })
                lines.append((key, (task.campaign_id, task.id, task.title, unit, due.rung, due.occurrence,
                                    r.name, r.address, r.copy, light, rung_not_before)))
        if undeliverable:
            report.problems.append(f"任务 #{task.id}「{task.title}」的{'、'.join(undeliverable)}没有可送达的收件人："
                                   f"{unit} 没有填写了邮箱的联系人，请在创建方案中补充。")
        for name, labels in unreachable_by_name.items():
            if undeliverable and labels == undeliverable:
                continue  # said above
            report.problems.append(f"任务 #{task.id}「{task.title}」的{'、'.join(labels)}无法发给「{name}」："
                                   f"没有邮箱地址，请在创建方案中补充。")

    if dry_run:
        keys = [key for key, _ in lines]
        existing: set[str] = set()
        for start in range(0, len(keys), 500):
            existing.update(session.execute(select(NoticeItem.idempotency_key).where(
                NoticeItem.idempotency_key.in_(keys[start:start + 500]))).scalars())
        new_keys = set(keys) - existing
    else:
        new_keys = _insert_items(session, rows)
        session.connection().execute(_MOVE_NEXT, moves)
    report.lines.extend(SweepLine(*fields, new=key in new_keys) for key, fields in lines)
    return len(new_keys)


def _payload(task, due: RungDue, ctx: _CampaignContext, unit: str, light: Light | None, today: dt.date,
             cal: WorkingDayCalendar, cooperating: list[int], base_url: str, history: _History) -> dict:
    """What the message templates need to say about the task (notifications/ renders it)."""
    overdue = today > task.due_on and TaskStatus(task.status) in LADDER_RUNNING
    payload = {
        "rung": due.rung.value,
        "rung_label": due.label,
        "occurrence": due.occurrence,
        "falls_at": due.at.astimezone(CHINA).isoformat(),
        "task_id": task.id,
        "title": task.title,
        "measures": task.measures or "",
        "indicator": task.indicator,
        "unit": unit,
        "cooperating": [ctx.departments[d].name for d in cooperating if d in ctx.departments],
        "due_on": task.due_on.isoformat(),
        "status": TaskStatus(task.status).value,
        "progress": task.progress,
        "light": light.value if light else None,
        "task_url": f"{base_url}/tasks/{task.id}",
    }
    # working days, counted when the rung was owed (notifications/ counts them itself when absent)
    if today <= task.due_on:
        payload["days_left"] = cal.working_days_between(today, task.due_on)
    if overdue:
        payload["days_overdue"] = cal.working_days_between(task.due_on, today)
    if due.rung is Rung.returned and history.return_reason:
        payload["reason"] = history.return_reason
    return payload


__all__ = [
    "DEADLINE_RUNGS", "ChunkDone", "Recipient", "SweepLine", "SweepReport", "clock_of", "idempotency_key", "recipients_for",
    "reschedule_open_tasks", "schedule_next", "sweep",
]
