"""The office's own words for the 自评报告, one text per section and campaign."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class ReportText(SQLModel, table=True):
    __tablename__ = "report_text"
    __table_args__ = (UniqueConstraint("campaign_id", "section"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    section: str  # a key of tracker.reports.texts.SECTIONS
    text: str
    updated_by: str = ""
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
