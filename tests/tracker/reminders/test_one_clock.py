"""One clock: the sending window and the briefing's week are read in the campaign's local time
(``JUNHENG_TIMEZONE``, tracker.clock), not in a zone of their own. Beijing is the default; the same
UTC moment set in another zone lands on another local day and hour."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tracker.briefings.compute import previous_week
from tracker.calendar.working_days import local_date
from tracker.reminders.ladder import window_opening
from tracker.settings import get_settings

UTC = dt.timezone.utc
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def zone_named(monkeypatch):
    def use(name: str | None) -> None:
        if name is None:
            monkeypatch.delenv("JUNHENG_TIMEZONE", raising=False)
        else:
            monkeypatch.setenv("JUNHENG_TIMEZONE", name)
        get_settings.cache_clear()
    yield use
    get_settings.cache_clear()  # monkeypatch restores the variable; the next reader sees it


# Wednesday 2026-12-09 03:00 UTC: 11:00 in Beijing (inside the 08:30–18:00 window), but 03:00 in
# London (before it opens at 08:30 there)
MOMENT = dt.datetime(2026, 12, 9, 3, 0, tzinfo=UTC)


def test_the_sending_window_is_beijing_time_by_default(zone_named):
    zone_named(None)
    assert window_opening(MOMENT) == MOMENT


def test_the_sending_window_follows_the_timezone_setting(zone_named):
    zone_named("Europe/London")
    opens = window_opening(MOMENT)
    assert opens == dt.datetime(2026, 12, 9, 8, 30, tzinfo=LONDON)
    assert opens.utcoffset() == dt.timedelta(0)  # London's winter time: the window opens 08:30 UTC


# Monday 2026-12-07 20:00 UTC: already Tuesday 04:00 in Beijing, still Monday in London
LATE_MONDAY = dt.datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def test_the_local_date_follows_the_timezone_setting(zone_named):
    zone_named(None)
    assert local_date(LATE_MONDAY) == dt.date(2026, 12, 8)
    zone_named("Europe/London")
    assert local_date(LATE_MONDAY) == dt.date(2026, 12, 7)


def test_the_briefing_week_follows_the_timezone_setting(zone_named):
    # Sunday 2026-12-13 20:00 UTC is Monday 12-14 in Beijing (the week 12-07..12-13 is complete),
    # but still Sunday in London (the last complete week is 11-30..12-06)
    sunday_night = dt.datetime(2026, 12, 13, 20, 0, tzinfo=UTC)
    zone_named(None)
    assert previous_week(sunday_night) == "2026-W50"
    zone_named("Europe/London")
    assert previous_week(sunday_night) == "2026-W49"
