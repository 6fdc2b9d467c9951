"""考核 as the API gives it, and the 通报 the office issues."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tracker.appraisal.service import REASON_MAX


class AppraisalRowOut(BaseModel):
    kind: Literal["department", "school"] = Field(description="department 责任单位 / school 学校")
    unit_id: int
    name: str
    short_name: str
    due: int = Field(description="应完成（期间内到期的任务，不含已撤销）")
    on_time: int = Field(description="按时完成")
    late: int = Field(description="逾期完成")
    overdue: int = Field(description="当前逾期")
    verified: int = Field(description="已销号")
    returned: int = Field(description="退回次数（期间内）")
    extensions_requested: int = Field(description="申请延期（期间内）")
    extensions_granted: int = Field(description="同意延期（期间内）")
    escalations: int = Field(description="督办单（期间内）")
    mean_days_late: float | None = Field(description="平均逾期工作日")
    on_time_rate: float | None
    completion_rate: float | None = Field(description="销号率")
    score: float | None = Field(description="得分（无应完成任务时为空）")
    rank: int | None = Field(description="名次（责任单位、学校分别排名）")


class AppraisalRuleOut(BaseModel):
    full_marks: float = Field(description="满分")
    on_time_points: float = Field(description="按时完成每项加分")
    late_done_points: float = Field(description="逾期完成每项扣分")
    overdue_points: float = Field(description="当前逾期每项扣分")
    returned_points: float = Field(description="退回每次扣分")
    escalation_points: float = Field(description="督办单每份扣分")
    rank_by: Literal["on_time_rate", "score"] = Field(description="排名依据：按时率 / 得分")


class AppraisalOut(BaseModel):
    campaign: str
    start: dt.date = Field(description="考核期间第一天")
    end: dt.date = Field(description="考核期间最后一天")
    today: dt.date = Field(description="数据截至（北京时间）")
    rule: AppraisalRuleOut
    units: list[AppraisalRowOut] = Field(description="办公室、评估人员见全部；责任单位、学校只见本单位一行")


UnitName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AppraisalNoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["表扬", "批评"] = Field(description="表扬 或 批评")
    units: list[UnitName] = Field(min_length=1, max_length=50, description="被通报的单位或学校名称")
    reason: str = Field(min_length=1, max_length=REASON_MAX, description="通报事由")
