import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.workdays import add_working_days, is_working_day, working_days_between

FRI = dt.date(2026, 12, 4)
SAT = dt.date(2026, 12, 5)
SUN = dt.date(2026, 12, 6)
MON = dt.date(2026, 12, 7)


def test_monday_to_friday_are_working_days():
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
    (dt.date(2026, 12, 31), 1, dt.date(2027, 1, 1)),  # a Friday across the year (holidays come later)
    (MON, 10, dt.date(2026, 12, 21)),
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
    (dt.date(2026, 12, 1), dt.date(2027, 12, 1), 261),
])
def test_working_days_between(start, end, expected):
    assert working_days_between(start, end) == expected


dates = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2029, 12, 31))


@settings(max_examples=100, deadline=None)
@given(start=dates, n=st.integers(-300, 300))
def test_adding_then_counting_gives_n_back(start, n):
    end = add_working_days(start, n)
    if n >= 0 or is_working_day(start):
        assert working_days_between(start, end) == n
    else:  # back from a weekend day: the first step back lands on the Friday, which counts 0 from there
        assert working_days_between(start, end) == n + 1
    if n:
        assert is_working_day(end)
    assert (end > start) == (n > 0) and (end < start) == (n < 0)


@settings(max_examples=100, deadline=None)
@given(a=dates, b=dates)
def test_counting_is_antisymmetric_and_matches_a_plain_count(a, b):
    assert working_days_between(a, b) == -working_days_between(b, a)
    lo, hi = min(a, b), max(a, b)
    plain = sum(1 for i in range(1, (hi - lo).days + 1) if (lo + dt.timedelta(days=i)).weekday() < 5)
    assert abs(working_days_between(a, b)) == plain
