"""交办 on the pages (issue 12 §1): the office's form and 任务清单 upload on the task list, the
template download, and the edit form on a task it assigned. Office only (403 for anyone else);
every problem is shown in Chinese, the form comes back with what was typed, and nothing is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import MAX_ID, CsrfChecked, DbSession, PageUser
from api.errors import status_of
from api.pages.common import flash, keep_typed, redirect
from api.schemas.common import TEXT_PATTERN
from tracker.accounts.access import check_assigns_tasks, role_of
from tracker.accounts.models import User, UserRole
from tracker.accounts.service import acting_person
from tracker.evidence.storage import sanitize_filename
from tracker.org.models import Campaign
from tracker.reminders import immediate
from tracker.schooldata.sheet import MAX_BYTES, SheetError
from tracker.tasks.assign import (
    SOURCE_NAMES,
    AssignmentError,
    OfficeTaskInput,
    TaskEdit,
    assign_choices,
    create_office_task,
)
from tracker.tasks.models import Task
from tracker.tasks.service import TaskNotFound
from tracker.tasks.tasklist import import_tasklist, tasklist_template_bytes

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Text = Annotated[str, Form(max_length=4000, pattern=TEXT_PATTERN)]
SHOWN_PROBLEMS = 10


def assign_form(session: Session, user: User) -> dict | None:
    """What the task list's 交办 form offers (office only, else None)."""
    if role_of(user) is not UserRole.office:
        return None
    units, phases = assign_choices(session, user.campaign_id)
    return {"sources": SOURCE_NAMES, "units": units, "phases": phases}


def _split(text: str) -> list[str]:
    for sep in ("，", ",", "\n"):
        text = text.replace(sep, "、")
    return [part.strip() for part in text.split("、") if part.strip()]


@router.get("/tasks/template.xlsx", name="tasklist_template")
def template(session: DbSession, user: PageUser) -> Response:
    check_assigns_tasks(user)
    campaign = session.get(Campaign, user.campaign_id)
    return Response(tasklist_template_bytes(session, campaign), media_type=XLSX,
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''%E4%BB%BB%E5%8A%A1%E6%B8%85%E5%8D%95.xlsx"})


@router.post("/tasks/new", response_class=HTMLResponse, name="task_create")
def create(
    request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
    title: Annotated[str, Form(max_length=200, pattern=TEXT_PATTERN)] = "",
    lead: Annotated[str, Form(max_length=200, pattern=TEXT_PATTERN)] = "",
    due_on: Annotated[str, Form(max_length=20, pattern=TEXT_PATTERN)] = "",
    source: Annotated[str, Form(max_length=16, pattern=TEXT_PATTERN)] = "其他",
    source_ref: Annotated[str, Form(max_length=500, pattern=TEXT_PATTERN)] = "",
    measures: Text = "",
    cooperating: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default, never changes it
    phase: Annotated[str, Form(max_length=64, pattern=TEXT_PATTERN)] = "",
    evidence_required: Annotated[str, Form(max_length=3)] = "",
    recurrence: Annotated[str, Form(max_length=32, pattern=TEXT_PATTERN)] = "",
) -> Response:
    check_assigns_tasks(user)
    campaign = session.get(Campaign, user.campaign_id)
    helpers = [name for value in cooperating for name in _split(value)]
    try:
        task = create_office_task(session, campaign, OfficeTaskInput(
            title=title, lead=lead, due_on=due_on, source=source, source_ref=source_ref, measures=measures,
            cooperating=helpers, phase=phase or None, evidence_required=bool(evidence_required),
            recurrence=recurrence or None),
            acting_person(session, user))
        session.commit()
    except AssignmentError as exc:
        session.rollback()
        flash(request, "任务未保存：" + exc.message, "error")
        keep_typed(request, "assign", {"title": title, "lead": lead, "due_on": due_on, "source": source,
                                       "source_ref": source_ref, "measures": measures, "cooperating": helpers,
                                       "phase": phase, "evidence_required": bool(evidence_required),
                                       "recurrence": recurrence})
        from api.pages.tasks import task_list  # the task list imports this module's form

        page = task_list(request, session, user)
        page.status_code = status_of(exc)
        return page
    flash(request, f"已交办任务 #{task.id}「{task.title}」")
    return redirect(f"/tasks/{task.id}")


@router.post("/tasks/import", response_class=HTMLResponse, name="tasklist_import")
def upload(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
           file: Annotated[UploadFile, File()]) -> Response:
    check_assigns_tasks(user)
    if not file.filename:
        flash(request, "没有收到文件：请先选择任务清单", "error")
        return redirect("/tasks#assign")
    filename = sanitize_filename(file.filename)
    data = file.file.read(MAX_BYTES + 1)
    campaign = session.get(Campaign, user.campaign_id)
    try:
        if not filename.lower().endswith(".xlsx"):
            raise SheetError(filename, [])
        result = import_tasklist(session, campaign, data, acting_person(session, user), filename=filename)
        session.commit()
    except SheetError as exc:
        session.rollback()
        if not exc.problems:
            flash(request, f"文件「{filename}」不是 .xlsx 文件：请下载任务清单模板填写后上传", "error")
        else:
            shown = "；".join(p.message for p in exc.problems[:SHOWN_PROBLEMS])
            more = f"等 {len(exc.problems)} 处" if len(exc.problems) > SHOWN_PROBLEMS else ""
            flash(request, f"任务清单「{exc.filename}」有问题{more}，未导入任何任务：{shown}", "error")
        return redirect("/tasks#assign")
    flash(request, f"已导入任务清单：新建 {len(result.created)} 项"
          + (f"，已导入过未重复创建 {result.unchanged} 项" if result.unchanged else ""))
    return redirect("/tasks")


@router.post("/tasks/{task_id}/edit", response_class=HTMLResponse, name="task_edit")
def edit(
    request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
    task_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(max_length=2000, pattern=TEXT_PATTERN)] = "",
    title: Annotated[str, Form(max_length=200, pattern=TEXT_PATTERN)] = "",
    measures: Text = "",
    lead: Annotated[str, Form(max_length=200, pattern=TEXT_PATTERN)] = "",
    cooperating: Annotated[str, Form(max_length=2000, pattern=TEXT_PATTERN)] = "",
    due_on: Annotated[str, Form(max_length=20, pattern=TEXT_PATTERN)] = "",
) -> Response:
    check_assigns_tasks(user)
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != user.campaign_id:
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    try:
        event = immediate.edit_task(session, task, TaskEdit(
            reason=reason, title=title or None, measures=measures, lead=lead or None,
            cooperating=_split(cooperating), due_on=due_on or None), acting_person(session, user))
        session.commit()
    except AssignmentError as exc:
        session.rollback()
        from api.pages.tasks import task_page_again  # the task page imports this module's form

        return task_page_again(request, session, user, task, exc, "edit",
                               {"title": title, "measures": measures, "lead": lead, "cooperating": cooperating,
                                "due_on": due_on, "reason": reason}, prefix="未作改动：")
    flash(request, "已调整任务，已通知责任单位" if event is not None else "任务没有变化")
    return redirect(f"/tasks/{task_id}")
