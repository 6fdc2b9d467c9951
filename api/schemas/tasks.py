from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Out, text
from tracker.tasks.models import TaskOrigin, TaskStatus

Action = Literal["accept", "progress", "submit", "verify", "return", "withdraw"]
LightValue = Literal["绿", "黄", "红"]
Note = text(2000)
Reason = text(2000, min_length=1)


class PendingExtensionOut(Out):
    id: int
    due_from: dt.date = Field(description="申请时的截止日期")
    due_on: dt.date = Field(description="申请延至")
    reason: str
    requested_by: str
    requested_at: dt.datetime


class TaskOut(Out):
    id: int
    campaign_id: int
    phase_id: int
    title: str
    measures: str
    indicator: str | None
    school_id: int | None = Field(description="任务涉及的学校（一校一案）")
    department_id: int | None = Field(description="责任单位（部门）")
    responsible_school_id: int | None = Field(description="责任单位（学校自身）")
    unit_name: str = Field(description="责任单位名称")
    cooperating: list[int] = Field(description="配合单位")
    assignee_id: int | None
    due_on: dt.date
    planned_due_on: dt.date | None = Field(
        description="原定时限：任务建立时（或方案调整后）方案给的日期已过，保留于此，due_on 为顺延后的办理时限；未顺延则为空")
    status: TaskStatus
    progress: int
    notes: str
    origin: TaskOrigin
    origin_key: str
    resolved_by_assessment_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    submitted_at: dt.datetime | None
    verified_at: dt.datetime | None
    overdue: bool
    days_overdue: int = Field(description="逾期工作日数")
    light: LightValue | None = Field(description="绿/黄/红；已撤销的任务没有")
    actions: list[Action] = Field(description="当前用户此刻可以进行的操作")
    # issue 12 §2–3 (api/v1/task_moves.py)
    parent_id: int | None = Field(default=None, description="分解：上级任务编号")
    pending_extension: PendingExtensionOut | None = Field(default=None, description="待审批的延期申请")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProgressIn(_In):
    percent: int = Field(ge=0, le=100, description="进度百分比")
    note: Note = ""


class NoteIn(_In):
    note: Note = ""


class ReasonIn(_In):
    reason: Reason = Field(description="原因（必填）")


class EvidenceOut(Out):
    id: int
    task_id: int
    filename: str
    sha256: str
    size: int
    content_type: str
    uploaded_by: str
    uploaded_at: dt.datetime


class UnitLightOut(BaseModel):
    unit_kind: Literal["department", "school"]
    unit_id: int
    unit_name: str
    light: LightValue
    red: int
    yellow: int
    green: int
