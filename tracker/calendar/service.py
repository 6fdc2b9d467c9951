"""Storing a year's notice: ``import_calendar_year`` replaces that year's days in one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, delete, select

from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.calendar.working_days import LIBRARY_COMPLETE_YEARS
from tracker.calendar.year_file import CalendarYearFile
from tracker.db import utcnow
from tracker.events.service import record_event
from tracker.errors import ErrorKind, JunhengError


class CalendarImportError(JunhengError, ValueError, kind=ErrorKind.conflict):
    """The file is valid on its own but clashes with what is stored (Chinese message)."""


@dataclass(frozen=True, slots=True)
class CalendarImport:
    year: int
    source: str
    illustrative: bool
    holiday_days: int
    working_weekend_days: int
    replaced_source: str | None  # the source of the year's previous import, None if it is new
    library_knows_year: bool  # chinese-calendar also has this year; the imported dates win


def import_calendar_year(session: Session, year_file: CalendarYearFile, *, entered_by: str,
                         file_name: str = "") -> CalendarImport:
    """Store the year's notice, replacing any earlier import of the same year.

    Writes nothing when a date is already set by another year's notice (a 元旦 that reaches back
    into December can meet the previous year's file). Does not commit: the caller's
    ``session_scope`` does, so the old days are gone and the new ones in at the same moment.
    """
    year = year_file.year
    days = year_file.override_days()
    clashes = session.exec(select(WorkdayOverride).where(
        WorkdayOverride.date.in_([d for d, _, _ in days]), WorkdayOverride.year != year)).all()
    if clashes:
        listed = "；".join(f"{c.date}（{c.year} 年通知的「{c.name}」）" for c in sorted(clashes, key=lambda c: c.date))
        raise CalendarImportError(f"{year} 年的日历与已导入的其他年份重叠，未导入任何内容：{listed}。")

    now = utcnow()
    row = session.exec(select(CalendarYear).where(CalendarYear.year == year)).first()
    replaced_source = row.source if row is not None else None
    # A Core DELETE runs at once, before the new rows are flushed, so the unique dates never clash.
    session.exec(delete(WorkdayOverride).where(WorkdayOverride.year == year))
    if row is None:
        row = CalendarYear(year=year, source=year_file.source, entered_by=entered_by)
    row.source = year_file.source
    row.illustrative = year_file.illustrative
    row.file_name = file_name
    row.entered_by = entered_by
    row.entered_at = now
    session.add(row)
    session.flush()
    session.add_all(WorkdayOverride(date=day, year=year, is_working_day=working, name=name,
                                    source=year_file.source, entered_by=entered_by, entered_at=now)
                    for day, working, name in days)
    session.flush()

    result = CalendarImport(
        year=year, source=year_file.source, illustrative=year_file.illustrative,
        holiday_days=sum(1 for _, working, _ in days if not working),
        working_weekend_days=sum(1 for _, working, _ in days if working),
        replaced_source=replaced_source, library_knows_year=year in LIBRARY_COMPLETE_YEARS,
    )
    record_event(session, type="calendar.imported", actor=entered_by, campaign_id=None, payload={
        "year": year, "source": year_file.source, "illustrative": year_file.illustrative,
        "file": file_name, "holiday_days": result.holiday_days,
        "working_weekend_days": result.working_weekend_days, "replaced_source": replaced_source,
    })
    return result


def imported_year(session: Session, year: int) -> CalendarYear | None:
    return session.exec(select(CalendarYear).where(CalendarYear.year == year)).first()


def override_days(session: Session, year: int) -> set[tuple[dt.date, bool, str]]:
    """The stored days of a year's notice as (date, is_working_day, name), as
    ``CalendarYearFile.override_days`` gives them (to tell whether a file changes anything)."""
    return {(day, working, name) for day, working, name in session.exec(
        select(WorkdayOverride.date, WorkdayOverride.is_working_day, WorkdayOverride.name)
        .where(WorkdayOverride.year == year))}
