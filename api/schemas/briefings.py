"""调度通报 as the API gives them: a summary for lists, and with its stored figures for one."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from api.schemas.common import Out
from tracker.briefings.compute import BriefingData


class BriefingOut(Out):
    id: int
    number: int = Field(description="期数")
    iso_week: str = Field(description="周次，如 2026-W48")
    period_start: dt.date
    period_end: dt.date
    issued_on: dt.date = Field(description="印发日期（重新生成不变）")
    as_of: dt.datetime = Field(description="数据截至（UTC）")
    issues: int = Field(description="生成次数（含重新生成）")
    has_docx: bool
    has_pdf: bool
    updated_at: dt.datetime


class BriefingDetailOut(BriefingOut):
    data: BriefingData = Field(description="印发时的各项数据（不重新计算）")
