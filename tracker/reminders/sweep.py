"""The deadline sweep: queue every notice the ladder owes, exactly once, and move each task's
``next_reminder_at`` on to its next rung.

The rooms: ``ladder`` (which rungs a task is owed), ``recipients`` (who receives each rung),
``notices`` (the notice rows, their keys and payloads, the moves), ``report`` (what a sweep says);
this module reads the due tasks a chunk at a time and puts the pieces together.

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
UPDATE SKIP LOCKED``, so two sweeps never hold the same task), insert its ``OwedNotice`` rows (one
per task and rung; the recipients' items are written when they are composed, see expand.py) with
``ON CONFLICT (idempotency_key) DO NOTHING``, move the chunk's ``next_reminder_at``, commit. A
process killed mid-sweep loses at most the chunk in flight, which rolls back and is still due at
the next sweep; a chunk swept twice inserts nothing new. The move of ``next_reminder_at`` is
conditional on the status and ``updated_at`` the sweep read, so a task changed meanwhile (signed
between our read and our write, on SQLite) keeps the "look again now" its change set.

Per chunk, a fixed number of statements whatever its size: read the tasks, their 退回 history,
cooperating units (and schools), insert all notices in one statement, move all tasks on in one.
The chunk's ids travel as one parameter (``notices.among``: a PostgreSQL array, a JSON array on
SQLite), and the tasks' times are read in the store's own form, unprocessed (they only tell tasks
apart; the SQLite move compares ``updated_at`` with the very text it read). The Python between the
statements does each thing once per kind, not per task: tasks of one *shape* (the same status, due
date, assignment and 签收 times, progress and 退回 history, in one campaign) owe the same rungs at
the same times with the same light and payload, so the ladder (once per shape less its progress,
which only colours the light), the light, the working-day counts, the payload texts, the rows'
common part and their key tails are worked out once per shape or sweep; recipients once per unit
and kind of rung, looked up by plain values. Per task there remains its key head, its row, its
move and its report line. No 签收 link is signed here: the payload says one is owed
(``ack_until``) and the composer makes it.

The sweep commits its session once per chunk (dry run: never; it writes nothing at all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import DateTime, String, bindparam, select, tuple_, type_coerce, update
from sqlmodel import Session

from tracker.clock import zone
from tracker.calendar import WorkingDayCalendar, active_calendar
from tracker.org.models import Campaign, School
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.notices.models import NoticeItem, OwedNotice, Rung
from tracker.reminders.ack import LINK_VALID_DAYS
from tracker.reminders.expand import expand_owed
from tracker.reminders.ladder import LADDER_RUNNING, Audience, TaskClock, ladder_settings, rungs_due
from tracker.reminders.lights import Light, task_light
from tracker.reminders.notices import (
    among,
    DEADLINE_RUNGS,
    JSON_ASCII,
    JSON_UTF8,
    idempotency_key,
    insert_notices,
    json_timestamp,
    key_tail,
    move_next,
    payload_json,
    sqlite_timestamp,
)
from tracker.reminders.recipients import CampaignContext, Recipient, recipients_for, unit_name
from tracker.reminders.report import ChunkDone, OwedRung, SweepLine, SweepReport
from tracker.tasks.models import Task, TaskCooperator, TaskStatus

DEFAULT_CHUNK = 2000  # tasks per transaction: a commit per 500 was a sixth of a big sweep on SQLite
RESTARTING_EVENTS = ("task.returned", "task.reopened", "task.transferred")
OPEN_STATUSES = [s.value for s in (TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress,
                                   TaskStatus.submitted)]

_T = Task.__table__
_TIMES = ("created_at", "updated_at", "acknowledged_at", "next_reminder_at")
# The store's own form of a timestamp, read as is: PostgreSQL's aware datetime, SQLite's text. Tasks
# are told apart by these values, and only a shape (a few per hundred tasks) needs them as aware
# datetimes, so ``UTCDateTime``'s processing per value (four per task) is left out, and the SQLite
# move compares ``updated_at`` with the very text it read.
_STORED_TIME = {"postgresql": DateTime(timezone=True), "sqlite": String()}


def _task_columns(session: Session) -> list:
    """What the sweep reads of a task: plain rows, so a big sweep fills no identity map."""
    stored = _STORED_TIME.get(session.get_bind().dialect.name)
    return [type_coerce(_T.c[name], stored).label(name) if stored is not None and name in _TIMES else _T.c[name]
            for name in ("id", "campaign_id", "title", "department_id", "responsible_school_id", "due_on", "status",
                         "progress", *_TIMES)]


def _aware(stored) -> dt.datetime | None:
    """A timestamp read in the store's form (see ``_STORED_TIME``) as an aware UTC datetime."""
    if stored is None or isinstance(stored, dt.datetime) and stored.tzinfo is not None:
        return stored
    moment = stored if isinstance(stored, dt.datetime) else dt.datetime.fromisoformat(stored)
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


