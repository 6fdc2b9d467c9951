"""The append-only event log: every change of state writes exactly one event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Index, String
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


class FlowRunRecord(SQLModel, table=True):
    """A flow run the dispatcher started for a claim of events (issue 16 §2): the tracker owns the
    outcome. A run that failed, crashed or did not start within its bound is started again (a
    new record, ``retry_of`` the old one); the flows are idempotent, so that is safe."""

    __table_args__ = (Index("ix_flowrunrecord_state", "state", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    flow_name: str = Field(sa_type=String(48))  # gate-check, phase-self-check …
    run_name: str = ""  # the readable flow run name, e.g. gate-check/qingchuan-2027-自查自评
    parameters: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    event_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mode: str = Field(default="embedded", sa_type=String(16))  # embedded | deployments | safety_net
    flow_run_id: str | None = Field(default=None, sa_type=String(64))  # Prefect's id, when one was made
    # created (with a worker, outcome not known yet) | completed | failed | crashed | late (not
    # started within the bound) | retried (a later record took over) | given_up (too many attempts)
    state: str = Field(default="created", sa_type=String(16))
    message: str = ""
    attempt: int = 1
    retry_of: int | None = Field(default=None, foreign_key="flowrunrecord.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
