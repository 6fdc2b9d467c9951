"""What each step of a phase's flow did, once per phase and step (issue 16 §1).

A phase flow's step looks for its row first: found, the step has been done and does nothing
again (its stored result is returned); not found, the step does its work and inserts the row in
the same transaction. Two runs at once (a re-dispatched run beside a slow first one) cannot both
do a step: the second insert meets the unique key and its transaction rolls back whole.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class PhaseStep(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("phase_id", "step"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    phase_id: int = Field(foreign_key="phase.id", index=True)
    step: str = Field(sa_type=String(48))  # deployment_notice, ladder, … summary (tracker.plans.kinds)
    done_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    result: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # counts and ids
    document: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # 阶段小结 .docx