@dataclass(frozen=True, slots=True)
class _ShapeTask:
    """What the ladder and the light read of a task, its times aware (one per shape)."""

    status: str
    due_on: dt.date
    progress: int
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None

    @classmethod
    def of(cls, row) -> _ShapeTask:
        return cls(row.status, row.due_on, row.progress, _aware(row.created_at), _aware(row.acknowledged_at))


# ---------------------------------------------------------------------------------------------
# a task's history and its clock


@dataclass(frozen=True, slots=True)
class _History:
    restarted_at: dt.datetime | None = None
    last_returned_at: dt.datetime | None = None
    returns: int = 0
    return_reason: str = ""
    transferred_at: dt.datetime | None = None  # the last 转办: the new lead unit's clock starts there
    transfers: int = 0


_NO_HISTORY = _History()


def _histories(session: Session, task_ids: list[int]) -> dict[int, _History]:
    """The 退回 / 重新打开 history the ladder needs, for a chunk of tasks in one query (such events
    are few: most tasks have none)."""
    rows = session.execute(
        select(Event.task_id, Event.type, Event.at, Event.payload)
        .where(among(Event.task_id, task_ids, session), Event.type.in_(RESTARTING_EVENTS))
        .order_by(Event.task_id, Event.at, Event.id)).all()
    out: dict[int, _History] = {}
    for task_id, type_, at, payload in rows:
        h = out.get(task_id, _History())
        if type_ == "task.returned":
            h = _History(at, at, h.returns + 1, str((payload or {}).get("reason") or ""), h.transferred_at,
                         h.transfers)
        elif type_ == "task.transferred":
            # not a restart of the overdue clock: a 督办单 already sent is not owed again
            h = _History(h.restarted_at, h.last_returned_at, h.returns, h.return_reason, at, h.transfers + 1)
        else:
            h = _History(at, h.last_returned_at, h.returns, h.return_reason, h.transferred_at, h.transfers)
        out[task_id] = h
    return out


def clock_of(session: Session, task) -> TaskClock:
    """A task's ladder clock, with its return history read from the event log."""
    history = _histories(session, [task.id]).get(task.id, _History())
    return TaskClock.of(task, restarted_at=history.restarted_at, last_returned_at=history.last_returned_at,
                        returns=history.returns, transferred_at=history.transferred_at,
                        transfers=history.transfers)


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


# ---------------------------------------------------------------------------------------------
# the sweep


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
    contexts: dict[int, CampaignContext] = {}
    campaign_id = campaign if isinstance(campaign, int) or campaign is None else campaign.id
    postgres = session.get_bind().dialect.name == "postgresql"
    chunking = _Chunking(now, cal, postgres)
    after: tuple[object, int] | None = None  # keyset cursor: (next_reminder_at, id) of the last row read
    columns = _task_columns(session)
    stored_time = _STORED_TIME.get(session.get_bind().dialect.name, _T.c.next_reminder_at.type)

    while True:
        stmt = select(*columns).where(_T.c.next_reminder_at <= now)
        if campaign_id is not None:
            stmt = stmt.where(_T.c.campaign_id == campaign_id)
        if after is not None:
            # the last time read, bound in the form it was read in
            stmt = stmt.where(tuple_(_T.c.next_reminder_at, _T.c.id) > tuple_(
                bindparam("after_at", after[0], type_=stored_time), bindparam("after_id", after[1])))
        stmt = stmt.order_by(_T.c.next_reminder_at, _T.c.id).limit(chunk_size)
        if postgres and not dry_run:
            stmt = stmt.with_for_update(skip_locked=True)
        tasks = session.execute(stmt).all()
        if not tasks:
            break
        after = (tasks[-1].next_reminder_at, tasks[-1].id)
        report.chunks += 1
        report.tasks += len(tasks)
        inserted = _sweep_chunk(session, tasks, dry_run, chunking, contexts, report)
        if not dry_run:
            session.commit()
        if on_chunk is not None:
            on_chunk(ChunkDone(report.chunks, len(tasks), inserted))
        if len(tasks) < chunk_size:
            break
    return report


