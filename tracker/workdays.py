"""Working-day arithmetic: the one place that decides which dates count.

Durations in a campaign (how long a unit has, how many days a task is overdue, days left to a gate)
count working days. Every caller asks these three functions; they ask the calendar in use
(tracker.calendar.active_calendar): China's holidays and 调休 working days from chinese-calendar,
plus the notices imported into the store once ``load_calendar(session)`` (or, in the CLI,
``use_store_calendar``) has installed them; Monday to Friday, with a logged warning, for a year
nobody knows. Without a store they still work, on chinese-calendar alone.
"""

from __future__ import annotations

import datetime as dt

from tracker.calendar import active_calendar


def is_working_day(day: dt.date) -> bool:
    return active_calendar().is_working_day(day)


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The date ``n`` working days after ``day`` (before it when ``n`` is negative).

    ``day`` itself need not be a working day; ``n == 0`` returns ``day`` unchanged.
    working_days_between(d, add_working_days(d, n)) == n for n >= 0, and for n < 0 when ``d`` is
    a working day (from a Saturday one working day back is Friday, yet Friday→Saturday holds no
    working day).
    """
    return active_calendar().add_working_days(day, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` < ``start``.

    working_days_between(Fri, next Mon) == 1; working_days_between(d, d) == 0; antisymmetric:
    working_days_between(a, b) == -working_days_between(b, a). A task due on Friday is overdue by
    0 working days on Saturday and by 1 on Monday.
    """
    return active_calendar().working_days_between(start, end)
