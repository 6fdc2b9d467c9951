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

Per chunk, a fixed number of statements whatever its size: read the tasks, their 退回 history,
cooperating units (and schools), insert all notices in one statement, move all tasks on in one
(PostgreSQL: each a JSON document unpacked by the server; SQLite: plain driver parameters). The
Python between them does each thing once where it can: one calendar answer per date, one
recipient list per unit and kind of rung, one payload JSON per task (the rung's keys spliced in
front), one 签收 link per person and task.

The sweep commits its session once per chunk (dry run: never; it writes nothing at all).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain

from sqlalchemy import bindparam, select, text, tuple_, update
from sqlmodel import Session

from tracker.calendar import CHINA, WorkingDayCalendar, active_calendar
from tracker.org.models import Campaign, Department, Person, School
from tracker.plans import ReminderLadder
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.notices.models import NoticeItem, Rung
from tracker.reminders.ack import LINK_VALID_DAYS, make_ack_token
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

        self._recipients: dict[tuple, tuple[list[Recipient], list[str]]] = {}
        self._window_openings: dict[dt.datetime, dt.datetime] = {}

    def recipients(self, task, audience: Audience, rung: Rung, cooperating: list[int],
                   school: School | None) -> tuple[list[Recipient], list[str]]:
        """``recipients_for``, worked out once per unit and kind of rung (the answer depends on
        nothing else); the lists returned are shared: read them, do not change them."""
        key = (task.department_id, school.id if school is not None else None, audience,
               rung is Rung.assigned and bool(cooperating), tuple(cooperating) if rung is Rung.assigned else ())
        found = self._recipients.get(key)
        if found is None:
            found = self._recipients[key] = recipients_for(self, task, audience, rung, cooperating, school)
        return found

    def window_opening(self, now: dt.datetime, calendar) -> dt.datetime:
        found = self._window_openings.get(now)
        if found is None:
            found = self._window_openings[now] = window_opening(now, self.settings, calendar)
        return found

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
    return _key_head(task_id, rung, occurrence, due_on) + recipient.key


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
# PostgreSQL: the chunk's rows travel as one JSON document that the server unpacks in one pass
# (json_to_recordset), so neither the driver nor the server handles thousands of parameters; the
# payload is a JSON value inside it, taken over as written
_QUOTED = [f'"{c}"' for c in _ITEM_COLUMNS]
_PG_INSERT = text(
    f"INSERT INTO {NoticeItem.__tablename__} ({', '.join(_QUOTED)}) "
    f"SELECT {', '.join('r.' + q for q in _QUOTED)} "
    f"FROM json_to_recordset(CAST(:rows AS json)) "
    f"AS r({', '.join(f'{q} {t}' for q, t in zip(_QUOTED, _ITEM_COLUMNS.values()))}) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key")
# SQLite: plain multi-row INSERTs through the driver (no per-value type processing), as many rows
# per statement as its limit of 32,766 parameters allows
_SQLITE_ROWS_PER_INSERT = 32766 // len(_ITEM_COLUMNS)
_SQLITE_INSERT = (f"INSERT INTO {NoticeItem.__tablename__} ({', '.join(_QUOTED)}) VALUES {{values}} "
                  "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key")
_SQLITE_ROW = "(" + ", ".join("?" * len(_ITEM_COLUMNS)) + ")"
_SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (UTC, naive)


def _sqlite_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime(_SQLITE_TIMESTAMP)


def _insert_items(session: Session, rows: list, postgres: bool) -> set[str]:
    """Insert notice items, skipping keys already stored; returns the keys inserted now.

    PostgreSQL: each row is the JSON text of an object of ``_ITEM_COLUMNS``; SQLite: a tuple in
    their order, the payload as JSON text and times in the store's text form."""
    if not rows:
        return set()
    if postgres:
        return set(session.execute(_PG_INSERT, {"rows": f"[{', '.join(rows)}]"}).scalars())
    connection = session.connection()
    inserted: set[str] = set()
    for start in range(0, len(rows), _SQLITE_ROWS_PER_INSERT):
        batch = rows[start:start + _SQLITE_ROWS_PER_INSERT]
        sql = _SQLITE_INSERT.format(values=", ".join([_SQLITE_ROW] * len(batch)))
        params = tuple(chain.from_iterable(batch))
        inserted.update(key for (key,) in connection.exec_driver_sql(sql, params))
    return inserted