# ---------------------------------------------------------------------------------------------
# one chunk


@dataclass(frozen=True, slots=True)
class _RungOut:
    """A rung owed by every task of a shape, with what its rows say beyond the task and recipient."""

    due: object  # RungDue
    urgent: bool
    not_before: dt.datetime
    row_part: object  # PostgreSQL: the row's JSON members from "rung" to "created_at"; SQLite: a tuple
    key_tail: str  # the idempotency key after the task id, up to the recipient's part
    audience: str  # the rung's audience's value (a plain key for the recipients' lookup)
    assigned: bool  # a 交办单: its recipients include the cooperating units


@dataclass(frozen=True, slots=True)
class _Shape:
    next_at: dt.datetime | None
    light: Light | None
    rungs: tuple[_RungOut, ...]
    next_stored: str | None  # next_at as the move writes it (notices.move_next)


class _Chunking:
    """What stays the same over a sweep: its moment, calendar, store and timestamps' stored forms."""

    def __init__(self, now: dt.datetime, cal, postgres: bool) -> None:
        self.now = now
        self.today = now.astimezone(zone()).date()
        self.cal = cal
        self.postgres = postgres
        # the store's form of the timestamps (PostgreSQL: ISO text as a JSON string in the document;
        # SQLite: SQLAlchemy's text form, as the rows go through the driver unprocessed)
        self.stored_time = json_timestamp if postgres else sqlite_timestamp
        # JSON as each store kept it before: SQLAlchemy's json.dumps on SQLite, the document's
        # ensure_ascii=False on PostgreSQL
        self.encode = JSON_UTF8 if postgres else JSON_ASCII
        # a 签收 link owed now is valid LINK_VALID_DAYS from the sweep (made when composed)
        self.ack_until = (now + dt.timedelta(days=LINK_VALID_DAYS)).astimezone(dt.timezone.utc).isoformat()
        self.created_at = self.stored_time(utcnow())  # the sweep's notices are created together
        self.recipient_sets: dict[tuple, object] = {}  # see _sweep_chunk
        self._parts: dict[tuple, object] = {}
        self._payloads: dict[tuple, str] = {}

    def payload(self, *values) -> str:
        """``payload_json`` of these values, made once per sweep."""
        text = self._payloads.get(values)
        if text is None:
            text = self._payloads[values] = payload_json(*values, self.encode)
        return text

    def move_time(self, moment: dt.datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.isoformat() if self.postgres else sqlite_timestamp(moment)

    def row_part(self, due, urgent: bool, payload: str, not_before: dt.datetime) -> object:
        """What a notice row says beyond its task and recipient (see ``_RungOut.row_part``); the
        same few for all shapes, so each made once."""
        key = (due.rung.value, due.occurrence, urgent, payload, not_before)
        part = self._parts.get(key)
        if part is None:
            part = self._parts[key] = self._row_part(due, urgent, payload, not_before)
        return part

    def _row_part(self, due, urgent: bool, payload: str, not_before: dt.datetime) -> object:
        if self.postgres:
            return (f'"rung": "{due.rung.value}", "occurrence": {due.occurrence}, '
                    f'"urgent": {"true" if urgent else "false"}, "payload": {payload}, '
                    f'"not_before": {self.stored_time(not_before)}, "created_at": {self.created_at}, ')
        return (due.rung.value, due.occurrence, urgent, payload, self.stored_time(not_before), self.created_at)

    def shape(self, ctx: CampaignContext, row, history: _History | None) -> _Shape:
        # the ladder does not read the progress (only the light does): worked out once for all
        # tasks that differ in nothing else
        ladder_key = (row.status, row.due_on, row.created_at, row.acknowledged_at, history)
        found = ctx.ladders.get(ladder_key)
        if found is None:
            history = history or _NO_HISTORY
            task = _ShapeTask.of(row)
            clock = TaskClock.of(task, restarted_at=history.restarted_at, last_returned_at=history.last_returned_at,
                                 returns=history.returns, transferred_at=history.transferred_at,
                                 transfers=history.transfers)
            state = rungs_due(clock, self.now, ctx.settings, self.cal)
            found = ctx.ladders[ladder_key] = (task, clock, state, self.move_time(state.next_at))
        task, clock, state, next_stored = found
        if not state.due:
            return _Shape(state.next_at, None, (), next_stored)
        history = history or _NO_HISTORY
        task = _ShapeTask(task.status, task.due_on, row.progress, task.created_at, task.acknowledged_at)
        today, cal = self.today, self.cal
        light = task_light(task, today, yellow_within=ctx.settings.yellow_within_working_days, calendar=cal)
        # working days, counted when the rung was owed (notifications/ counts them itself when absent)
        days_left = cal.working_days_between(today, task.due_on) if today <= task.due_on else None
        overdue = today > task.due_on and clock.status in LADDER_RUNNING
        days_overdue = cal.working_days_between(task.due_on, today) if overdue else None
        window = ctx.window_opening(self.now, cal)
        rungs = []
        for due in state.due:
            # a rung the plan marks urgent (提醒.紧急发送) goes out at once, outside working hours too
            urgent = due.rung.value in ctx.settings.urgent
            not_before = self.now if urgent else window
            ack = self.ack_until if (clock.status is TaskStatus.assigned
                                     and due.audience is not Audience.office_and_supervisor) else None
            reason = history.return_reason if due.rung is Rung.returned else ""
            payload = self.payload(light.value if light else None, days_left, days_overdue, reason, ack)
            part = self.row_part(due, urgent, payload, not_before)
            rungs.append(_RungOut(due, urgent, not_before, part, key_tail(due.rung, due.occurrence, task.due_on),
                                  due.audience.value, due.rung is Rung.assigned))
        return _Shape(state.next_at, light, tuple(rungs), next_stored)


def _sweep_chunk(session: Session, tasks, dry_run: bool, chunking: _Chunking,
                 contexts: dict[int, CampaignContext], report: SweepReport) -> int:
    ids = [t.id for t in tasks]
    histories = _histories(session, ids)
    cooperating: dict[int, list[int]] = {}
    for task_id, dept_id in session.execute(
            select(TaskCooperator.task_id, TaskCooperator.department_id)
            .where(among(TaskCooperator.task_id, ids, session)).order_by(TaskCooperator.department_id)):
        cooperating.setdefault(task_id, []).append(dept_id)
    school_ids = {t.responsible_school_id for t in tasks if t.responsible_school_id is not None}
    schools = {s.id: s for s in session.execute(select(School).where(School.id.in_(school_ids))).scalars()} \
        if school_ids else {}
    postgres = chunking.postgres

    rows: list = []
    owed: list[OwedRung] = []
    moves: list[tuple] = []
    next_times = report.next_times
    recipient_sets = chunking.recipient_sets
    for task in tasks:
        (task_id, campaign_id, title, department_id, school_id, due_on, status, progress, created_at, updated_at,
         acknowledged_at, _next) = task
        ctx = contexts.get(campaign_id)
        if ctx is None:
            ctx = contexts[campaign_id] = CampaignContext(session, campaign_id, report.problems)
        history = histories.get(task_id)  # most tasks have none: None hashes at no cost
        shape_key = (status, due_on, created_at, acknowledged_at, progress, history)
        shape = ctx.shapes.get(shape_key)
        if shape is None:
            shape = ctx.shapes[shape_key] = chunking.shape(ctx, task, history)
        next_times[task_id] = shape.next_at
        moves.append((task_id, status, updated_at, shape.next_stored))
        if not shape.rungs:
            continue
        school = schools.get(school_id) if school_id is not None else None
        unit = unit_name(ctx, task, school)
        coop_ids = cooperating.get(task_id, ())
        unreachable_by_name: dict[str, list[str]] = {}  # person → the rungs that cannot reach them
        undeliverable: list[str] = []  # rungs that reach nobody at all
        for out in shape.rungs:
            due = out.due
            # the recipients of a unit's kind of rung (CampaignContext.recipients), looked up by
            # plain values here: the same few sets for thousands of tasks
            who = (campaign_id, department_id, school_id, out.audience, tuple(coop_ids) if out.assigned else ())
            found = recipient_sets.get(who)
            if found is None:
                found = recipient_sets[who] = ctx.recipients(task, due.audience, due.rung, list(coop_ids), school)
            if found.unreachable:
                for name in found.unreachable:
                    unreachable_by_name.setdefault(name, []).append(due.label)
            if not found.people:
                undeliverable.append(due.label)
                continue
            head = f"{task_id}{out.key_tail}"
            # one owed notice per task and rung: its recipients' items are written when it is
            # composed (expand.py); the recipients worked out here are for the report
            if postgres:
                rows.append(f'{{"campaign_id": {campaign_id}, "task_id": {task_id}, '
                            f'{out.row_part}"idempotency_key": "{head}"}}')
            else:
                rows.append((campaign_id, task_id, *out.row_part, head))
            owed.append(OwedRung(campaign_id, task_id, title, unit, due.rung, due.occurrence, shape.light,
                                 out.not_before, head, found.people))
        if undeliverable:
            report.problems.append(f"任务 #{task_id}「{title}」的{'、'.join(undeliverable)}没有可送达的收件人："
                                   f"{unit} 没有填写了邮箱的联系人，也没有群机器人，请在创建方案中补充。")
        for name, labels in unreachable_by_name.items():
            if undeliverable and labels == undeliverable:
                continue  # said above
            report.problems.append(f"任务 #{task_id}「{title}」的{'、'.join(labels)}无法发给「{name}」："
                                   f"没有邮箱地址，其单位也没有群机器人，请在创建方案中补充。")

    if dry_run:
        keys = [o.key_head for o in owed]
        existing: set[str] = set()
        for start in range(0, len(keys), 500):
            existing.update(session.execute(select(OwedNotice.idempotency_key).where(
                OwedNotice.idempotency_key.in_(keys[start:start + 500]))).scalars())
        new_keys = set(keys) - existing
    else:
        new_keys = insert_notices(session, rows, postgres)
        move_next(session, moves, postgres)
    report.owed.append((owed, new_keys))
    queued = sum(len(o.recipients) for o in owed if o.key_head in new_keys)  # as notices per recipient
    report.queued += queued
    return queued


__all__ = [
    "DEADLINE_RUNGS", "ChunkDone", "Recipient", "SweepLine", "SweepReport", "clock_of", "idempotency_key",
    "recipients_for", "reschedule_open_tasks", "schedule_next", "sweep",
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
    postgres = session.get_bind().dialect.name == "postgresql"
    chunking = _Chunking(now, _MemoCalendar(calendar or active_calendar()), postgres)
    tasks = session.execute(select(*_task_columns(session)).where(_T.c.id.in_(task_ids)).order_by(_T.c.id)).all()
    report.tasks = len(tasks)
    _sweep_chunk(session, tasks, False, chunking, {}, report)
    # the recipients' items at once, as before (they still wait for their window to be sent)
    expand_owed(session, now, task_ids=[t.id for t in tasks])
    return report


def queue_change_notice(session: Session, task: Task, event: Event, changes_text: str,
                        now: dt.datetime | None = None) -> int:
    """Queue a 任务变更通知 of ``event`` (the office edited ``task``) to the task's unit and its
    cooperating units (in copy); returns how many items were queued. Keyed by the event, so each
    edit is told once. The payload holds what only this notice knows (the reason and the changes);
    the composer reads the task for the rest, as for every notice."""
    now = now or utcnow()
    session.flush()
    ctx = CampaignContext(session, task.campaign_id, [])
    cal = _MemoCalendar(active_calendar())
    coop_ids = list(session.execute(select(TaskCooperator.department_id)
                                    .where(TaskCooperator.task_id == task.id)
                                    .order_by(TaskCooperator.department_id)).scalars())
    school = session.get(School, task.responsible_school_id) if task.responsible_school_id else None
    light = task_light(task, now.astimezone(zone()).date(), yellow_within=ctx.settings.yellow_within_working_days,
                       calendar=cal)
    payload = {"light": light.value if light else None,
               "reason": str((event.payload or {}).get("reason") or ""), "changes": changes_text}
    found = ctx.recipients(task, Audience.unit, Rung.assigned, coop_ids, school)  # cooperators in copy
    not_before = ctx.window_opening(now, cal)
    for r in found.people:
        session.add(NoticeItem(campaign_id=task.campaign_id, task_id=task.id, rung=Rung.changed.value,
                               occurrence=event.id, idempotency_key=f"{task.id}:changed:{event.id}:{r.key}",
                               recipient_person_id=r.person_id, recipient_name=r.name,
                               recipient_address=r.address, in_copy=r.copy,
                               payload={**payload, "mention": list(r.mentions)} if r.mentions else payload,
                               not_before=not_before, created_at=now))
    session.flush()
    return len(found.people)
