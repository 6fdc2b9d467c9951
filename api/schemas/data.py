from __future__ import annotations

import datetime as dt
from typing import Any

from api.schemas.common import Out


class SubmissionOut(Out):
    id: int
    label: str
    source_filename: str
    sha256: str
    submitted_at: dt.datetime
    submitted_by: str
    status: str
    approved_by: str
    approved_at: dt.datetime | None
    school_count: int


class DataRowOut(Out):
    school_key: str
    row: int
    data: dict[str, Any]


class AssessmentOut(Out):
    id: int
    submission_id: int
    standard_id: str
    created_at: dt.datetime
    ok: bool | None


class AssessmentDetailOut(AssessmentOut):
    result: dict[str, Any]


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
