"""School data and what the assessment made of it: data submissions (upload a sheet; its
problems row by row), assessments (the stored JSON result) and shortfalls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, UploadFile, status
from sqlmodel import Session

from api.deps import MAX_ID, CurrentUser, DbSession, UserCampaign
from api.errors import CONFLICT_RESPONSE, TOO_LARGE_RESPONSE, ErrorOut
from api.schemas.common import TEXT_PATTERN, Page, columns_of, text
from api.schemas.data import AssessmentDetailOut, AssessmentOut, DataRowOut, ShortfallOut, SubmissionOut
from api.schemas.tasks import ReasonIn
from tracker.accounts.access import (
    check_reads_county_results,
    check_reads_school_data,
    data_row_clause,
    require_role,
    role_of,
    shortfall_clause,
    submission_clause,
    visible_submission,
)
from tracker.accounts.models import User, UserRole
from tracker.accounts.service import acting_person
from tracker.assessment import queries as assessments
from tracker.assessment.models import AssessmentSnapshot
from tracker.org.models import Campaign, School
from tracker.tasks.reconcile import redated_by_assessment
from tracker.org.service import UnknownName
from tracker.evidence.storage import sanitize_filename
from tracker.schooldata.approval import (
    approve_submission,
    import_county_data,
    receive_school_row,
    return_submission,
)
from tracker.schooldata import queries as schooldata
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.sheet import MAX_BYTES

router = APIRouter(tags=["学校数据与评估"])

SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID, description="数据批次编号")]
AssessmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="评估编号")]
SHEET_SUFFIXES = (".xlsx", ".csv")
NO_SHEET = "没有收到文件：请选择要上传的学校数据表（字段名 file）"
UNSUPPORTED_SHEET = {415: {"model": ErrorOut, "description": "不是 .xlsx 或 .csv 文件（含没有扩展名的文件）"}}


def _school_key(session: Session, user: User) -> str | None:
    if role_of(user) is not UserRole.school or user.school_id is None:
        return None
    school = session.get(School, user.school_id)
    return school.key if school else None


def _load_submission(session: Session, user: User, submission_id: int) -> DataSubmission:
    check_reads_school_data(user)  # before looking the submission up: a unit is refused either way
    return visible_submission(session, user, submission_id)


@router.get("/campaigns/{campaign}/submissions", response_model=list[SubmissionOut], summary="数据批次")
def list_submissions(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> list:
    check_reads_school_data(user)
    return schooldata.submissions(session, campaign.id, submission_clause(user))


@router.post("/campaigns/{campaign}/submissions", response_model=SubmissionOut, status_code=status.HTTP_201_CREATED,
             responses={**TOO_LARGE_RESPONSE, **UNSUPPORTED_SHEET}, summary="上传学校数据表（办公室：全县数据；学校：本校一行，待审核）")
def upload_submission(
    session: DbSession,
    user: CurrentUser,
    campaign: UserCampaign,
    file: Annotated[UploadFile, File(description="学校数据表（.xlsx 或 UTF-8 .csv）")],
    label: Annotated[text(100), Form(description="批次说明，如 自查 2026-12")] = "",
) -> DataSubmission:
    """The office's sheet is the county data: imported (and reassessed by the dispatcher) and
    approved by the office member who sent it. A school's sheet must hold its own row only: it
    waits for the office (status ``imported``, ``school_id`` set) and is not assessed until
    approved. Problems come back row by row (422) and nothing is stored."""
    require_role(user, UserRole.office, UserRole.school, what="上传学校数据")
    if not file.filename:  # an empty file input: browsers send filename=""
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, NO_SHEET)
    filename = sanitize_filename(file.filename)
    if not filename.lower().endswith(SHEET_SUFFIXES):  # no extension or another one: 415, as for evidence
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"文件「{filename}」不是 .xlsx 或 .csv 文件：请用 junheng template 生成的模板填写")
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"文件「{filename}」超过 {MAX_BYTES // (1024 * 1024)} MB，不是一份学校数据表")
    actor = acting_person(session, user)
    if role_of(user) is UserRole.school:
        school = session.get(School, user.school_id)
        submission = receive_school_row(session, campaign, school, data, filename, actor.name,
                                        actor_id=actor.id, label=label.strip())
    else:
        submission = import_county_data(session, campaign, data, filename, actor.name, label=label.strip())
    session.commit()
    return submission


@router.post("/submissions/{submission_id}/approve", response_model=SubmissionOut, responses=CONFLICT_RESPONSE,
             summary="审核通过学校报送的数据（办公室）")
def approve(session: DbSession, user: CurrentUser, submission_id: SubmissionId) -> DataSubmission:
    """A school's row is merged into the latest county data as a new submission (returned here),
    each row recording the submission its figures were entered in; the dispatcher reassesses it.
    County data imported without approval (``junheng data import``) is marked approved. Anything
    not waiting for approval: 409."""
    require_role(user, UserRole.office, what="审核学校数据")
    submission = _load_submission(session, user, submission_id)
    campaign = session.get(Campaign, user.campaign_id)
    actor = acting_person(session, user)
    result = approve_submission(session, campaign, submission, actor.name, actor_id=actor.id)
    session.commit()
    return result


@router.post("/submissions/{submission_id}/return", response_model=SubmissionOut, responses=CONFLICT_RESPONSE,
             summary="退回学校报送的数据（办公室，须说明原因）")
def return_(session: DbSession, user: CurrentUser, submission_id: SubmissionId, body: ReasonIn) -> DataSubmission:
    require_role(user, UserRole.office, what="退回学校数据")
    submission = _load_submission(session, user, submission_id)  # ReasonIn strips: a blank reason is 422
    campaign = session.get(Campaign, user.campaign_id)
    actor = acting_person(session, user)
    returned = return_submission(session, campaign, submission, actor.name, body.reason, actor_id=actor.id)
    session.commit()
    return returned


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, summary="数据批次")
def get_submission(session: DbSession, user: CurrentUser, submission_id: SubmissionId) -> DataSubmission:
    return _load_submission(session, user, submission_id)


@router.get("/submissions/{submission_id}/rows", response_model=list[DataRowOut], summary="数据批次中的学校数据")
def get_submission_rows(session: DbSession, user: CurrentUser, submission_id: SubmissionId) -> list:
    submission = _load_submission(session, user, submission_id)
    return schooldata.submission_rows(session, submission.id, data_row_clause(user, _school_key(session, user)))


# ---------------------------------------------------------------------------------------------
# assessments and shortfalls


@router.get("/campaigns/{campaign}/assessments", response_model=list[AssessmentOut], summary="评估（办公室、评估人员）")
def list_assessments(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> list:
    check_reads_county_results(user)
    return assessments.snapshots(session, campaign.id)


@router.get("/assessments/{assessment_id}", response_model=AssessmentDetailOut, summary="评估结果（JSON）")
def get_assessment(session: DbSession, user: CurrentUser, assessment_id: AssessmentId) -> AssessmentDetailOut:
    """The stored result, and the tasks this assessment opened after their plan date had passed
    (due 逾期顺延工作日 later; a reassessment started by the dispatcher tells the office here)."""
    snapshot = session.get(AssessmentSnapshot, assessment_id)
    if snapshot is None or snapshot.campaign_id != user.campaign_id:
        raise UnknownName(f"没有编号为 #{assessment_id} 的评估")
    check_reads_county_results(user)
    return AssessmentDetailOut.model_validate({
        **columns_of(snapshot), "redated": [r.as_dict() for r in redated_by_assessment(session, snapshot)]})


@router.get("/campaigns/{campaign}/shortfalls", response_model=Page[ShortfallOut], summary="问题清单（差距）")
def list_shortfalls(
    session: DbSession,
    user: CurrentUser,
    campaign: UserCampaign,
    assessment: Annotated[int | None, Query(ge=1, le=MAX_ID, description="评估编号；默认最近一次")] = None,
    indicator: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN)] = None,
    school: Annotated[int | None, Query(ge=1, le=MAX_ID, description="学校编号")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[ShortfallOut]:
    if assessment is None:
        assessment = assessments.latest_snapshot_id(session, campaign.id)
        if assessment is None:
            return Page[ShortfallOut](items=[], total=0, limit=limit, offset=offset)
    rows, total = assessments.shortfalls_page(session, assessment, shortfall_clause(user), indicator=indicator,
                                              school_id=school, limit=limit, offset=offset)
    return Page[ShortfallOut](items=[ShortfallOut.model_validate(r) for r in rows], total=total,
                              limit=limit, offset=offset)
