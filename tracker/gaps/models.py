"""A campaign's stored gap plan: computed on request (page, API, `plan-gaps --campaign`), kept per
assessment so tasks and the 任务分解表 can show the planned amounts without solving again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class GapPlanRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    assessment_id: int = Field(foreign_key="assessmentsnapshot.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    margin: float
    costs_source: str = ""
    feasible: bool
    total_cost: float  # 万元
    result: dict = Field(sa_column=Column(JSON, nullable=False))  # tracker.gaps.report.plan_json without "after"