_MOVE_NEXT = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.status == bindparam("b_status"),
           _T.c.updated_at == bindparam("b_updated_at"))
    .values(next_reminder_at=bindparam("b_next"))
)
# PostgreSQL: the chunk's moves in one statement (a JSON document, as the inserts)
_PG_MOVE_NEXT = text(
    f"UPDATE {_T.name} SET next_reminder_at = m.next_at "
    "FROM json_to_recordset(CAST(:moves AS json)) AS m(id integer, status varchar, updated_at timestamptz, "
    "next_at timestamptz) "
    f"WHERE {_T.name}.id = m.id AND {_T.name}.status = m.status AND {_T.name}.updated_at = m.updated_at")


def _move_next(session: Session, moves: list[tuple], postgres: bool) -> None:
    """Move each task's ``next_reminder_at`` on, if its status and ``updated_at`` are still those read."""
    if not moves:
        return
    if postgres:
        document = json.dumps([{"id": task_id, "status": status, "updated_at": _iso(updated_at),
                                "next_at": _iso(next_at)} for task_id, status, updated_at, next_at in moves])
        session.execute(_PG_MOVE_NEXT, {"moves": document})
        return
    session.connection().execute(_MOVE_NEXT, [
        {"b_id": task_id, "b_status": status, "b_updated_at": updated_at, "b_next": next_at}
        for task_id, status, updated_at, next_at in moves])


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _iso_json(moment: dt.datetime) -> str:
    return f'"{moment.isoformat()}"'


_JSON_NULL = "null"
_JSON_BOOL = {True: "true", False: "false"}


class _MemoCalendar:
    """The sweep's calendar: the same answers as the campaign's, each question asked once per
    sweep (a chunk asks about the same few dates thousands of times). The first asking goes to
    the real calendar, so its notices about unknown years are raised as before."""

    def __init__(self, calendar: WorkingDayCalendar) -> None:
        self._calendar = calendar
        self._working: dict = {}
        self._added: dict = {}
        self._between: dict = {}

    def is_working_day(self, day: dt.date) -> bool:
        try:
            return self._working[day]
        except KeyError:
            answer = self._working[day] = self._calendar.is_working_day(day)
            return answer

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        key = (day, n)
        try:
            return self._added[key]
        except KeyError:
            answer = self._added[key] = self._calendar.add_working_days(day, n)
            return answer

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        key = (start, end)
        try:
            return self._between[key]
        except KeyError:
            answer = self._between[key] = self._calendar.working_days_between(start, end)
            return answer

    def __getattr__(self, name: str):
        return getattr(self._calendar, name)


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
    cal = _MemoCalendar(calendar or active_calendar())
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
        inserted = _sweep_chunk(session, tasks, now, dry_run, cal, contexts, report, postgres)
        if not dry_run:
            session.commit()
        if on_chunk is not None:
            on_chunk(ChunkDone(report.chunks, len(tasks), inserted))
        if len(tasks) < chunk_size:
            break
    return report


