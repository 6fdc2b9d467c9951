"""A region's own notices (通知) to its counties: what a 市/省 督导 account may write."""

from __future__ import annotations

from sqlmodel import Session, select

from tracker.regions.models import Region, RegionNotice


def issue_notice(session: Session, region: Region, title: str, body: str, issued_by: str) -> RegionNotice:
    notice = RegionNotice(region_id=region.id, title=title.strip(), body=body.strip(), issued_by=issued_by)
    session.add(notice)
    session.flush()
    return notice


def region_notices(session: Session, region_id: int, limit: int = 50) -> list[RegionNotice]:
    """The region's notices, and its province's (a city reads what the province sent), newest first."""
    parent = select(Region.parent_id).where(Region.id == region_id).scalar_subquery()
    return list(session.exec(select(RegionNotice)
                             .where(RegionNotice.region_id.in_([region_id]) | (RegionNotice.region_id == parent))
                             .order_by(RegionNotice.issued_at.desc(), RegionNotice.id.desc()).limit(limit)))
