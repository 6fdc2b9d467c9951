import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.workdays import add_working_days, is_working_day, working_days_between

FRI = dt.date(2026, 12, 4)
SAT = dt.date(2026, 12, 5)
SUN = dt.date(2026, 12, 6)
MON = dt.date(2026, 12, 7)


def test_an_ordinary_week_is_monday_to_friday():
    assert [is_working_day(FRI + dt.timedelta(days=i)) for i in range(7)] == [
        True, False, False, True, True, True, True]


@pytest.mark.parametrize(("start", "n", "expected"), [
    (FRI, 0, FRI),
    (SAT, 0, SAT),
    (FRI, 1, MON),
    (SAT, 1, MON),
    (SUN, 1, MON),
    (MON, 5, dt.date(2026, 12, 14)),
    (SAT, 5, dt.date(2026, 12, 11)),  # Mon..Fri of the next week
    (MON, -1, FRI),
    (SUN, -1, FRI),
    (SAT, -5, dt.date(2026, 11, 30)),
    (MON, 10, dt.date(2026, 12, 21)),
    # the 2025 National Day holiday (10-01…10-08) and its make-up Saturday 10-11, from the calendar
    (dt.date(2025, 9, 30), 1, dt.date(2025, 10, 9)),
    (dt.date(2025, 10, 10), 1, dt.date(2025, 10, 11)),
    (dt.date(2025, 10, 9), -1, dt.date(2025, 9, 30)),
])
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize(("start", "end", "expected"), [
    (FRI, FRI, 0),
    (FRI, SAT, 0),
    (FRI, SUN, 0),
    (FRI, MON, 1),
    (SAT, MON, 1),
    (MON, FRI, -1),
    (MON, dt.date(2026, 12, 14), 5),
    (dt.date(2026, 12, 14), MON, -5),
    (dt.date(2025, 9, 26), dt.date(2025, 10, 13), 7),  # 9-28 (a Sunday) and 10-11 are make-up days
    (dt.date(2025, 10, 13), dt.date(2025, 9, 26), -7),
])
def test_working_days_between(start, end, expected):
    assert working_days_between(start, end) == expected


# years whose holiday notice the calendar knows (a later year is counted Monday–Friday with a warning)
dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 20))


@settings(max_examples=100, deadline=None)
@given(start=dates, n=st.integers(-120, 120))
def test_adding_then_counting_gives_n_back(start, n):
    end = add_working_days(start, n)
    if n >= 0 or is_working_day(start):
        assert working_days_between(start, end) == n
    else:  # back from a day off: the first step back lands on a working day that counts 0 from there
        assert working_days_between(start, end) == n + 1
    if n:
        assert is_working_day(end)
    assert (end > start) == (n > 0) and (end < start) == (n < 0)


@settings(max_examples=100, deadline=None)
@given(a=dates, b=dates)
def test_counting_is_antisymmetric_and_agrees_with_is_working_day(a, b):
    assert working_days_between(a, b) == -working_days_between(b, a)
    lo, hi = min(a, b), max(a, b)
    plain = sum(1 for i in range(1, (hi - lo).days + 1) if is_working_day(lo + dt.timedelta(days=i)))
    assert abs(working_days_between(a, b)) == plain
