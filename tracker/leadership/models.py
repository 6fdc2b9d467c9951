"""The lease row: one per kind of leader (today only ``scheduler``)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime


class LeaderLease(SQLModel, table=True):
    __tablename__ = "leader_lease"
    name: str = Field(primary_key=True, max_length=32)  # e.g. "scheduler"
    holder: str = Field(max_length=200)  # the process that holds (or last held) the lease
    acquired_at: dt.datetime = Field(sa_type=UTCDateTime)  # when this holder took it
    renewed_at: dt.datetime = Field(sa_type=UTCDateTime)  # its last heartbeat
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)  # free for anyone from this moment
    last_job: str | None = Field(default=None, max_length=64)  # the last job the holder started
    last_job_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
