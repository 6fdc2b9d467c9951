"""Working-day arithmetic: the one place that decides which dates count.

Durations in a campaign (how long a unit has, how many days a task is overdue, days left to a gate)
count working days. For now a working day is Monday to Friday; the holiday calendar
(tracker/calendar/) will be consulted here, so every caller keeps asking these three functions.
All three are pure: same dates in, same answer out, no store access.
"""

from __future__ import annotations

import datetime as dt

_ONE_DAY = dt.timedelta(days=1)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The date ``n`` working days after ``day`` (before it when ``n`` is negative).

    ``day`` itself need not be a working day; ``n == 0`` returns ``day`` unchanged.
    Inverse of ``working_days_between``: working_days_between(d, add_working_days(d, n)) == n.
    """
    # Day by day on purpose: every date goes through is_working_day, so holidays and
    # make-up working days (调休) need no second code path. A campaign's spans are short.
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    remaining = abs(n)
    current = day
    while remaining:
        current += step
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` < ``start``.

    working_days_between(Fri, next Mon) == 1; working_days_between(d, d) == 0.
    """
    if end < start:
        return -working_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current += _ONE_DAY
        if is_working_day(current):
            count += 1
    return count
