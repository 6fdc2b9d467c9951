"""Issuing, storing and reading weekly briefings. Functions take a session first and never commit.

Numbering (期数): numbers follow the weeks, counted from a fixed origin, the ISO week in which the
campaign was created in the tracker (Campaign.created_at, China time): that week is 第1期, the next
第2期, and so on. A week issued late gets the number its week has (W50 issued before W49 is still
W49 第N期, W50 第N+1期), so a number never depends on the order of issue and never changes once
issued; a week before the campaign existed has no briefing. Reissuing a week recomputes its
figures (the same ones, when the week has ended: see compute.py) and keeps its number and its date
of issue. Two processes issuing at once cannot store one week twice: (campaign, week) and
(campaign, number) are unique, and a clash is looked at again inside a savepoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tracker.clock import zone
from tracker.briefings.compute import (
    BriefingData,
    BriefingError,
    compute_briefing,
    iso_week_of,
    normalize_week,
    parse_iso_week,
)
from tracker.briefings.models import Briefing
from tracker.calendar import WorkingDayCalendar
from tracker.org.models import Campaign
from tracker.db import utcnow
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.errors import ErrorKind, JunhengError


class BriefingNotFound(JunhengError, LookupError, kind=ErrorKind.not_found):
    """No briefing of that number or week, or not its file (Chinese message)."""


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


def campaign_start_week(campaign: Campaign) -> dt.date:
    """The Monday of the week the campaign was created in (China time): the origin of its 期数."""
    created = campaign.created_at.astimezone(zone()).date()
    return created - dt.timedelta(days=created.weekday())


def briefing_number(campaign: Campaign, iso_week: str) -> int:
    """期数 of ``iso_week``: weeks since the campaign's start week, plus one (see the module doc)."""
    monday = parse_iso_week(iso_week)[0]
    start = campaign_start_week(campaign)
    if monday < start:
        created = campaign.created_at.astimezone(zone()).date()
        raise BriefingError(f"{normalize_week(iso_week)}（{monday.isoformat()} 起的一周）在创建工作「{campaign.code}」"
                            f"建立（{created.isoformat()}）之前，没有调度通报；第1期为 {iso_week_of(start)}")
    return (monday - start).days // 7 + 1


def issue_briefing(session: Session, campaign: Campaign, iso_week: str, *, actor: str = SYSTEM_ACTOR,
                   now: dt.datetime | None = None, calendar: WorkingDayCalendar | None = None) -> Briefing:
    """Compute the week's briefing and store it (new: its week's number; again: same number and date)."""
    now = now or utcnow()
    week = normalize_week(iso_week)
    number = briefing_number(campaign, week)
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
        holder = session.execute(select(Briefing.iso_week).where(
            Briefing.campaign_id == campaign.id, Briefing.number == number)).scalar_one_or_none()
        if holder is not None:
            # only briefings numbered in order of issue (before numbers followed the weeks) can clash
            raise BriefingError(f"第 {number} 期已由 {holder} 的调度通报使用（按旧规则编号），"
                                f"{week} 无法按周次编为第 {number} 期；已印发的期数不会更改")
        issued_on = now.astimezone(zone()).date()
        data.number, data.issued_on = number, issued_on
        briefing = Briefing(campaign_id=campaign.id, number=number, iso_week=week, period_start=data.period_start,
                            period_end=data.period_end, issued_on=issued_on, as_of=data.as_of,
                            content=data.model_dump(mode="json"), created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(briefing)
                session.flush()
        except IntegrityError:
            continue  # another process issued this week meanwhile: look again, then reissue it
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


__all__ = ["BriefingNotFound", "BriefingSummary", "attach_documents", "briefing_data", "briefing_number",
           "campaign_start_week", "get_briefing", "issue_briefing", "list_briefings"]
