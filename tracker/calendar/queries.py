"""The store's calendar read in one statement (the pages and API read it on every request)."""

from __future__ import annotations

from sqlalchemy import Date, cast, literal, null, union_all
from sqlmodel import Session, select

from tracker.calendar.models import CalendarYear, WorkdayOverride

_CALENDAR_ROWS = union_all(
    select(literal("y").label("kind"), CalendarYear.year.label("year"), CalendarYear.source.label("text"),
           CalendarYear.illustrative.label("flag"), cast(null(), Date).label("day")),
    select(literal("o"), WorkdayOverride.year, WorkdayOverride.name, WorkdayOverride.is_working_day,
           WorkdayOverride.date),
)


def stored_calendar_rows(session: Session) -> tuple[tuple, tuple]:
    """The imported years ``(year, source, illustrative)`` and override days ``(date,
    is_working_day, name, year)``, each sorted: one statement for both tables (a round trip costs
    more than these few rows); the sorted tuples double as a cache key."""
    rows = session.exec(_CALENDAR_ROWS).all()
    years = tuple(sorted((year, text, flag) for kind, year, text, flag, _day in rows if kind == "y"))
    overrides = tuple(sorted((day, flag, text, year) for kind, year, text, flag, day in rows if kind == "o"))
    return years, overrides
