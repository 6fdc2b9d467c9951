"""Tables of the reviews (市级复评, 省级评估, 国家审核认定, and the county's own 县级督查) and
their findings."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class Review(SQLModel, table=True):
    """A 市级/省级/国家 review of the campaign and its verdict, or a round of the county's own
    督查 (level 县级督查: its phase is the one current when it was opened; no verdict needed)."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    phase_id: int = Field(foreign_key="phase.id", index=True)
    level: str  # 市级 / 省级 / 国家 / 县级督查
    held_on: dt.date | None = None
    verdict: str | None = None  # 通过 / 不通过 / 有条件通过; None until recorded
    verdict_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_by: str = ""
    note: str = ""
    round_name: str = ""  # 县级督查: 第一轮, 第二轮 … (one name per round in a campaign)
    team: str = ""  # 督查组: its name and members, as the office writes them
    scope: str = ""  # 督查范围: the units, schools or matters it covers


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
