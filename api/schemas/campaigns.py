from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from api.schemas.common import Out
from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.org.models import PhaseStatus


class CampaignOut(Out):
    id: int
    code: str
    name: str
    county: str
    standard_id: str
    created_at: dt.datetime


class PhaseOut(Out):
    id: int
    code: str
    name: str
    kind: PhaseKind
    ordinal: int
    starts_on: dt.date | None
    gate_on: dt.date | None  # None: 以上级通知为准
    status: PhaseStatus
    passed_at: dt.datetime | None
    note: str
    total_tasks: int
    open_tasks: int
    days_left: int | None  # working days to the gate (negative once past); None without a gate date
    verdict_needed: bool  # a review phase still waiting for its verdict


class DepartmentOut(Out):
    id: int
    name: str
    short_name: str
    kind: UnitKind
    active: bool


class SchoolOut(Out):
    id: int
    key: str
    name: str
    school_type: str
    township: str | None


class UnitFigures(BaseModel):
    name: str
    total: int
    done: int
    overdue: int


class TaskFigures(BaseModel):
    total: int
    by_status: dict[str, int]
    overdue: int


class CampaignStatusOut(BaseModel):
    """The figures of ``junheng campaign status --json``."""

    campaign: str
    phase: str | None
    gate_date: dt.date | None
    tasks: TaskFigures
    departments: list[UnitFigures]


class FindingOut(Out):
    id: int
    review_id: int
    seq: int
    text: str
    indicator: str | None
    department_id: int | None
    school_id: int | None
    due_on: dt.date
    created_at: dt.datetime
    task_id: int | None  # the rectification task made from it
    review_level: str | None = None  # 市级 / 省级 / 国家 / 县级督查
    review_label: str | None = None  # 市级, or 县级督查第一轮
