"""China's working days (Asia/Shanghai), and what the system does where it does not know them.

Which calendar decides a date, in this order:

1. a ``WorkdayOverride`` row (a notice the office imported: ``junheng calendar import``);
2. chinese-calendar's own tables (the State Council notices up to the year it was released);
3. Monday to Friday. For a year that neither 1 nor 2 covers this is a fallback, never a silent
   guess: the first use of such a year logs a warning (once per year per process) and adds a
   ``CalendarYearUnknown`` notice that the CLI prints in yellow. A year imported from an example
   file (``illustrative: true``) gets a ``CalendarYearIllustrative`` notice the same way.

A notice for year Y can also move the last days of December Y-1 (the 2019 notice made Saturday
2018-12-29 a working day for 元旦), so December 25–31 is only settled once Y+1's notice is known:
using those days while Y+1 is unknown is reported too. This matters most for chinese-calendar's
last year, which its own range check treats as fully known.

``WorkingDayCalendar`` answers from per-year tables (a flag per day plus running counts), built on
first use, so counting across a year costs a few lookups rather than a walk over every day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import logging
import threading
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import Holiday
from sqlmodel import Session, select

from tracker import clock
from tracker.calendar.models import CalendarYear, WorkdayOverride

log = logging.getLogger(__name__)

# Beijing time, for tests that write their fixed moments in it. The code asks tracker.clock (the
# JUNHENG_TIMEZONE setting): the working-day tables are dates, so the calendar needs no zone itself.
CHINA = ZoneInfo("Asia/Shanghai")
LIBRARY = f"chinese-calendar {version('chinese-calendar')}"

# From this day of December on, the next year's notice may still change a date (see module doc).
NEXT_NOTICE_REACHES_BACK_TO = (12, 25)

_LIBRARY_WORKDAYS: dict[dt.date, str] = chinese_calendar.workdays
_LIBRARY_HOLIDAYS: dict[dt.date, str] = chinese_calendar.holidays
_CHINESE_NAMES = {h.value: h.chinese for h in Holiday}


def _library_years() -> tuple[int, int, frozenset[int]]:
    """chinese-calendar's range as it checks it (min..max year of its holiday table), and the
    years in it whose notice is really there. A year counts as complete when both Spring Festival
    and National Day are in, the first and the last holiday of every notice since 2004; the range
    check alone would call a year complete from a single entry."""
    names: dict[int, set[str]] = {}
    for day, name in _LIBRARY_HOLIDAYS.items():
        names.setdefault(day.year, set()).add(name)
    first, last = min(names), max(names)
    needed = {Holiday.spring_festival.value, Holiday.national_day.value}
    complete = frozenset(y for y in range(first, last + 1) if needed <= names.get(y, set()))
    return first, last, complete


LIBRARY_FIRST_YEAR, LIBRARY_LAST_YEAR, LIBRARY_COMPLETE_YEARS = _library_years()


# ---------------------------------------------------------------------------------------
# what the calendar reports


@dataclass(frozen=True, slots=True)
class CalendarYearUnknown:
    """A year whose holiday notice nobody knows was used: its dates were counted Monday–Friday."""

    year: int
    message: str  # Chinese, shown as it is


@dataclass(frozen=True, slots=True)
class CalendarYearIllustrative:
    """A year known only from an example file (not the State Council's notice) was used."""

    year: int
    source: str
    message: str


CalendarNotice = CalendarYearUnknown | CalendarYearIllustrative


@dataclass(frozen=True, slots=True)
class YearCoverage:
    """Who knows a year's holidays: an imported notice, chinese-calendar, or nobody."""

    year: int
    by: Literal["override", "chinese-calendar", "unknown"]
    source: str  # the notice (e.g. 国办发明电〔2026〕X号), the library and version, or ""
    illustrative: bool = False

    @property
    def known(self) -> bool:
        return self.by != "unknown"


@dataclass(frozen=True, slots=True)
class DayStatus:
    date: dt.date
    working: bool
    name: str | None  # the holiday the date belongs to (元旦, 春节 …), also for a 调休 working day
    by: Literal["override", "chinese-calendar", "weekday"]

    @property
    def is_adjusted_working_day(self) -> bool:
        """调休上班: a Saturday or Sunday that is a working day."""
        return self.working and self.date.weekday() >= 5


@dataclass(frozen=True, slots=True)
class ImportedYear:
    year: int
    source: str
    illustrative: bool


@dataclass(frozen=True, slots=True)
class OverrideDay:
    date: dt.date
    is_working_day: bool
    name: str
    year: int  # the notice's year


# Logged once per (kind, year) per process, whichever calendar instance hits it first.
_LOGGED: set[tuple[str, int]] = set()
_LOGGED_LOCK = threading.Lock()


def _log_once(kind: str, year: int, message: str) -> None:
    with _LOGGED_LOCK:
        if (kind, year) in _LOGGED:
            return
        _LOGGED.add((kind, year))
    log.warning(message)


def forget_logged_warnings() -> None:
    """Let every warning be logged once more (tests check the log line itself)."""
    with _LOGGED_LOCK:
        _LOGGED.clear()


def local_date(moment: dt.datetime) -> dt.date:
    """The local date (tracker.clock, ``JUNHENG_TIMEZONE``) of an aware moment (a naive one is a
    bug: refused)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    return clock.local_date(moment)


def _as_date(day: dt.date) -> dt.date:
    # datetime is a subclass of date: read it as a moment, in China's time zone
    return local_date(day) if isinstance(day, dt.datetime) else day


class _YearTable:
    __slots__ = ("counts", "first_ordinal", "flags", "total")

    def __init__(self, year: int, status: Callable[[dt.date], DayStatus]) -> None:
        first = dt.date(year, 1, 1)
        days = dt.date(year + 1, 1, 1).toordinal() - first.toordinal() if year < dt.MAXYEAR else 365
        self.first_ordinal = first.toordinal()
        self.flags = bytes(status(dt.date.fromordinal(self.first_ordinal + i)).working for i in range(days))
        # counts[i] = working days among the year's first i days
        self.counts = array("l", itertools.accumulate(self.flags, initial=0))
        self.total = self.counts[-1]


# ---------------------------------------------------------------------------------------
# the calendar


class WorkingDayCalendar:
    """Working days in China. Built empty it knows what chinese-calendar knows; ``from_session``
    adds the years the office imported. Immutable once built; safe to share between threads."""

    def __init__(self, years: Iterable[ImportedYear] = (), overrides: Iterable[OverrideDay] = ()) -> None:
        self._years = {y.year: y for y in years}
        self._overrides = {o.date: o for o in overrides}
        self._tables: dict[int, _YearTable] = {}
        self._note_plans: dict[int, tuple[tuple | None, tuple | None]] = {}  # see _note_plan
        self._noted: set[tuple[str, int]] = set()
        self._notices: list[CalendarNotice] = []
        self._lock = threading.Lock()

    @classmethod
    def from_session(cls, session: Session) -> WorkingDayCalendar:
        """Everything the office imported (a few dozen rows per year), held in memory."""
        years = [ImportedYear(r.year, r.source, r.illustrative) for r in session.exec(select(CalendarYear))]
        overrides = [OverrideDay(r.date, r.is_working_day, r.name, r.year)
                     for r in session.exec(select(WorkdayOverride))]
        return cls(years, overrides)

    # -- what is known ------------------------------------------------------------------

    def coverage(self, year: int) -> YearCoverage:
        imported = self._years.get(year)
        if imported is not None:
            return YearCoverage(year, "override", imported.source, imported.illustrative)
        if year in LIBRARY_COMPLETE_YEARS:
            return YearCoverage(year, "chinese-calendar", LIBRARY)
        return YearCoverage(year, "unknown", "")

    def known(self, year: int) -> bool:
        return self.coverage(year).known

    def unknown_years(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` whose holidays nobody knows (checked without using them)."""
        return [y for y in years if not self.known(y)]

    def day(self, day: dt.date) -> DayStatus:
        """A date's status and who decided it (no notice: this is for showing a calendar)."""
        day = _as_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return DayStatus(day, override.is_working_day, override.name, "override")
        name = _LIBRARY_WORKDAYS.get(day)
        if name is not None:
            return DayStatus(day, True, _CHINESE_NAMES.get(name, name), "chinese-calendar")
        name = _LIBRARY_HOLIDAYS.get(day)
        if name is not None:
            return DayStatus(day, False, _CHINESE_NAMES.get(name, name), "chinese-calendar")
        return DayStatus(day, day.weekday() < 5, None, "weekday")

    # -- arithmetic (the same meaning as tracker.workdays) ------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        day = _as_date(day)
        table = self._table(day.year)
        self._note(day, day)
        return bool(table.flags[day.toordinal() - table.first_ordinal])

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The date ``n`` working days after ``day`` (before it when ``n`` is negative); ``day``
        itself need not be a working day and is never counted; ``n == 0`` returns ``day``."""
        day = _as_date(day)
        if n == 0:
            return day
        year = day.year
        table = self._table(year)
        index = day.toordinal() - table.first_ordinal
        if n > 0:
            # the n-th working day after ``day`` is where the running count reaches this target
            target = table.counts[index + 1] + n
            while target > table.total:
                target -= table.total
                year += 1
                table = self._table(year)
        else:
            target = table.counts[index] + n + 1
            while target <= 0:
                year -= 1
                table = self._table(year)
                target += table.total
        found = dt.date.fromordinal(table.first_ordinal + bisect.bisect_left(table.counts, target) - 1)
        if n > 0:
            self._note(day + dt.timedelta(days=1), found)
        else:
            self._note(found, day - dt.timedelta(days=1))
        return found

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``; negative when ``end`` < ``start``."""
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        if end == start:
            return 0
        count = -self._count_through(start)
        for year in range(start.year, end.year):
            count += self._table(year).total
        count += self._count_through(end)
        self._note(start + dt.timedelta(days=1), end)
        return count

    # -- notices ------------------------------------------------------------------------

    @property
    def notices(self) -> list[CalendarNotice]:
        """Unknown or illustrative years this calendar was used for, first use first."""
        with self._lock:
            return list(self._notices)

    def take_notices(self) -> list[CalendarNotice]:
        """The notices so far, and forget them (the CLI prints each once)."""
        with self._lock:
            taken, self._notices = self._notices, []
            return taken

    # -- inside -------------------------------------------------------------------------

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            # two threads may build the same table; both results are equal, one wins
            table = self._tables[year] = _YearTable(year, self.day)
        return table

    def _count_through(self, day: dt.date) -> int:
        table = self._table(day.year)
        return table.counts[day.toordinal() - table.first_ordinal + 1]

    def _note(self, first: dt.date, last: dt.date) -> None:
        """Report unknown or illustrative years among the dates first..last just used."""
        for year in range(first.year, last.year + 1):
            plan = self._note_plans.get(year)
            if plan is None:
                plan = self._note_plans[year] = self._note_plan(year)
            own, december = plan
            if own is not None and own[0] not in self._noted:
                self._add(*own)
            if december is not None and december[0] not in self._noted \
                    and last >= dt.date(year, *NEXT_NOTICE_REACHES_BACK_TO):
                self._add(*december)

    def _note_plan(self, year: int) -> tuple[tuple | None, tuple | None]:
        """What using the year says: about the year itself, and about its last December days."""
        this, following = self.coverage(year), self.coverage(year + 1)
        own = december = None
        if not this.known:
            own = (("unknown", year), CalendarYearUnknown(year, _unknown_message(year)))
        elif this.illustrative:
            own = (("illustrative", year),
                   CalendarYearIllustrative(year, this.source, _illustrative_message(year, this.source)))
        if not following.known:
            december = (("tail", year + 1), CalendarYearUnknown(year + 1, _tail_message(year + 1)))
        elif following.illustrative:
            december = (("illustrative", year + 1), CalendarYearIllustrative(
                year + 1, following.source, _illustrative_message(year + 1, following.source)))
        return own, december

    def _add(self, key: tuple[str, int], notice: CalendarNotice) -> None:
        kind, year = key
        with self._lock:
            if key in self._noted:
                return
            self._noted.add(key)
            if kind == "tail" and ("unknown", year) in self._noted:
                return  # the year's own notice already says more
            if kind == "unknown" and ("tail", year) in self._noted:
                # one notice per unknown year: the full one replaces the December one
                self._notices = [n for n in self._notices if not (isinstance(n, CalendarYearUnknown)
                                                                  and n.year == year)]
            self._notices.append(notice)
        _log_once(kind, year, notice.message)


def _unknown_message(year: int) -> str:
    if LIBRARY_FIRST_YEAR <= year <= LIBRARY_LAST_YEAR:
        why = f"{LIBRARY} 只收录了该年的部分安排，也没有导入该年的放假通知"
    else:
        why = (f"{LIBRARY} 只收录 {LIBRARY_FIRST_YEAR}–{LIBRARY_LAST_YEAR} 年（{year} 年不在其中），"
               f"也没有导入该年的放假通知")
    return (f"{year} 年的法定节假日安排未知：{why}。该年暂按周一至周五计算工作日，节假日和调休上班都未计入，"
            f"据此算出的期限可能不准。国务院办公厅发布通知后，请用「junheng calendar import」导入。")


def _tail_message(year: int) -> str:
    return (f"{year} 年的法定节假日安排未知：{year - 1} 年 12 月 25 日至 31 日可能因 {year} 年元旦放假调休而改变，"
            f"目前按已知安排计算。国务院办公厅发布 {year} 年通知后，请用「junheng calendar import」导入。")


def _illustrative_message(year: int, source: str) -> str:
    return (f"{year} 年的节假日安排来自示例文件（{source}），不是国务院办公厅的正式通知，据此算出的期限仅供演示。"
            f"正式通知发布后，请用「junheng calendar import」重新导入该年。")


# ---------------------------------------------------------------------------------------
# the calendar in use (tracker.workdays asks this one)

_active: WorkingDayCalendar | None = None
_loader: Callable[[], WorkingDayCalendar] | None = None
_active_lock = threading.Lock()


def active_calendar() -> WorkingDayCalendar:
    """The calendar in use: the one installed, else one read from the store on first use when
    ``use_store_calendar`` asked for it, else chinese-calendar alone (no store needed)."""
    global _active
    calendar = _active
    if calendar is not None:
        return calendar
    with _active_lock:
        if _active is None:
            _active = _loader() if _loader is not None else WorkingDayCalendar()
        return _active


def set_active_calendar(calendar: WorkingDayCalendar) -> None:
    global _active
    _active = calendar


def load_calendar(session: Session) -> WorkingDayCalendar:
    """Read the imported years from the store and make them the calendar in use."""
    calendar = WorkingDayCalendar.from_session(session)
    set_active_calendar(calendar)
    return calendar


def _load_from_store() -> WorkingDayCalendar:
    from tracker.db import get_engine, migrate
    from tracker.settings import get_settings

    url = get_settings().database_url_resolved
    migrate(url)
    with Session(get_engine(url)) as session:
        return WorkingDayCalendar.from_session(session)


@dataclass(frozen=True, slots=True)
class _CalendarState:
    active: WorkingDayCalendar | None
    loader: Callable[[], WorkingDayCalendar] | None


def use_store_calendar(loader: Callable[[], WorkingDayCalendar] | None = None) -> _CalendarState:
    """From now on the calendar in use is read from the store (the process default database) the
    first time a date is counted. The CLI asks for this once per command and hands the returned
    state to ``restore_calendar`` when the command ends; a long-running process calls
    ``load_calendar`` instead whenever it wants fresh imports."""
    global _active, _loader
    with _active_lock:
        previous = _CalendarState(_active, _loader)
        _loader = loader or _load_from_store
        _active = None
        return previous


def restore_calendar(state: _CalendarState) -> None:
    global _active, _loader
    with _active_lock:
        _active, _loader = state.active, state.loader


def take_active_notices() -> list[CalendarNotice]:
    """Notices of the calendar in use, if one was used at all (never loads one)."""
    calendar = _active
    return calendar.take_notices() if calendar is not None else []


def reset_active_calendar() -> None:
    """Back to chinese-calendar alone, nothing read from any store (tests restore this)."""
    global _active, _loader
    with _active_lock:
        _active = None
        _loader = None