def _sweep_chunk(session: Session, tasks, now: dt.datetime, dry_run: bool, cal: WorkingDayCalendar,
                 contexts: dict[int, _CampaignContext], report: SweepReport, postgres: bool) -> int:
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
    # the store's form of the chunk's timestamps, made once (PostgreSQL: ISO text as a JSON string
    # in the document; SQLite: SQLAlchemy's text form, as the rows go through the driver unprocessed)
    stored_time = _iso_json if postgres else _sqlite_timestamp
    created_at = stored_time(utcnow())  # the chunk's notices are created together
    stored_times: dict[dt.datetime, str] = {}
    ack_expiry = now + dt.timedelta(days=LINK_VALID_DAYS)
    ack_prefix = f'{base_url}/ack/'
    # JSON as each store kept it before: SQLAlchemy's json.dumps on SQLite, the document's
    # ensure_ascii=False on PostgreSQL
    encode = _JSON_UTF8 if postgres else _JSON_ASCII

    rows: list = []
    lines: list[tuple[str, tuple]] = []  # (idempotency key, the SweepLine's fields but "new")
    moves: list[tuple] = []
    no_history = _History()
    assigned = TaskStatus.assigned.value
    for task in tasks:
        ctx = contexts.get(task.campaign_id)
        if ctx is None:
            ctx = contexts[task.campaign_id] = _CampaignContext(session, task.campaign_id, report.problems)
        history = histories.get(task.id, no_history)
        clock = TaskClock.of(task, restarted_at=history.restarted_at,
                             last_returned_at=history.last_returned_at, returns=history.returns)
        state = rungs_due(clock, now, ctx.settings, cal)
        report.next_times[task.id] = state.next_at
        moves.append((task.id, task.status, task.updated_at, state.next_at))
        if not state.due:
            continue
        school = schools.get(task.responsible_school_id)
        unit = unit_name(ctx, task, school)
        light = task_light(task, today, yellow_within=ctx.settings.yellow_within_working_days, calendar=cal)
        not_before = ctx.window_opening(now, cal)
        coop_ids = cooperating.get(task.id, [])
        task_part, tail_part = _task_payload(task, ctx, unit, light, today, cal, coop_ids, base_url)
        # the payload's JSON text is made of fragments: the task's keys once per task, the rung's
        # own keys per rung — the same text as json.dumps of the whole dict
        task_json = encode(task_part)[1:-1]
        if tail_part:
            task_json += ", " + encode(tail_part)[1:-1]
        links: dict[int, str] = {}  # person → the 签收 link's JSON text (the same for every rung now)
        unreachable_by_name: dict[str, list[str]] = {}  # person → the rungs that cannot reach them
        undeliverable: list[str] = []  # rungs that reach nobody at all
        with_ack_link = task.status == assigned
        for due in state.due:
            recipients, unreachable = ctx.recipients(task, due.audience, due.rung, coop_ids, school)
            for name in unreachable:
                unreachable_by_name.setdefault(name, []).append(due.label)
            if not recipients:
                undeliverable.append(due.label)
                continue
            # a recipient's 签收 link is spliced onto the end, where ``{**payload, "ack_url": …}`` puts it
            payload_text = _payload_json(due, task_json, history, encode)
            # a rung the plan marks urgent (提醒.紧急发送) goes out at once, outside working hours too
            urgent = due.rung.value in ctx.settings.urgent
            rung_not_before = now if urgent else not_before
            stored_not_before = stored_times.get(rung_not_before)
            if stored_not_before is None:
                stored_not_before = stored_times[rung_not_before] = stored_time(rung_not_before)
            ack_links = with_ack_link and due.audience is not Audience.office_and_supervisor
            key_head = _key_head(task.id, due.rung, due.occurrence, task.due_on)
            rung_json = encode(due.rung.value)
            line_head = (task.campaign_id, task.id, task.title, unit, due.rung, due.occurrence)
            for r in recipients:
                key = key_head + r.key
                item_payload = payload_text
                if ack_links and not r.copy and r.person_id is not None:
                    link = links.get(r.person_id)
                    if link is None:
                        link = links[r.person_id] = encode(ack_prefix + make_ack_token(task.id, r.person_id,
                                                                                       ack_expiry))
                    item_payload = f'{payload_text[:-1]}, "ack_url": {link}}}'
                if postgres:
                    rows.append(f'{{"campaign_id": {task.campaign_id}, "task_id": {task.id}, "rung": {rung_json}, '
                                f'"occurrence": {due.occurrence}, "idempotency_key": {encode(key)}, '
                                f'"recipient_person_id": {_JSON_NULL if r.person_id is None else r.person_id}, '
                                f'"recipient_name": {encode(r.name)}, "recipient_address": {encode(r.address)}, '
                                f'"in_copy": {_JSON_BOOL[r.copy]}, "urgent": {_JSON_BOOL[urgent]}, '
                                f'"payload": {item_payload}, "not_before": {stored_not_before}, '
                                f'"created_at": {created_at}}}')
                else:
                    rows.append((task.campaign_id, task.id, due.rung.value, due.occurrence, key, r.person_id,
                                 r.name, r.address, r.copy, urgent, item_payload, stored_not_before, created_at))
                lines.append((key, (*line_head, r.name, r.address, r.copy, light, rung_not_before)))
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
        new_keys = _insert_items(session, rows, postgres)
        _move_next(session, moves, postgres)
    report.lines.extend(SweepLine(*fields, new=key in new_keys) for key, fields in lines)
    return len(new_keys)


def _key_head(task_id: int, rung: Rung, occurrence: int, due_on: dt.date | None) -> str:
    """``idempotency_key`` up to the recipient's part."""
    if due_on is not None and rung in DEADLINE_RUNGS:
        return f"{task_id}:{rung.value}:{occurrence}@{due_on.isoformat()}:"
    return f"{task_id}:{rung.value}:{occurrence}:"


def _task_payload(task, ctx: _CampaignContext, unit: str, light: Light | None, today: dt.date,
                  cal: WorkingDayCalendar, cooperating: list[int], base_url: str) -> tuple[dict, dict]:
    """The parts of a notice's payload that are the same for every rung of a task: what follows
    the rung's own keys, and the working-day counts after that."""
    status = TaskStatus(task.status)
    overdue = today > task.due_on and status in LADDER_RUNNING
    part = {
        "task_id": task.id,
        "title": task.title,
        "measures": task.measures or "",
        "indicator": task.indicator,
        "unit": unit,
        "cooperating": [ctx.departments[d].name for d in cooperating if d in ctx.departments],
        "due_on": task.due_on.isoformat(),
        "status": status.value,
        "progress": task.progress,
        "light": light.value if light else None,
        "task_url": f"{base_url}/tasks/{task.id}",
    }
    # working days, counted when the rung was owed (notifications/ counts them itself when absent)
    tail = {}
    if today <= task.due_on:
        tail["days_left"] = cal.working_days_between(today, task.due_on)
    if overdue:
        tail["days_overdue"] = cal.working_days_between(task.due_on, today)
    return part, tail


