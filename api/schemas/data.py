from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Out


class SubmissionOut(Out):
    """A data submission and who stands behind it (the seeds make false data a veto)."""

    id: int
    label: str
    source_filename: str
    sha256: str
    submitted_at: dt.datetime
    submitted_by: str = Field(description="填报人")
    status: str = Field(description="imported 已导入 / 待审核，approved 已审核，returned 已退回")
    approved_by: str = Field(description="审核人；未审核为空")
    approved_at: dt.datetime | None
    school_count: int
    school_id: int | None = Field(description="学校报送的本校一行：报送学校；全县数据为空")
    returned_reason: str = Field(description="退回原因")
    based_on_id: int | None = Field(description="审核学校报送而形成的全县数据：所依据的上一批全县数据")


class DataRowOut(Out):
    school_key: str
    row: int
    data: dict[str, Any]
    source_submission_id: int | None = Field(
        description="该行数据实际填报所在的批次（学校报送经审核并入时）；为空表示就在本批次填报")


class AssessmentOut(Out):
    id: int
    submission_id: int
    standard_id: str
    created_at: dt.datetime
    ok: bool | None


class RedatedTaskOut(BaseModel):
    task_id: int
    title: str
    planned_due_on: dt.date = Field(description="原定时限（任务建立时已过）")
    due_on: dt.date = Field(description="顺延后的办理时限")
    working_days: int = Field(description="顺延的工作日数")


class AssessmentDetailOut(AssessmentOut):
    result: dict[str, Any]
    redated: list[RedatedTaskOut] = Field(
        default_factory=list, description="据本次评估新建、建立时原定时限已过而顺延的任务（逾期顺延工作日）")


class ShortfallOut(Out):
    id: int
    assessment_id: int
    key: str
    kind: str
    indicator: str
    stage: str | None
    school_id: int | None
    actual: float | None
    required: float | None
    missing: float | None
    unit: str
    text: str
    blocking: bool
    departments: list[str]
