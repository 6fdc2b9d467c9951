"""Stored school data: a dated submission (填报批次) and its rows, and county-level inputs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class DataSubmission(SQLModel, table=True):
    """One imported sheet. Kept whole so any assessment can be reproduced later."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    label: str = ""  # e.g. 自查 2026-12 / 整改后复测
    source_filename: str = ""
    sha256: str = ""
    submitted_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_by: str = ""
    # imported → approved / returned (a school's own row goes through the office, issue 5)
    status: str = "imported"
    approved_by: str = ""
    approved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    school_count: int = 0
    # set for a school's own row sent from the web: waits for the office, never assessed on its own
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    returned_reason: str = ""  # why the office returned it
    # a submission the office made by approving a school's row: the county data it started from
    based_on_id: int | None = Field(default=None, foreign_key="datasubmission.id")


class SchoolDataRow(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("submission_id", "school_key"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="datasubmission.id", index=True)
    school_key: str
    row: int
    data: dict = Field(sa_column=Column(JSON, nullable=False))  # SchoolRecord fields
    # where these figures were entered when the row was carried over from another submission
    # (a school's approved row merged into the county data); None: entered in this one
    source_submission_id: int | None = Field(default=None, foreign_key="datasubmission.id")
