"""Bodies and answers of the 示范校 programme's API (issue 15 §1)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Name = Field(min_length=1, max_length=100)
Reason = Field(min_length=1, max_length=2000)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicationIn(_In):
    school: str | None = Field(None, max_length=100, description="学校名称；学校账号可不写（本校）")
    scores: dict[str, float] = Field(description="自评：类别编号 → 分数")
    reasons: str = Reason


class NominationIn(_In):
    school: str = Name
    unit: str = Field(min_length=1, max_length=100, description="圈定的科室")
    reasons: str = Reason


class ReviewIn(_In):
    school: str = Name
    passed: bool = Field(description="复核达标（true）或驳回（false）")
    reason: str = Reason


class PublicityIn(_In):
    subject: Literal["seeds", "results"] = Field(description="seeds 标杆种子校名单 / results 验收成绩")
    starts_on: dt.date
    ends_on: dt.date


class ObjectionIn(_In):
    subject: Literal["seeds", "results"]
    school: str | None = Field(None, max_length=100)
    text: str = Reason


class ResolutionIn(_In):
    upheld: bool
    resolution: str = Reason


class ScoreIn(_In):
    round: str = Field(min_length=1, max_length=64, description="评分编号")
    member: str | None = Field(None, max_length=100, description="评审组成员；成员本人可不写，办公室代录时必填")
    school: str = Name
    points: dict[str, float] = Field(description="类别编号 → 分数")


class PromotionIn(_In):
    school: str = Name
    practices: list[str] = Field(max_length=50, description="可复制经验所属的类别编号")


class PairingIn(_In):
    mentor: str = Name
    schools: list[str] = Field(min_length=1, max_length=50)


class PairingTaskIn(_In):
    school: str = Field(min_length=1, max_length=100, description="帮扶组中的潜力校")
    title: str = Field(min_length=1, max_length=200, description="帮扶事项")
    due_on: dt.date = Field(description="完成时限")


class PairingReportIn(_In):
    school: str | None = Field(None, max_length=100, description="学校账号可不写（本校）")
    text: str = Reason


class AwardIn(_In):
    action: Literal["compute", "confirm", "revoke"]
    school: str | None = Field(None, max_length=100, description="confirm、revoke 时必填")
    category: str | None = Field(None, max_length=16, description="confirm 时可写：规则允许的类别")
    reason: str | None = Field(None, max_length=2000, description="revoke（撤销表彰确认）时必填：理由")


class EntryOut(BaseModel):
    route: str
    status: str
    reasons: str
    self_assessment: dict[str, float]
    review_reason: str


class SchoolLineOut(BaseModel):
    school: str
    role: str = Field(description="标杆种子校 / 导师型学校 / 潜力校")
    entry: EntryOut | None
    totals: dict[str, float] = Field(description="评分编号 → 汇总得分（可见时）")
    award: str | None
    award_confirmed: bool


class ScoreOut(BaseModel):
    round: str
    school: str
    criterion: str
    points: float


class ProgrammeOut(BaseModel):
    campaign: str
    name: str
    scores_visible: bool = Field(description="验收成绩公示已开始：学校可看到本校得分")
    schools: list[SchoolLineOut]
    my_scores: list[ScoreOut] = Field(description="评审组成员本人打的分")
