"""Tables of the region level: provinces and cities, which campaign (county) belongs to which
city, the region's own notices, and a summary of each county's latest assessment."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class RegionLevel(str, Enum):
    city = "city"  # 市
    province = "province"  # 省


LEVEL_NAMES = {RegionLevel.city: "市", RegionLevel.province: "省"}


class Region(SQLModel, table=True):
    """A city (its ``parent_id`` the province, when the file names one) or a province."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=64)  # short id used on the CLI (--region)
    name: str
    level: RegionLevel = Field(sa_type=String(16))
    parent_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RegionCounty(SQLModel, table=True):
    """A county's campaign in its city: one city per campaign."""

    __tablename__ = "region_county"
    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)  # the city


class RegionNotice(SQLModel, table=True):
    """A notice the region itself issues to its counties (市/省 督导's own words)."""

    __tablename__ = "region_notice"
    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    title: str = Field(max_length=200)
    body: str = ""
    issued_by: str = ""
    issued_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CountyAssessmentSummary(SQLModel, table=True):
    """What the roll-up needs of a county's latest assessment (its CVs per stage and indicator
    against the limits, schools assessed and passing), so the roll-up never reads the snapshots'
    per-school JSON. Refreshed when a newer snapshot exists (``tracker.regions.summaries``)."""

    __tablename__ = "county_assessment_summary"
    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    assessment_id: int = Field(foreign_key="assessmentsnapshot.id")
    as_of: str = ""  # the assessment's date (ISO)
    cvs: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # {stage: {code: [cv, limit]}}
    schools: int = 0
    schools_ok: int = 0
