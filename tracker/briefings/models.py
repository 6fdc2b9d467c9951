"""The stored weekly dispatch briefings (调度通报): one row per campaign and ISO week."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class Briefing(SQLModel, table=True):
    """A briefing as issued: its number (期数), its week, the figures it was computed from, and the
    Word document (and PDF, where LibreOffice made one) sent out.

    The document bytes live in the row (a briefing's .docx is ~100–300 KB), so a backup of the
    database holds every briefing ever issued and a dashboard on another machine can serve them.
    ``content`` is ``tracker.briefings.compute.BriefingData`` as JSON: reopening an old briefing
    never recomputes it.
    """

    __table_args__ = (UniqueConstraint("campaign_id", "number"), UniqueConstraint("campaign_id", "iso_week"))
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    number: int  # 期数: weeks since the campaign's start week + 1 (tracker.briefings.service)
    iso_week: str = Field(max_length=8)  # e.g. 2026-W48
    period_start: dt.date  # the Monday
    period_end: dt.date  # the Sunday
    issued_on: dt.date  # 印发日期 (kept when the week is reissued)
    as_of: dt.datetime = Field(sa_type=UTCDateTime)  # the figures are as of this moment
    content: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    docx: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    issues: int = 1  # how many times this week was issued (1 + reissues)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
