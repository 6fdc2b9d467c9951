"""Tables of the reviews above the county (市级复评, 省级评估, 国家审核认定) and their findings.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class Review(SQLModel, table=True):
    """A 市级/省级/国家 review of the campaign and its verdict."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    phase_id: int = Field(foreign_key="phase.id", index=True)
    level: str  # 市级 / 省级 / 国家
    held_on: dt.date | None = None
    verdict: str | None = None  # 通过 / 不通过 / 有条件通过; None until recorded
    verdict_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_by: str = ""
    note: str = ""


class ReviewFinding(SQLModel, table=True):
    """A 反馈问题 from a review; each becomes a rectification task."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    seq: int
    text: str
    indicator: str | None = None
    department_id: int | None = Field(default=None, foreign_key="department.id")
    school_id: int | None = Field(default=None, foreign_key="school.id")
    due_on: dt.date
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
