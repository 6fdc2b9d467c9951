"""A school's own data row, sent from the web, through the office into the county data.

The seeds make truthful data a veto (弄虚作假一票否决), so every figure must say who entered it
and who approved it:

1. ``receive_school_row``: a school sends a sheet with its own row only. It is checked like any
   sheet (every problem by row and column) and stored as a submission of that school
   (``school_id`` set, status ``imported``). It is never assessed on its own.
2. ``approve_submission``: the office approves it. The school's row and the rest of the latest
   county data become a new county submission (status ``approved``) whose rows each point to the
   submission their figures were entered in (``SchoolDataRow.source_submission_id``). That
   submission's ``submission.imported`` event makes the dispatcher reassess.
3. ``return_submission``: the office returns it with a reason; nothing changes in the county data.

Functions take a session first and never commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from tracker.db import utcnow
from tracker.events.service import record_event
from tracker.org.models import Campaign, School
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.standards.records import SchoolRecord
from tracker.schooldata.sheet import SheetError, SheetProblem, read_school_sheet
from tracker.schooldata.submissions import json_safe, latest_submission, upsert_school
from tracker.errors import ErrorKind, JunhengError

IMPORTED = "imported"
APPROVED = "approved"
RETURNED = "returned"
STATUS_NAMES = {IMPORTED: "待审核", APPROVED: "已审核", RETURNED: "已退回"}


class SubmissionError(JunhengError, ValueError, kind=ErrorKind.conflict):
    """A submission that cannot be received, approved or returned as asked (Chinese message)."""


def status_name(submission: DataSubmission) -> str:
    if submission.school_id is None and submission.status == IMPORTED:
        return "已导入"  # county data imported by the office (CLI or web)
    return STATUS_NAMES.get(submission.status, submission.status)


def receive_school_row(session: Session, campaign: Campaign, school: School, data: bytes, filename: str,
                       actor: str, actor_id: int | None = None, label: str = "") -> DataSubmission:
    """Store a school's own row, waiting for the office. Raises ``SheetError`` with every problem
    (a wrong or second school's row is a problem of its row too); stores nothing then."""
    records = read_school_sheet(data, filename)
    problems = [
        SheetProblem(r.row, "学校标识码" if r.school_code else "学校名称",
                     f"第 {r.row} 行：「{r.name}」（{r.key}）不是本校，只能报送本校「{school.name}」（{school.key}）的数据")
        for r in records if r.key != school.key
    ]
    if not problems and len(records) != 1:
        problems.append(SheetProblem(None, None, f"表中应只有本校一行数据，现有 {len(records)} 行"))
    if problems:
        raise SheetError(filename, problems)
    record = records[0]
    submission = DataSubmission(
        campaign_id=campaign.id,
        label=label or f"{school.name} 报送",
        source_filename=Path(filename).name,
        sha256=hashlib.sha256(data).hexdigest(),
        submitted_by=actor,
        status=IMPORTED,
        school_count=1,
        school_id=school.id,
    )
    session.add(submission)
    session.flush()
    session.add(SchoolDataRow(submission_id=submission.id, school_key=record.key, row=record.row,
                              data=json_safe(dataclasses.asdict(record))))
    session.flush()
    # not submission.imported: that would make the dispatcher assess one school on its own
    record_event(session, type="submission.received", actor=actor, actor_id=actor_id, campaign_id=campaign.id,
                 payload={"submission_id": submission.id, "school_id": school.id, "school": school.name,
                          "filename": submission.source_filename})
    return submission


def _pending(submission: DataSubmission, verb: str) -> None:
    if submission.status != IMPORTED:
        raise SubmissionError(f"数据批次 #{submission.id} 当前为「{status_name(submission)}」，不能{verb}")


def approve_submission(session: Session, campaign: Campaign, submission: DataSubmission, actor: str,
                       actor_id: int | None = None, *, at: dt.datetime | None = None) -> DataSubmission:
    """Approve a submission. For a school's row, returns the new county submission it was merged
    into; for county data, the submission itself (marked approved)."""
    if submission.campaign_id != campaign.id:
        raise SubmissionError(f"数据批次 #{submission.id} 不属于创建工作「{campaign.name}」")
    _pending(submission, "审核通过")
    base = latest_submission(session, campaign) if submission.school_id is not None else None
    if submission.school_id is not None and base is None:
        raise SubmissionError("全县还没有导入学校数据，无法并入本校数据：请先由办公室导入全县学校数据表")
    now = at or utcnow()
    submission.status = APPROVED
    submission.approved_by = actor
    submission.approved_at = now
    session.add(submission)
    if submission.school_id is None:
        session.flush()
        record_event(session, type="submission.approved", actor=actor, actor_id=actor_id, campaign_id=campaign.id,
                     payload={"submission_id": submission.id})
        return submission

    school_row = session.exec(select(SchoolDataRow).where(SchoolDataRow.submission_id == submission.id)).one()
    school = session.get(School, submission.school_id)
    merged = DataSubmission(
        campaign_id=campaign.id,
        label=f"并入{school.name}报送数据（批次 #{submission.id}）",
        source_filename=submission.source_filename,
        sha256=submission.sha256,
        submitted_by=submission.submitted_by,
        status=APPROVED,
        approved_by=actor,
        approved_at=now,
        based_on_id=base.id,
    )
    session.add(merged)
    session.flush()
    rows = list(session.exec(select(SchoolDataRow).where(SchoolDataRow.submission_id == base.id)
                             .order_by(SchoolDataRow.row)))
    replaced = False
    for row in rows:
        if row.school_key == school_row.school_key:
            replaced = True
            session.add(SchoolDataRow(submission_id=merged.id, school_key=row.school_key, row=row.row,
                                      data=school_row.data, source_submission_id=submission.id))
        else:
            session.add(SchoolDataRow(submission_id=merged.id, school_key=row.school_key, row=row.row,
                                      data=row.data, source_submission_id=row.source_submission_id or base.id))
    if not replaced:  # a school new to the county data: appended
        last_row = max((r.row for r in rows), default=1)
        session.add(SchoolDataRow(submission_id=merged.id, school_key=school_row.school_key, row=last_row + 1,
                                  data=school_row.data, source_submission_id=submission.id))
    merged.school_count = len(rows) + (0 if replaced else 1)
    session.add(merged)
    fields = {f.name for f in dataclasses.fields(SchoolRecord)}
    upsert_school(session, campaign, SchoolRecord(**{k: v for k, v in school_row.data.items() if k in fields}))
    session.flush()
    record_event(session, type="submission.approved", actor=actor, actor_id=actor_id, campaign_id=campaign.id,
                 payload={"submission_id": submission.id, "school_id": submission.school_id,
                          "merged_into": merged.id})
    # the county data changed: the dispatcher reassesses this submission (flows.dispatcher)
    record_event(session, type="submission.imported", actor=actor, actor_id=actor_id, campaign_id=campaign.id,
                 payload={"submission_id": merged.id, "label": merged.label, "filename": merged.source_filename,
                          "sha256": merged.sha256, "schools": merged.school_count, "based_on": base.id,
                          "school_submission_id": submission.id})
    return merged


def return_submission(session: Session, campaign: Campaign, submission: DataSubmission, actor: str, reason: str,
                      actor_id: int | None = None) -> DataSubmission:
    if submission.campaign_id != campaign.id:
        raise SubmissionError(f"数据批次 #{submission.id} 不属于创建工作「{campaign.name}」")
    _pending(submission, "退回")
    reason = (reason or "").strip()
    if not reason:
        raise SubmissionError(f"退回数据批次 #{submission.id} 必须说明原因")
    submission.status = RETURNED
    submission.returned_reason = reason
    session.add(submission)
    session.flush()
    record_event(session, type="submission.returned", actor=actor, actor_id=actor_id, campaign_id=campaign.id,
                 payload={"submission_id": submission.id, "school_id": submission.school_id, "reason": reason})
    return submission


@dataclass(frozen=True)
class Provenance:
    """Who entered a school's figures and who approved them."""

    submission: DataSubmission  # where the figures were entered
    entered_by: str
    entered_at: dt.datetime
    approved_by: str
    approved_at: dt.datetime | None
    via: DataSubmission | None  # the county submission it reached the assessment through


def provenance(session: Session, submission: DataSubmission, school_key: str) -> Provenance | None:
    """Trace one school's row of a county submission back to where it was entered."""
    row = session.exec(select(SchoolDataRow).where(SchoolDataRow.submission_id == submission.id,
                                                   SchoolDataRow.school_key == school_key)).first()
    if row is None:
        return None
    origin = session.get(DataSubmission, row.source_submission_id) if row.source_submission_id else submission
    origin = origin or submission
    approved_by = origin.approved_by or (submission.approved_by if origin is not submission else "")
    approved_at = origin.approved_at or (submission.approved_at if origin is not submission else None)
    return Provenance(submission=origin, entered_by=origin.submitted_by, entered_at=origin.submitted_at,
                      approved_by=approved_by, approved_at=approved_at,
                      via=submission if origin is not submission else None)


def import_county_data(session: Session, campaign: Campaign, data: bytes, filename: str, actor: str,
                       label: str = "") -> DataSubmission:
    """The office's upload of the whole county sheet: imported as ``junheng data import`` does
    (its ``submission.imported`` event makes the dispatcher assess it), and approved by the
    office member who uploaded it. ``SheetError`` propagates; nothing is stored then."""
    import tempfile

    from tracker.schooldata.submissions import import_submission

    # the upload layer gave a cleaned display name; here it only must stay inside the temp folder
    name = Path((filename or "").replace("\\", "/")).name
    if name in ("", ".", ".."):
        name = "学校数据.xlsx"
    with tempfile.TemporaryDirectory(prefix="junheng-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        submission = import_submission(session, campaign, path, actor, label=label)
    submission.status = APPROVED
    submission.approved_by = actor
    submission.approved_at = submission.submitted_at
    session.add(submission)
    session.flush()
    return submission
