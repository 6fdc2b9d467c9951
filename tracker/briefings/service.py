"""Issuing, storing and reading weekly briefings. Functions take a session first and never commit.

Numbering (期数): the first issue of a week takes the next number of its campaign (1, 2, 3 … in the
order weeks were first issued); reissuing a week recomputes its figures (the same ones, when the
week has ended: see compute.py) and keeps its number and its date of issue. Two processes issuing
at once cannot take one number twice: (campaign, number) and (campaign, week) are unique, and a
clash is retried inside a savepoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tracker.briefings.compute import BriefingData, BriefingError, compute_briefing, normalize_week
from tracker.briefings.models import Briefing
from tracker.calendar import CHINA, WorkingDayCalendar
from tracker.campaigns.models import Campaign
from tracker.db import utcnow
from tracker.events.service import SYSTEM_ACTOR, record_event


class BriefingNotFound(LookupError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BriefingSummary:
    """A stored briefing without its document bytes (for lists)."""

    id: int
    campaign_id: int
    number: int
    iso_week: str
    period_start: dt.date
    period_end: dt.date
    issued_on: dt.date
    as_of: dt.datetime
    issues: int
    has_docx: bool
    has_pdf: bool
    updated_at: dt.datetime


def issue_briefing(session: Session, campaign: Campaign, iso_week: str, *, actor: str = SYSTEM_ACTOR,
                   now: dt.datetime | None = None, calendar: WorkingDayCalendar | None = None) -> Briefing:
    """Compute the week's briefing and store it (new: next number; again: same number and date)."""
    now = now or utcnow()
    week = normalize_week(iso_week)
    data = compute_briefing(session, campaign, week, now=now, calendar=calendar)
    for _attempt in range(5):
        existing = session.execute(
            select(Briefing).where(Briefing.campaign_id == campaign.id, Briefing.iso_week == week)
        ).scalar_one_or_none()
        if existing is not None:
            data.number, data.issued_on = existing.number, existing.issued_on
            existing.content = data.model_dump(mode="json")
            existing.as_of = data.as_of
            existing.issues += 1
            existing.updated_at = now
            session.add(existing)
            session.flush()
            record_event(session, type="briefing.issued", actor=actor, campaign_id=campaign.id, payload={
                "briefing_id": existing.id, "number": existing.number, "week": week, "reissue": True}, at=now)
            return existing
        number = (session.execute(select(func.max(Briefing.number)).where(Briefing.campaign_id == campaign.id))
                  .scalar() or 0) + 1
        issued_on = now.astimezone(CHINA).date()
        data.number, data.issued_on = number, issued_on
        briefing = Briefing(campaign_id=campaign.id, number=number, iso_week=week, period_start=data.period_start,
                            period_end=data.period_end, issued_on=issued_on, as_of=data.as_of,
                            content=data.model_dump(mode="json"), created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(briefing)
                session.flush()
        except IntegrityError:
            continue  # another process issued this week (or took this number) meanwhile: look again
        record_event(session, type="briefing.issued", actor=actor, campaign_id=campaign.id, payload={
            "briefing_id": briefing.id, "number": number, "week": week, "reissue": False}, at=now)
        return briefing
    raise BriefingError(f"无法为 {week} 分配期数：同时生成调度通报的进程太多，请稍后重试")


def attach_documents(session: Session, briefing: Briefing, *, docx: bytes | None = None,
                     pdf: bytes | None = None) -> Briefing:
    """Keep the rendered documents with the briefing (a PDF only where one was made)."""
    if docx is not None:
        briefing.docx = docx
    if pdf is not None:
        briefing.pdf = pdf
    session.add(briefing)
    session.flush()
    return briefing


def briefing_data(briefing: Briefing) -> BriefingData:
    """The stored figures of a briefing, as issued (never recomputed)."""
    return BriefingData.model_validate(briefing.content)


_SUMMARY_COLUMNS = (Briefing.id, Briefing.campaign_id, Briefing.number, Briefing.iso_week, Briefing.period_start,
                    Briefing.period_end, Briefing.issued_on, Briefing.as_of, Briefing.issues,
                    Briefing.docx.is_not(None), Briefing.pdf.is_not(None), Briefing.updated_at)


def list_briefings(session: Session, campaign: Campaign) -> list[BriefingSummary]:
    """The campaign's briefings, newest number first (the documents are not loaded)."""
    rows = session.execute(select(*_SUMMARY_COLUMNS).where(Briefing.campaign_id == campaign.id)
                           .order_by(Briefing.number.desc())).all()
    return [BriefingSummary(*row) for row in rows]


def get_briefing(session: Session, campaign: Campaign, which: int | str) -> Briefing:
    """A stored briefing by its number (期数: 3 or "3") or its week ("2026-W48")."""
    if isinstance(which, int) or (isinstance(which, str) and which.strip().isdigit()):
        number = int(which)
        found = session.execute(select(Briefing).where(Briefing.campaign_id == campaign.id,
                                                       Briefing.number == number)).scalar_one_or_none()
        if found is None:
            raise BriefingNotFound(f"创建工作「{campaign.code}」没有第 {number} 期调度通报")
        return found
    week = normalize_week(str(which))
    found = session.execute(select(Briefing).where(Briefing.campaign_id == campaign.id,
                                                   Briefing.iso_week == week)).scalar_one_or_none()
    if found is None:
        raise BriefingNotFound(f"创建工作「{campaign.code}」还没有 {week} 的调度通报")
    return found


__all__ = ["BriefingNotFound", "BriefingSummary", "attach_documents", "briefing_data", "get_briefing",
           "issue_briefing", "list_briefings"]
