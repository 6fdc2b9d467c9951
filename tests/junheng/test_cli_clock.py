"""The CLI tells time by the one clock (tracker.clock, ``JUNHENG_TIMEZONE``, Beijing unless set):
its console log lines, ``junheng sweep --now`` without an offset, and ``--today`` left out."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine

from junheng.cli.logs import BeijingFormatter
from junheng.cli.sweep import parse_moment
from junheng.cli.task import parse_today
from tracker.settings import get_settings

# 2026-12-06 17:30 UTC: 12-07 01:30 in Beijing, 12-07 02:30 in Tokyo, still 12-06 in London
MOMENT = dt.datetime(2026, 12, 6, 17, 30, tzinfo=dt.UTC)


@pytest.fixture
def local_zone(monkeypatch):
    def set_zone(name: str | None) -> None:
        if name is None:
            monkeypatch.delenv("JUNHENG_TIMEZONE", raising=False)
        else:
            monkeypatch.setenv("JUNHENG_TIMEZONE", name)
        get_settings.cache_clear()

    yield set_zone
    monkeypatch.delenv("JUNHENG_TIMEZONE", raising=False)
    get_settings.cache_clear()


def _logged_at(moment: dt.datetime) -> str:
    record = logging.LogRecord("junheng", logging.INFO, __file__, 1, "消息", None, None)
    record.created = moment.timestamp()
    return BeijingFormatter("%(asctime)s %(message)s").format(record)


@pytest.mark.parametrize(("name", "shown", "today"), [
    (None, "2026-12-07 01:30:00 消息", dt.date(2026, 12, 7)),
    ("Asia/Tokyo", "2026-12-07 02:30:00 消息", dt.date(2026, 12, 7)),
    ("Europe/London", "2026-12-06 17:30:00 消息", dt.date(2026, 12, 6)),
])
def test_the_cli_tells_time_by_the_setting(local_zone, name, shown, today):
    local_zone(name)
    assert _logged_at(MOMENT) == shown
    with time_machine.travel(MOMENT, tick=False):
        assert parse_today(None) == today
    offset = {None: 8, "Asia/Tokyo": 9, "Europe/London": 0}[name]
    assert parse_moment("2026-12-01T09:00").utcoffset() == dt.timedelta(hours=offset)
