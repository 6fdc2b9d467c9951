"""The one local clock: stored times are UTC; dates and times people see are the campaign's
local ones (``JUNHENG_TIMEZONE``, Asia/Shanghai unless set). Everything that turns a stored
time into a local date or time asks here."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from tracker.db import utcnow
from tracker.settings import get_settings


@lru_cache(maxsize=8)
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(name: str | None = None) -> ZoneInfo:
    """The local time zone (the setting's, read each time, unless ``name`` is given)."""
    return _zone_named(name or get_settings().timezone)


def local_time(moment: dt.datetime) -> dt.datetime:
    """A stored (UTC) time in the local time zone, for showing and dating."""
    return moment.astimezone(zone())


def local_date(moment: dt.datetime) -> dt.date:
    """The local calendar date of a stored (UTC) time."""
    return local_time(moment).date()


def local_today() -> dt.date:
    """Today's local date."""
    return local_date(utcnow())
