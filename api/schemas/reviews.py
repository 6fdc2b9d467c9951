"""The API's models of reviews (市级复评, 省级评估, 国家审核认定, 县级督查) and their findings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Out, text
from tracker.reviews.service import FINDING_TEXT_MAX, NOTE_MAX, ROUND_MAX, SCOPE_MAX, TEAM_MAX

UnitName = text(100, 1)
Level = text(16, 1)
PhaseName = text(64)
RoundName = text(ROUND_MAX)
Team = text(TEAM_MAX)
Scope = text(SCOPE_MAX)
FindingText = text(FINDING_TEXT_MAX, 1)
Indicator = text(16)
Verdict = text(8, 1)
Note = text(NOTE_MAX)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReviewIn(_In):
    level: Level = Field(description="级别：市级、省级、国家 或 县级督查")
    held_on: dt.date | None = Field(default=None, description="日期 YYYY-MM-DD")
    phase: PhaseName | None = Field(default=None, description="所属阶段的编号或名称；不写则按级别（县级督查：当前阶段）")
    round_name: RoundName = Field(default="", description="县级督查的轮次，如 第一轮；不写则按顺序编号")
    team: Team = Field(default="", description="督查组名称及成员")
    scope: Scope = Field(default="", description="督查范围")


class FindingIn(_In):
    seq: int | None = Field(default=None, ge=1, le=100_000, description="序号；不写则接续已录入的")
    text: FindingText = Field(description="问题描述")
    indicator: Indicator | None = Field(default=None, description="对应指标编号")
    lead: UnitName = Field(description="牵头责任单位：单位名称、简称或本县学校名称")
    cooperating: list[UnitName] = Field(default=[], max_length=20, description="配合单位")
    due_on: dt.date = Field(description="整改时限 YYYY-MM-DD")


class FindingsIn(_In):
    findings: Annotated[list[FindingIn], Field(min_length=1, max_length=500, description="反馈问题，整批校验")]


class VerdictIn(_In):
    verdict: Verdict = Field(description="结论：通过、不通过 或 有条件通过")
    note: Note = ""


class ReviewOut(Out):
    id: int
    level: str
    label: str  # 市级, or 县级督查第一轮
    phase_id: int
    phase: str  # the phase's name
    held_on: dt.date | None
    round_name: str
    team: str
    scope: str
    verdict: str | None
    verdict_at: dt.datetime | None
    verdict_needed: bool  # a review above the county still waiting for its verdict
    findings: int
    open_tasks: int  # rectification tasks of its findings not yet 已销号 or 已撤销
