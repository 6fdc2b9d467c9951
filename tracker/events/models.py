"""The append-only event log: every change of state writes exactly one event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class Event(SQLModel, table=True):
    __table_args__ = (Index("ix_event_campaign_at", "campaign_id", "at"),
                      Index("ix_event_dispatch", "dispatched_at", "id"),
                      # 考核 counts a few kinds (退回, 申请延期, 同意延期) of a period: read those alone
                      Index("ix_event_campaign_type_at", "campaign_id", "type", "at"))
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str  # a person's name, or 系统 for the system
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    type: str  # e.g. task.created, task.accepted, task.verified, submission.imported, review.verdict
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # set when the dispatcher has started the flows that react to this event (issue 3 §3)
    dispatched_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
