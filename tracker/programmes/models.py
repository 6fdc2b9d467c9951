"""Tables of a school programme (示范校, issue 15 §1). The programme is a campaign of kind
``school-programme``: its units, people, schools, tasks, accounts and events are the campaign's
own; these tables hold what only a programme has."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow

PROGRAMME_KIND = "school-programme"
COUNTY_KIND = "county"


class EntryRoute(str, Enum):
    nominated = "nominated"  # a section proposed the school (圈定)
    applied = "applied"  # the school applied itself (自评可进入的学校提出申请)


class EntryStatus(str, Enum):
    nominated = "nominated"  # on the list, awaiting 公示
    applied = "applied"  # awaiting 复核
    passed = "passed"  # 复核达标: on the list
    refused = "refused"  # 复核不达标: 驳回
    removed = "removed"  # taken off the list: an objection to it upheld during the seed list's 公示


ENTRY_STATUS_NAMES = {"nominated": "科室圈定", "applied": "待复核", "passed": "复核达标", "refused": "驳回",
                      "removed": "异议成立，移出名单"}


class Tier(str, Enum):
    seed = "seed"  # 标杆种子校
    mentor = "mentor"  # 导师型学校


class ProgrammeEntry(SQLModel, table=True):
    """A school's candidacy as 标杆种子校: nominated by a section or applied for by the school.
    One per school: a school that applied (or was refused) cannot apply again."""

    __tablename__ = "programme_entry"
    __table_args__ = (UniqueConstraint("campaign_id", "school_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    school_id: int = Field(foreign_key="school.id")
    route: EntryRoute = Field(sa_type=String(16))
    status: EntryStatus = Field(sa_type=String(16))
    tier: Tier | None = Field(default=None, sa_type=String(16))  # set while the school is on the list
    department_id: int | None = Field(default=None, foreign_key="department.id")  # the nominating section
    reasons: str = ""
    self_assessment: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    practices: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # 可复制经验 (category codes)
    review_reason: str = ""
    reviewed_by: str = ""
    reviewed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Publicity(SQLModel, table=True):
    """A 公示: the seed list or the results, from one day to another (Beijing dates)."""

    __tablename__ = "programme_publicity"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    subject: str = Field(sa_type=String(16))  # seeds | results
    starts_on: dt.date
    ends_on: dt.date
    opened_by: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Objection(SQLModel, table=True):
    """An objection raised during a 公示, and how the office resolved it."""

    __tablename__ = "programme_objection"
    id: int | None = Field(default=None, primary_key=True)
    publicity_id: int = Field(foreign_key="programme_publicity.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id")  # the school objected to
    text: str
    raised_by: str = ""
    raised_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolution: str | None = None
    upheld: bool | None = None
    resolved_by: str = ""
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class PanelScore(SQLModel, table=True):
    """One panel member's score of one school on one criterion in one scoring round."""

    __tablename__ = "programme_score"
    __table_args__ = (UniqueConstraint("campaign_id", "round", "person_id", "school_id", "criterion"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    round: str = Field(sa_type=String(64))
    person_id: int = Field(foreign_key="person.id")
    school_id: int = Field(foreign_key="school.id", index=True)
    criterion: str = Field(sa_type=String(64))
    points: float
    scored_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Pairing(SQLModel, table=True):
    """A 1+X group: a 导师型学校 and the potential schools it helps."""

    __tablename__ = "programme_pairing"
    __table_args__ = (UniqueConstraint("campaign_id", "mentor_school_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    mentor_school_id: int = Field(foreign_key="school.id")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PairingMember(SQLModel, table=True):
    """A potential school of a pairing; a school is in one pairing at most."""

    __tablename__ = "programme_pairing_member"
    school_id: int = Field(foreign_key="school.id", primary_key=True)
    pairing_id: int = Field(foreign_key="programme_pairing.id", index=True)


class PairingTask(SQLModel, table=True):
    """A task of a pairing (the campaign's own task: reminders, evidence and events apply)."""

    __tablename__ = "programme_pairing_task"
    task_id: int = Field(foreign_key="task.id", primary_key=True)
    pairing_id: int = Field(foreign_key="programme_pairing.id", index=True)


class PairingReport(SQLModel, table=True):
    """A progress report of a pairing (帮扶提升情况), by the mentor or a potential school."""

    __tablename__ = "programme_pairing_report"
    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(foreign_key="programme_pairing.id", index=True)
    school_id: int = Field(foreign_key="school.id")
    text: str
    reported_by: str = ""
    reported_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Award(SQLModel, table=True):
    """A school's award as computed from the rules, and the office's confirmation."""

    __tablename__ = "programme_award"
    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    school_id: int = Field(foreign_key="school.id", primary_key=True)
    category: str = Field(sa_type=String(16))  # 贡献校 | 标兵校 | 进步校 | 达标校 | 一票否决
    role: str = Field(sa_type=String(16))  # the programme role it was computed for
    score: float | None = None
    computed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_by: str = ""
    confirmed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
