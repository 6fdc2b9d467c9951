from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

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
    # 交办 and 退回 (issue 12)
    source: str = Field("", description="事项来源（办公室交办的任务）：领导批示、会议决定、上级交办、督查发现、方案任务、其他")
    source_ref: str = Field("", description="来源文号，或会议名称和日期")
    evidence_required: bool = Field(False, description="提交前须上传佐证材料")
    recurrence: str | None = Field(None, description="重复规则：monthly:<日> 或 weekly:<1–7>；不重复为空")
    return_reason: str | None = Field(None, description="已退回：最近一次退回的原因，重新提交后清空")
    returned_at: dt.datetime | None = Field(None, description="最近一次退回的时间（已退回时）")

    @computed_field(description="已退回：办公室退回后尚未重新提交")
    @property
    def returned(self) -> bool:
        return self.return_reason is not None


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


# -- 交办 (issue 12 §1) -------------------------------------------------------------------------

SourceName = Literal["领导批示", "会议决定", "上级交办", "督查发现", "方案任务", "其他"]


class TaskCreateIn(_In):
    """A task the office assigns (交办). ``lead`` and ``cooperating`` are unit names, 简称 or
    aliases (a school by its name may lead); ``phase`` a phase name or code, null: the current one."""

    title: text(200, min_length=1) = Field(description="任务名称")
    source: SourceName = Field("其他", description="事项来源")
    source_ref: text(500) = Field("", description="来源文号，或会议名称和日期")
    measures: text(4000) = Field("", description="措施/要求")
    lead: text(200, min_length=1) = Field(description="牵头单位（全称、简称或别名；或学校名称）")
    cooperating: list[text(200)] = Field(default_factory=list, max_length=100, description="配合单位")
    phase: text(64) | None = Field(None, description="阶段名称或代码；不填为当前阶段")
    due_on: dt.date = Field(description="完成时限 YYYY-MM-DD")
    evidence_required: bool = Field(False, description="提交前须上传佐证材料")
    indicator: text(32) | None = Field(None, description="对应的指标代码（选填）")
    recurrence: text(32) | None = Field(None, description="重复：「每月 25 日」或「每周五」；到期后自动交办下一期")


class TaskEditIn(_In):
    """The office's change to a task it assigned; the fields not sent stay as they are."""

    reason: Reason = Field(description="调整原因（必填）")
    title: text(200, min_length=1) | None = None
    measures: text(4000) | None = None
    lead: text(200, min_length=1) | None = None
    cooperating: list[text(200)] | None = Field(None, max_length=100)
    due_on: dt.date | None = None


class TasklistImportOut(BaseModel):
    created: list[int] = Field(description="新建任务的编号")
    unchanged: int = Field(description="已导入过、未重复创建的行数")
