"""ISO weeks of the weekly briefing (Monday to Sunday, local time): parsing, naming, the week a
Monday's briefing covers; and the briefing's error."""

from __future__ import annotations

import datetime as dt
import re

from tracker.clock import zone
from tracker.db import utcnow
from tracker.errors import JunhengError

WEEK_PATTERN = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


class BriefingError(JunhengError, ValueError):
    """A week or campaign a briefing cannot be made for (Chinese message)."""




# ---------------------------------------------------------------------------------------------
# weeks


def parse_iso_week(text: str) -> tuple[dt.date, dt.date]:
    """``2026-W48`` → (Monday, Sunday) of that ISO week."""
    match = WEEK_PATTERN.match(text or "")
    if not match:
        raise BriefingError(f"周次「{text}」的格式不对：应写作 2026-W48（年份-W周数）")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BriefingError(f"周次「{text}」不存在：{year} 年没有第 {week} 周") from None
    return monday, monday + dt.timedelta(days=6)


def iso_week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def normalize_week(text: str) -> str:
    return iso_week_of(parse_iso_week(text)[0])


def previous_week(moment: dt.datetime | None = None) -> str:
    """The last complete ISO week before ``moment`` (local time, tracker.clock): what Monday's briefing covers."""
    today = (moment or utcnow()).astimezone(zone()).date()
    return iso_week_of(today - dt.timedelta(days=today.weekday() + 7))


def start_of(day: dt.date) -> dt.datetime:
    """00:00 local time (tracker.clock) of ``day``, as an aware datetime in UTC."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone()).astimezone(dt.timezone.utc)


def cn_day(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"

