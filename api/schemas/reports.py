"""The API's models of the 自评报告's texts (issue 13 §1)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import text
from tracker.reports.texts import TEXT_LIMIT

SectionText = text(TEXT_LIMIT, 1)


class ReportTextIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: SectionText = Field(description="该部分的文字（生成报告时合并进去）")


class ReportTextOut(BaseModel):
    section: str = Field(description="部分")
    name: str = Field(description="部分的名称")
    text: str = Field(description="文字；未填写时为【待填写】")
    filled: bool = Field(description="办公室是否已填写")
    updated_by: str = ""
    updated_at: dt.datetime | None = None
