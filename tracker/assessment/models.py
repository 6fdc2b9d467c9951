"""Stored assessments: a snapshot per run and the shortfalls it found."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class AssessmentSnapshot(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    submission_id: int = Field(foreign_key="datasubmission.id", index=True)
    standard_id: str
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ok: bool | None = None
    result: dict = Field(sa_column=Column(JSON, nullable=False))  # tracker.assessment.report.to_json


class ShortfallRecord(SQLModel, table=True):
    """A shortfall as found by one assessment. ``key`` is stable across assessments."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    assessment_id: int = Field(foreign_key="assessmentsnapshot.id", index=True)
    key: str = Field(index=True)  # kind|indicator|stage|school_key
    kind: str  # school_value / school_check / county / cv
    indicator: str
    stage: str | None = None
    school_id: int | None = Field(default=None, foreign_key="school.id")
    actual: float | None = None
    required: float | None = None
    missing: float | None = None
    unit: str = ""
    text: str = ""
    blocking: bool = False
    departments: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class CountyInput(SQLModel, table=True):
    """A county-level figure, attestation or score (areas B–E) as entered, with who entered it."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    indicator: str
    value: float | None = None  # a county figure or Hunan points
    status: str | None = None  # pass / fail for attestations
    note: str = ""
    entered_by: str = ""
    entered_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CvHistory(SQLModel, table=True):
    """A year's basic-balance 综合差异系数 of a stage, as imported from the year's sheet (E2)."""

    __tablename__ = "cv_history"
    __table_args__ = (UniqueConstraint("campaign_id", "year", "stage"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    year: int
    stage: str  # primary / junior
    cv: float
    source: str = ""  # the sheet it came from
    entered_by: str = ""
    entered_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
