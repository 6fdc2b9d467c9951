"""The 考核 figures' queries: one GROUP BY each over tasks, events and notice items of a period,
whatever the number of units or tasks (never a query per unit or per task)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Date, and_, case, func, or_, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from tracker.events.models import Event
from tracker.notices.models import NoticeItem, OwedNotice, Rung
from tracker.tasks.models import Task, TaskStatus


class beijing_date(FunctionElement):
    """The Asia/Shanghai calendar date of a UTC timestamp column. China keeps UTC+8 all year (no
    daylight saving since 1991), so SQLite's naive UTC text moves by 8 hours; PostgreSQL converts
    its timestamptz with the zone."""

    type = Date()
    inherit_cache = True


@compiles(beijing_date, "sqlite")
def _beijing_date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(beijing_date)
def _beijing_date_default(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Shanghai') AS DATE)"


@dataclass(frozen=True, slots=True)
class TaskCount:
    """Tasks of one unit in one state, alike in what the 考核 counts: ``done`` the unit's work is
    done (submitted, else verified, with its time); ``late_due`` / ``late_done`` the due date and
    the day done (Asia/Shanghai) of work done late, ``late_due`` alone of work overdue on
    ``today``; both None for everything else (on time, not yet due), which thus folds into one
    row per unit and state."""

    department_id: int | None
    school_id: int | None
    status: str
    done: bool
    late_due: dt.date | None
    late_done: dt.date | None
    n: int


@dataclass(frozen=True, slots=True)
class UnitCount:
    department_id: int | None
    school_id: int | None
    what: str  # an event type, or "escalation" for 督办单
    n: int


DONE = (TaskStatus.submitted.value, TaskStatus.verified.value)
CLOCK_RUNNING = (TaskStatus.assigned.value, TaskStatus.accepted.value, TaskStatus.in_progress.value)


def task_counts(session: Session, campaign_id: int, start: dt.date, end: dt.date, today: dt.date) -> list[TaskCount]:
    """Tasks due from ``start`` to ``end`` (not withdrawn), counted per unit and state; the late
    ones also per due date and day done, for their working days late (the calendar is Python's).
    Rows: a few per unit plus one per distinct (due date, day done) of late work."""
    t = Task.__table__.c
    done_at = func.coalesce(t.submitted_at, t.verified_at)
    is_done = and_(t.status.in_(DONE), done_at.is_not(None))
    done_on = beijing_date(done_at)
    late = and_(is_done, done_on > t.due_on)
    overdue = and_(t.status.in_(CLOCK_RUNNING), t.due_on < today)
    done = case((is_done, 1), else_=0)
    late_due = case((or_(late, overdue), t.due_on), else_=None)
    late_done = case((late, done_on), else_=None)
    query = (select(t.department_id, t.responsible_school_id, t.status, done.label("done"), late_due.label("late_due"),
                    late_done.label("late_done"), func.count().label("n"))
             .where(t.campaign_id == campaign_id, t.due_on >= start, t.due_on <= end,
                    t.status != TaskStatus.withdrawn.value)
             .group_by(t.department_id, t.responsible_school_id, t.status, done, late_due, late_done))
    rows = session.execute(query).all()
    return [TaskCount(d, s, status, bool(is_done_), _as_date(due), _as_date(day), n)
            for d, s, status, is_done_, due, day, n in rows]


def event_counts(session: Session, campaign_id: int, types: tuple[str, ...], since: dt.datetime,
                 before: dt.datetime) -> list[UnitCount]:
    """Events of ``types`` on tasks between ``since`` and ``before`` (UTC), per task unit and type."""
    e, t = Event.__table__.c, Task.__table__.c
    query = (select(t.department_id, t.responsible_school_id, e.type, func.count())
             .select_from(Event.__table__.join(Task.__table__, e.task_id == t.id))
             .where(e.campaign_id == campaign_id, e.type.in_(types), e.at >= since, e.at < before)
             .group_by(t.department_id, t.responsible_school_id, e.type))
    return [UnitCount(d, s, kind, n) for d, s, kind, n in session.execute(query).all()]


def escalation_counts(session: Session, campaign_id: int, since: dt.datetime, before: dt.datetime) -> list[UnitCount]:
    """督办单 queued between ``since`` and ``before`` per task unit: one per task and occurrence (the
    ladder sends each to the office and the 分管领导: several notice items, one 督办单)."""
    t = Task.__table__.c
    # owed by the sweep (one row per task and rung) and the recipients' items once composed
    issued = union(*(select(n.task_id, n.occurrence)
                     .where(n.campaign_id == campaign_id, n.rung == Rung.escalation.value, n.task_id.is_not(None),
                            n.created_at >= since, n.created_at < before)
                     for n in (NoticeItem.__table__.c, OwedNotice.__table__.c))).subquery()
    query = (select(t.department_id, t.responsible_school_id, func.count())
             .select_from(issued.join(Task.__table__, and_(issued.c.task_id == t.id)))
             .group_by(t.department_id, t.responsible_school_id))
    return [UnitCount(d, s, "escalation", c) for d, s, c in session.execute(query).all()]


def _as_date(value) -> dt.date | None:
    """SQLite hands ``date()`` back as text."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