def _payload_json(due: RungDue, task_json: str, history: _History, encode: Callable[[object], str]) -> str:
    """What the message templates need to say about the task (notifications/ renders it), as JSON
    text: the rung's keys, then the task's (``task_json``, made once per task)."""
    rung = encode({
        "rung": due.rung.value,
        "rung_label": due.label,
        "occurrence": due.occurrence,
        "falls_at": due.at.astimezone(CHINA).isoformat(),
    })
    reason = ""
    if due.rung is Rung.returned and history.return_reason:
        reason = ", " + encode({"reason": history.return_reason})[1:-1]
    return f"{rung[:-1]}, {task_json}{reason}}}"


_JSON_ASCII = json.JSONEncoder().encode  # json.dumps with its defaults
_JSON_UTF8 = json.JSONEncoder(ensure_ascii=False).encode


__all__ = [
    "DEADLINE_RUNGS", "ChunkDone", "Recipient", "SweepLine", "SweepReport", "clock_of", "idempotency_key", "recipients_for",
    "reschedule_open_tasks", "schedule_next", "sweep",
]


# ---------------------------------------------------------------------------------------------
# at once, in the caller's transaction (issue 12 §4)


def sweep_tasks(session: Session, task_ids: list[int], now: dt.datetime | None = None,
                calendar: WorkingDayCalendar | None = None) -> SweepReport:
    """Queue what the ladder owes these tasks at ``now``, as the sweep would, in the caller's
    transaction (no commit): the 退回通知 right when the task is returned, so a resubmission a
    minute later cannot take its place. The same idempotency keys as the sweep's: a later sweep
    finds the items there and queues nothing twice."""
    now = now or utcnow()
    report = SweepReport(now=now, dry_run=False)
    if not task_ids:
        return report
    session.flush()
    tasks = session.execute(select(*_TASK_COLUMNS).where(_T.c.id.in_(task_ids)).order_by(_T.c.id)).all()
    postgres = session.get_bind().dialect.name == "postgresql"
    report.tasks = len(tasks)
    _sweep_chunk(session, tasks, now, False, _MemoCalendar(calendar or active_calendar()), {}, report, postgres)
    return report


def queue_change_notice(session: Session, task: Task, event: Event, changes_text: str,
                        now: dt.datetime | None = None) -> int:
    """Queue a 任务变更通知 of ``event`` (the office edited ``task``) to the task's unit and its
    cooperating units (in copy); returns how many items were queued. Keyed by the event, so each
    edit is told once."""
    now = now or utcnow()
    session.flush()
    report = SweepReport(now=now, dry_run=False)
    ctx = _CampaignContext(session, task.campaign_id, report.problems)
    cal = _MemoCalendar(active_calendar())
    coop_ids = list(session.execute(select(TaskCooperator.department_id)
                                    .where(TaskCooperator.task_id == task.id)
                                    .order_by(TaskCooperator.department_id)).scalars())
    school = session.get(School, task.responsible_school_id) if task.responsible_school_id else None
    today = now.astimezone(CHINA).date()
    unit = unit_name(ctx, task, school)
    light = task_light(task, today, yellow_within=ctx.settings.yellow_within_working_days, calendar=cal)
    part, tail = _task_payload(task, ctx, unit, light, today, cal, coop_ids, get_settings().base_url.rstrip("/"))
    payload = {"rung": Rung.changed.value, "rung_label": RUNG_LABELS[Rung.changed], "occurrence": event.id,
               "falls_at": now.astimezone(CHINA).isoformat(), **part, **tail,
               "reason": str((event.payload or {}).get("reason") or ""), "changes": changes_text}
    recipients, _ = ctx.recipients(task, Audience.unit, Rung.assigned, coop_ids, school)  # cooperators in copy
    not_before = ctx.window_opening(now, cal)
    added = 0
    for r in recipients:
        session.add(NoticeItem(campaign_id=task.campaign_id, task_id=task.id, rung=Rung.changed.value,
                               occurrence=event.id, idempotency_key=f"{task.id}:changed:{event.id}:{r.key}",
                               recipient_person_id=r.person_id, recipient_name=r.name,
                               recipient_address=r.address, in_copy=r.copy, payload=payload,
                               not_before=not_before, created_at=now))
        added += 1
    session.flush()
    return added
