"""交办 over the API (issue 12 §1): the office creates a task, imports a 任务清单 .xlsx, downloads
its template, and edits a task it assigned. Office only (403 for anyone else); a bad field → 422
naming it (``problems``), nothing stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Path, Request, UploadFile, status
from fastapi.responses import Response

from api.deps import MAX_ID, CurrentUser, DbSession, UserCampaign
from api.errors import CONFLICT_RESPONSE, TOO_LARGE_RESPONSE, ErrorOut, ProblemOut, error_response
from api.schemas.tasks import TaskCreateIn, TaskEditIn, TasklistImportOut, TaskOut
from api.v1.tasks import TaskPresenter
from tracker.accounts.access import check_assigns_tasks
from tracker.accounts.service import acting_person
from tracker.evidence.storage import sanitize_filename
from tracker.reminders import immediate
from tracker.schooldata.sheet import MAX_BYTES
from tracker.tasks.assign import AssignmentError, OfficeTaskInput, TaskEdit, create_office_task
from tracker.tasks.models import Task
from tracker.tasks.service import TaskNotFound
from tracker.tasks.tasklist import import_tasklist, tasklist_template_bytes

router = APIRouter(tags=["交办"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INVALID = {422: {"model": ErrorOut, "description": "填写有误：problems 逐项说明（location 为字段名；清单为行和列）"}}
NOT_XLSX = {415: {"model": ErrorOut, "description": "不是 .xlsx 文件（含没有扩展名的文件）"}}


def assignment_refused(request: Request, exc: AssignmentError) -> Response:
    problems = [ProblemOut(location=f"body.{name}", message=message) for name, message in exc.problems]
    return error_response(request, 422, "任务未保存：" + exc.message, problems)


@router.post("/campaigns/{campaign}/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED,
             responses=INVALID, summary="交办任务（办公室）")
def create_task(request: Request, session: DbSession, user: CurrentUser, campaign: UserCampaign,
                body: TaskCreateIn) -> Response | TaskOut:
    check_assigns_tasks(user)
    actor = acting_person(session, user)
    try:
        task = create_office_task(session, campaign, OfficeTaskInput(
            title=body.title, lead=body.lead, due_on=body.due_on, source=body.source, source_ref=body.source_ref,
            measures=body.measures, cooperating=body.cooperating, phase=body.phase,
            evidence_required=body.evidence_required, indicator=body.indicator, recurrence=body.recurrence), actor)
    except AssignmentError as exc:
        session.rollback()
        return assignment_refused(request, exc)
    session.commit()
    session.refresh(task)
    return TaskPresenter(session, user, campaign.id).one(task)


@router.get("/campaigns/{campaign}/tasks/template", summary="任务清单模板（办公室）",
            responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
                             "description": "任务清单 .xlsx，带本创建工作的单位和阶段下拉列表"}})
def tasklist_template(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> Response:
    check_assigns_tasks(user)
    return Response(tasklist_template_bytes(session, campaign), media_type=XLSX,
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''%E4%BB%BB%E5%8A%A1%E6%B8%85%E5%8D%95.xlsx"})


@router.post("/campaigns/{campaign}/tasks/import", response_model=TasklistImportOut,
             status_code=status.HTTP_201_CREATED, responses={**TOO_LARGE_RESPONSE, **INVALID, **NOT_XLSX},
             summary="导入任务清单（办公室）")
def import_tasks(session: DbSession, user: CurrentUser, campaign: UserCampaign,
                 file: Annotated[UploadFile, File(description="任务清单 .xlsx")]) -> TasklistImportOut:
    """The whole sheet is checked first: every problem by row and column (422) and nothing is
    stored. A row imported before is not created again."""
    check_assigns_tasks(user)
    if not file.filename:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "没有收到文件：请选择任务清单（字段名 file）")
    filename = sanitize_filename(file.filename)
    if not filename.lower().endswith(".xlsx"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"文件「{filename}」不是 .xlsx 文件：请用任务清单模板填写")
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"文件「{filename}」超过 {MAX_BYTES // (1024 * 1024)} MB")
    result = import_tasklist(session, campaign, data, acting_person(session, user), filename=filename)
    session.commit()
    return TasklistImportOut(created=[t.id for t in result.created], unchanged=result.unchanged)


@router.patch("/tasks/{task_id}", response_model=TaskOut, responses={**CONFLICT_RESPONSE, **INVALID},
              summary="调整交办任务（办公室）")
def edit_task(request: Request, session: DbSession, user: CurrentUser,
              task_id: Annotated[int, Path(ge=1, le=MAX_ID, description="任务编号")],
              body: TaskEditIn) -> Response | TaskOut:
    """Title, measures, lead and cooperating units, due date; one ``task.edited`` event with the
    reason, and a 任务变更通知 to the unit."""
    check_assigns_tasks(user)
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != user.campaign_id:
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    try:
        immediate.edit_task(session, task, TaskEdit(
            reason=body.reason, title=body.title, measures=body.measures, lead=body.lead,
            cooperating=body.cooperating, due_on=body.due_on), acting_person(session, user))
    except AssignmentError as exc:
        session.rollback()
        if any(name == "task" for name, _ in exc.problems):  # the task's state or kind: 409
            return error_response(request, 409, exc.message)
        return assignment_refused(request, exc)
    session.commit()
    session.refresh(task)
    return TaskPresenter(session, user, task.campaign_id).one(task)
