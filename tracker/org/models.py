"""Tables of a campaign's organisation: the campaign, its phases, units, people, schools."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow
from tracker.plans.kinds import PhaseKind, UnitKind  # noqa: F401  (the models' column types)


class PhaseStatus(str, Enum):
    pending = "pending"
    active = "active"
    passed = "passed"


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)  # short id used on the CLI (--campaign)
    name: str
    county: str
    standard_id: str
    # county: a county's campaign (its plan assigns every indicator); school-programme: a programme
    # such as 示范校 run beside it (tracker.programmes), with its own plan format
    kind: str = Field(default="county", sa_type=String(32), sa_column_kwargs={"server_default": "county"})
    plan: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # the plan as last applied
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Phase(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: str  # stable key from the plan, e.g. "self_check"
    name: str
    kind: PhaseKind = Field(default=PhaseKind.other, sa_type=String(32))
    ordinal: int
    starts_on: dt.date | None = None
    gate_on: dt.date | None = None  # None: 以上级通知为准 until someone sets it
    status: PhaseStatus = Field(default=PhaseStatus.pending, sa_type=String(16))
    passed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = ""


class Department(SQLModel, table=True):
    """A responsible unit (责任单位): a bureau section, a county department, a township, the office."""

    __table_args__ = (UniqueConstraint("campaign_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str
    short_name: str = ""
    kind: UnitKind = Field(default=UnitKind.county_department, sa_type=String(32))
    head_name: str = ""
    head_email: str = ""
    # 分管领导 (a person of the plan). No FK constraint: person → department already points the
    # other way, and a cycle would break table ordering on create and drop.
    supervisor_id: int | None = None
    active: bool = True


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    name: str
    title: str = ""  # 职务
    email: str = ""
    phone: str = ""
    department_id: int | None = Field(default=None, foreign_key="department.id")
    school_id: int | None = Field(default=None, foreign_key="school.id")  # a school's own person (web log-ins)
    group_role: str | None = None  # 组长 / 副组长 / 成员 in the leading group
    is_office: bool = False  # a person of the 办公室: may verify (销号) and return (退回)
    is_contact: bool = False  # a contact of department_id: receives its notices
    active: bool = True


class School(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    key: str  # 学校标识码, else the name
    name: str
    school_type: str
    township: str | None = None
    township_department_id: int | None = Field(default=None, foreign_key="department.id")
    # who receives the notices of the school's own tasks: the plan's 学校联系人 when it names one
    # (that person may also act on them), else the newest 联系人/联系邮箱 the school sheets gave
    contact_name: str = ""
    contact_email: str = ""
