"""The bodies and answers of the office's 督办 moves (issue 12 §2–3, api/v1/task_moves.py)."""

from __future__ import annotations

import datetime as dt

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Out, text
from tracker.tasks.models import ExtensionStatus

Reason = text(2000, min_length=1)
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Note = text(2000)
UnitName = text(200, min_length=1)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ExtensionIn(In):
    due_on: dt.date = Field(description="申请延至（YYYY-MM-DD），须晚于当前截止日期")
    reason: Reason = Field(description="申请理由（必填）")


class DecisionIn(In):
    note: Note = Field(default="", description="审批意见")


class RefusalIn(In):
    reason: Reason = Field(description="不同意的原因（必填）")


class ExtensionOut(Out):
    id: int
    task_id: int
    status: ExtensionStatus
    due_from: dt.date
    due_on: dt.date
    reason: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str


class RedateIn(In):
    due_on: dt.date = Field(description="新的截止日期（YYYY-MM-DD）")
    reason: Reason = Field(description="调整原因（必填）")


class TransferIn(In):
    lead: UnitName = Field(description="新的牵头单位：单位名称、简称或学校名称")
    reason: Reason = Field(description="转办原因（必填）")


class SubTaskIn(In):
    title: text(500, min_length=1) = Field(description="子任务标题")
    lead: UnitName = Field(description="责任单位：单位名称、简称或学校名称")
    due_on: dt.date = Field(description="截止日期，不晚于上级任务")
    measures: text(2000) = ""


class SplitIn(In):
    children: list[SubTaskIn] = Field(min_length=1, max_length=500, description="子任务")


class CooperatorReportIn(In):
    percent: int = Field(ge=0, le=100, description="本单位配合事项的进度")
    note: Note = Field(default="", description="进展说明")
    evidence_id: Id | None = Field(default=None, description="本任务的佐证材料编号")


class CooperatorReportOut(Out):
    id: int
    task_id: int
    department_id: int
    percent: int
    note: str
    evidence_id: int | None
    reported_by: str
    reported_at: dt.datetime


class ChaseIn(In):
    note: Note = Field(default="", description="催办要求")


class ChaseOut(BaseModel):
    task_id: int
    department_id: int
    unit: str
    occurrence: int = Field(description="第几次催办配合单位")
    recipients: int = Field(description="通知送达的联系人数")


class BatchAcceptIn(In):
    task_ids: list[Id] = Field(min_length=1, max_length=500, description="要签收的任务编号")


class RefusedOut(BaseModel):
    task_id: int
    reason: str


class BatchAcceptOut(BaseModel):
    accepted: list[int] = Field(description="已签收的任务")
    refused: list[RefusedOut] = Field(description="未能签收的任务及原因")
