"""Log-ins of the web application: a user belongs to one campaign and has one role."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class UserRole(str, Enum):
    office = "office"  # 领导小组办公室: full control of its campaign
    department = "department"  # a responsible unit (责任单位): its own tasks
    school = "school"  # a school: its own data and tasks (一校一案)
    reviewer = "reviewer"  # 评估人员 (city, province, nation): reads, changes nothing
    region = "region"  # 市/省 督导 (issue 15): reads every county of its region, changes only its own


ROLE_NAMES = {
    UserRole.office: "办公室",
    UserRole.department: "责任单位",
    UserRole.school: "学校",
    UserRole.reviewer: "评估人员",
    UserRole.region: "市/省督导",
}


class User(SQLModel, table=True):
    """A log-in. ``username`` is unique across the store, so the login form needs no campaign.

    ``department_id`` binds a department user (and optionally an office user) to its unit,
    ``school_id`` a school user to its school; ``person_id`` optionally names the person of the
    plan the user acts as (the event log then names that person)."""

    __tablename__ = "account"  # "user" is a reserved word in PostgreSQL
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    username: str = Field(index=True, unique=True, max_length=64)
    name: str  # shown on pages and in the event log when no person is linked
    role: UserRole = Field(sa_type=String(16))
    department_id: int | None = Field(default=None, foreign_key="department.id")
    school_id: int | None = Field(default=None, foreign_key="school.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    # a region account's city or province; its campaign_id is the county it looks at by default
    region_id: int | None = Field(default=None, foreign_key="region.id")
    password_hash: str  # argon2id, with its parameters
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # failed logins are counted in LoginThrottle, by the name typed: unknown names alike


class ApiToken(SQLModel, table=True):
    """A bearer token of the API. Only its SHA-256 is stored: a leaked table gives no token."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A page session (the login cookie). The cookie carries a random token; only its SHA-256 is
    stored. Logging out deletes the row, so a copied cookie stops working at once; so do a new
    password and disabling the user (all the user's rows go). A session also ends after
    ``session_idle_hours`` without a request and ``session_max_days`` after the login."""

    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="account.id", index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_seen_at: dt.datetime = Field(sa_type=UTCDateTime)  # refreshed at most every few minutes


OVERALL = "*"  # LoginThrottle.source of the row counting a name's failures from every address


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one user name (as typed, known or not) from one source address; the row
    with source ``OVERALL`` counts them from all addresses (tracker.accounts.throttle)."""

    __tablename__ = "login_throttle"
    username: str = Field(primary_key=True, max_length=64)
    source: str = Field(primary_key=True, max_length=64)
    failed_count: int = 0  # attempts since the last success, counted before the password is checked
    last_failed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
