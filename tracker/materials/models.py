"""The campaign's materials checklist as the office imported it, and evidence tagged with an item."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class MaterialChecklist(SQLModel, table=True):
    """The office's checklist of a campaign (one row; absent: the standard's shipped file)."""

    __tablename__ = "material_checklist"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", unique=True)
    standard_id: str
    title: str = ""
    illustrative: bool = False
    source: str = ""  # the file it was imported from
    items: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ChecklistItem dumps
    imported_by: str = ""
    imported_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EvidenceMaterial(SQLModel, table=True):
    """The checklist item an evidence file meets (one item per file)."""

    __tablename__ = "evidence_material"
    evidence_id: int = Field(foreign_key="evidence.id", primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    item_id: str = Field(index=True)
    tagged_by: str = ""
    tagged_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
