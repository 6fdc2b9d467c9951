"""The 市级调度通报 (issue 15 §2): a region's weekly briefing ranking its counties and naming
those behind, in the county briefing's style (``notifications.briefing.region`` writes it).

Figures are the region's roll-up (``tracker.regions.rollup``) with the day after the week's
Sunday as "today" (overdue and days to the gate as of the end of the week); tasks verified in
the week come from the event log, one GROUP BY over the region's counties. Behind: the counties
with a red light; when none is red, the yellow ones in the last third of the ranking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.briefings.compute import parse_iso_week
from tracker.clock import local_today, zone
from tracker.events.models import Event
from tracker.events.types import EventType
from tracker.regions.models import LEVEL_NAMES, Region, RegionLevel
from tracker.regions.rollup import county_lines
from tracker.regions.service import region_campaigns


@dataclass
class RegionBriefingData:
    region: str
    region_name: str
    level_name: str
    iso_week: str
    period_start: dt.date
    period_end: dt.date
    issued_on: dt.date
    counties: list[dict] = field(default_factory=list)  # the roll-up's lines, ranked, with verified_this_week
    behind: list[str] = field(default_factory=list)  # county names


def _week_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone()).astimezone(dt.timezone.utc)


def verified_in_week(session: Session, campaign_ids: list[int], start: dt.date, end: dt.date) -> dict[int, int]:
    """Tasks verified (销号) from Monday to Sunday (local time) per county."""
    if not campaign_ids:
        return {}
    rows = session.exec(select(Event.campaign_id, func.count())
                        .where(Event.campaign_id.in_(campaign_ids), Event.type == EventType.task_verified.value,
                               Event.at >= _week_start(start), Event.at < _week_start(end + dt.timedelta(days=1)))
                        .group_by(Event.campaign_id)).all()
    return {campaign_id: int(n) for campaign_id, n in rows}


def region_briefing(session: Session, region: Region, iso_week: str) -> RegionBriefingData:
    start, end = parse_iso_week(iso_week)
    campaigns = region_campaigns(session, region.id)
    lines = county_lines(session, campaigns, end + dt.timedelta(days=1))
    ids = {c.code: c.id for c in campaigns}
    week = verified_in_week(session, list(ids.values()), start, end)
    counties = []
    for line in lines:
        row = asdict(line)
        row["verified_this_week"] = week.get(ids[line.campaign], 0)
        counties.append(row)
    behind = [c["county"] for c in counties if c["light"] == "red"]
    if not behind and counties:
        tail = counties[len(counties) - max(1, len(counties) // 3):]
        behind = [c["county"] for c in tail if c["light"] == "yellow"]
    return RegionBriefingData(region=region.code, region_name=region.name,
                              level_name=LEVEL_NAMES[RegionLevel(region.level)], iso_week=iso_week,
                              period_start=start, period_end=end, issued_on=local_today(), counties=counties,
                              behind=behind)
