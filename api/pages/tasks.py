"""任务: the list (status, unit, overdue, indicator; a page at a time), a task's page with its
history, evidence and the moves the user may make — each a plain POST form with the CSRF token,
answered by a redirect back to the task (reloading never posts twice)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import CSRF_FIELD, CSRF_HEADER, CSRF_REJECTED, MAX_ID, SESSION_CSRF, CsrfChecked, DbSession, PageUser
from api.errors import status_of
from api.pages.materials import task_materials_context
from api.evidence import evidence_response, load_evidence_for, receive_evidence, upload_refusal
from api.pages.assign import assign_form
from api.pages.common import flash, keep_typed, redirect, render, today
from api.pages.overview import describe_event
from api.pages.task_moves import moves_context
from api.schemas.common import TEXT_PATTERN
from tracker.accounts.access import (
    AccessDenied,
    check_act_on_task,
    check_read_task,
    permitted_actions,
    role_of,
)
from tracker.accounts.models import User, UserRole
from tracker.accounts.service import acting_person
from tracker.assessment.models import ShortfallRecord
from tracker.calendar import active_calendar
from tracker.errors import JunhengError
from tracker.org.models import Campaign, Phase, School
from tracker.org.queries import department_names, school_names
from tracker.org.queries import departments as campaign_departments
from tracker.reviews.models import Review, ReviewFinding
from tracker.reviews.service import review_label
from tracker.events.service import task_history
from tracker.evidence.service import indicator_title, task_evidence
from tracker.evidence.storage import ALLOWED_TEXT, EvidenceRejected, format_size
from tracker.reminders import immediate
from tracker.reminders.lights import campaign_yellow_within, task_light
from tracker.settings import get_settings
from tracker.standards import load_standard
from tracker.tasks import lifecycle
from tracker.tasks.lifecycle import CLOCK_RUNNING, InvalidTaskInput, NotPermitted, TransitionError
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.tasks.recurrence import describe as describe_recurrence
from tracker.tasks.service import TaskNotFound, cooperators
from tracker.accounts.task_list import TaskFilters, visible_to
from tracker.accounts.task_export import XLSX_MEDIA_TYPE, task_list_workbook  # issue 12 §8
from tracker.gaps.queries import planned_for_shortfall

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
ACTION_LABELS = {"accept": "签收", "progress": "更新进度", "submit": "提交", "verify": "销号", "return": "退回",
                 "withdraw": "撤销"}


@dataclass
class TaskRow:
    task: Task  # or a row of visible_to: the same attributes
    unit: str
    light: str | None
    overdue_days: int
    overdue: bool


class UnitNames:
    """Department and school names of a campaign, looked up once per request."""

    def __init__(self, session: Session, campaign_id: int):
        self.departments = department_names(session, campaign_id)
        self.schools = school_names(session, campaign_id)

    def of(self, task: Task) -> str:
        if task.department_id is not None:
            return self.departments.get(task.department_id, "未指定单位")
        if task.responsible_school_id is not None:
            return self.schools.get(task.responsible_school_id, "未指定单位")
        return "未指定单位"


def task_rows(session: Session, tasks: list, campaign_id: int, day) -> list[TaskRow]:
    """Tasks (``Task`` objects, or rows of ``visible_to`` with their unit's name joined in) as the
    list shows them."""
    listed = bool(tasks) and hasattr(tasks[0], "department_name")
    names = None if listed else UnitNames(session, campaign_id)
    calendar = active_calendar()
    within = campaign_yellow_within(session, campaign_id)
    rows = []
    for task in tasks:
        light = task_light(task, day, yellow_within=within, calendar=calendar)
        unit = (task.department_name if task.department_id is not None else task.school_name) if listed \
            else names.of(task)
        rows.append(TaskRow(task=task, unit=unit or "未指定单位", light=light.value if light else None,
                            overdue=lifecycle.is_overdue(task, day), overdue_days=lifecycle.days_overdue(task, day)))
    return rows


def _load(session: Session, user: User, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != user.campaign_id:
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    check_read_task(session, user, task)
    return task


def indicator_choices(campaign: Campaign) -> list[tuple[str, str]]:
    standard = load_standard(campaign.standard_id)
    items = [(i.code, i.title) for i in standard.indicators]
    items += [(c.code, c.title) for c in (*standard.application_conditions, *standard.vetoes)]
    return items


@router.get("/tasks", response_class=HTMLResponse, name="task_list")
def task_list(
    request: Request, session: DbSession, user: PageUser,
    status: Annotated[str | None, Query(max_length=8)] = None,
    department: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    school: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: Annotated[str | None, Query(max_length=3)] = None,
    indicator: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN)] = None,
    returned: Annotated[str | None, Query(max_length=3)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,  # issue 12 §8: text search
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    day = today(session)
    campaign = session.get(Campaign, user.campaign_id)
    status = status or None
    if status is not None and status not in {s.value for s in TaskStatus}:
        status = None
    # the one task list query, shared with the API (tracker.tasks.queries.visible_to)
    wanted = TaskFilters(status=status, department_id=department or None, school_id=school or None,
                         indicator=indicator or None, overdue=True if overdue else None,
                         returned=True if returned else None, q=q or None)
    found = visible_to(session, user, campaign.id, wanted, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, today=day)
    total = found.total
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # past the end: the last page
        page = pages
        found = visible_to(session, user, campaign.id, wanted, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                           today=day)
    tasks = found.rows
    filters = {k: v for k, v in {"status": status, "department": department, "school": school,
                                 "overdue": "1" if overdue else None, "indicator": indicator,
                                 "returned": "1" if returned else None, "q": q}.items() if v}
    whole = role_of(user) in (UserRole.office, UserRole.reviewer)
    departments = campaign_departments(session, campaign.id) if whole else []
    school_name = session.get(School, school).name if school and session.get(School, school) else None
    return render(request, session, user, "tasks.html", {
        "rows": task_rows(session, tasks, campaign.id, day), "total": total, "page": page, "pages": pages,
        "filters": filters, "statuses": [s.value for s in TaskStatus], "departments": departments,
        "indicators": indicator_choices(campaign), "school_name": school_name,
        "page_url": lambda n: "/tasks?" + urlencode({**filters, "page": n}),
        "assign": assign_form(session, user),  # the office's 交办 form (api.pages.assign)
        "export_url": "/tasks.xlsx?" + urlencode(filters),  # issue 12 §8
    }, nav_path="/tasks")


# --- issue 12 §8: the list as .xlsx, the page's filters, all pages (tracker.accounts.task_export) ---
@router.get("/tasks.xlsx", name="task_list_export")
def task_list_export(
    session: DbSession, user: PageUser,
    status: Annotated[str | None, Query(max_length=8)] = None,
    department: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    school: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: Annotated[str | None, Query(max_length=3)] = None,
    indicator: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    returned: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    if status is not None and status not in {s.value for s in TaskStatus}:
        status = None
    wanted = TaskFilters(status=status or None, department_id=department or None, school_id=school or None,
                         indicator=indicator or None, overdue=True if overdue else None,
                         returned=True if returned else None, q=q or None)
    body = task_list_workbook(session, user, user.campaign_id, wanted, today(session))
    return Response(body, media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": "attachment; filename=\"tasks.xlsx\"; "
                                                    "filename*=UTF-8''%E4%BB%BB%E5%8A%A1%E6%B8%85%E5%8D%95.xlsx"})
# --- end issue 12 §8 export ---


def _task_page(request: Request, session: Session, user: User, task: Task, *, status_code: int = 200,
               upload_error: str | None = None) -> Response:
    day = today(session)
    campaign = session.get(Campaign, task.campaign_id)
    standard = load_standard(campaign.standard_id)
    row = task_rows(session, [task], campaign.id, day)[0]
    phase = session.get(Phase, task.phase_id)
    shortfall = session.get(ShortfallRecord, task.shortfall_id) if task.shortfall_id else None
    finding = session.get(ReviewFinding, task.finding_id) if task.finding_id else None
    finding_review = session.get(Review, finding.review_id) if finding is not None else None
    about = session.get(School, task.school_id) if task.school_id else None
    days_left = None
    if TaskStatus(task.status) in CLOCK_RUNNING and day <= task.due_on:
        days_left = active_calendar().working_days_between(day, task.due_on)
    settings = get_settings()
    evidence = task_evidence(session, task.id)
    return render(request, session, user, "task.html", {
        "t": task, "row": row, "phase": phase, "shortfall": shortfall, "finding": finding, "about": about,
        "planned": planned_for_shortfall(session, shortfall) if shortfall is not None else None,  # issue 14
        "finding_from": review_label(finding_review) if finding_review is not None else "",
        "cooperating": [d.name for d in cooperators(session, task)],
        "indicator_title": indicator_title(standard, task.indicator) if task.indicator else "",
        "history": task_history(session, task.id), "describe": describe_event,
        "evidence": evidence, "format_size": format_size,
        "actions": permitted_actions(session, user, task), "labels": ACTION_LABELS,
        "upload_refusal": upload_refusal(session, user, task), "upload_error": upload_error,
        "max_size": format_size(settings.evidence_max_bytes), "allowed": ALLOWED_TEXT,
        "days_left": days_left,
        **moves_context(session, user, task),
        **task_materials_context(session, task, evidence),  # issue 13 §4: 资料项 (api/pages/materials.py)  # issue 12 §2–3: 延期, 转办, 分解, 联办 (api/pages/task_moves.py)
        "edit_form": assign_form(session, user) if task.origin == TaskOrigin.office.value else None,
        "recurrence_text": describe_recurrence(task.recurrence) if task.recurrence else "",
    }, status_code=status_code, nav_path="/tasks")


def task_page_again(request: Request, session: Session, user: User, task: Task, error: JunhengError,
                    form: str, values: dict, prefix: str = "") -> Response:
    """A form on the task's page refused (nothing stored): the page again, with the refusal and
    what the user typed back in ``form``'s fields, answered with the refusal's status (422, 409)."""
    flash(request, prefix + error.message, "error")
    keep_typed(request, form, values)
    return _task_page(request, session, user, task, status_code=status_of(error))


@router.get("/tasks/{task_id}", response_class=HTMLResponse, name="task_page")
def task_page(request: Request, session: DbSession, user: PageUser, task_id: TaskId) -> Response:
    return _task_page(request, session, user, _load(session, user, task_id))


def _percent(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidTaskInput(f"进度必须是 0 到 100 之间的整数，收到「{text}」") from None
    return value


@router.post("/tasks/{task_id}/actions/{action}", response_class=HTMLResponse, name="task_action")
def task_action(
    request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, task_id: TaskId,
    action: Annotated[str, Path(pattern="^(accept|progress|submit|verify|return|withdraw)$")],
    percent: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000, pattern=TEXT_PATTERN)] = "",
    reason: Annotated[str, Form(max_length=2000, pattern=TEXT_PATTERN)] = "",
) -> Response:
    task = _load(session, user, task_id)
    check_act_on_task(session, user, task, action)  # 403, logged
    person = acting_person(session, user)
    try:
        if action == "accept":
            lifecycle.accept(session, task, person)
        elif action == "progress":
            lifecycle.report_progress(session, task, person, _percent(percent), note)
        elif action == "submit":
            lifecycle.submit(session, task, person, note)
        elif action == "verify":
            lifecycle.verify(session, task, person, note)
        elif action == "return":  # the 退回通知 is queued with the move (issue 12 §4)
            immediate.return_task(session, task, person, reason)
        else:
            lifecycle.withdraw(session, task, person, reason)
        session.commit()
    except NotPermitted:
        session.rollback()
        raise
    except TransitionError as exc:  # the state moved on, or a bad percent / missing reason
        session.rollback()
        return task_page_again(request, session, user, task, exc, action,
                               {"percent": percent, "note": note, "reason": reason})
    flash(request, f"已{ACTION_LABELS[action]}任务 #{task_id}")
    return redirect(f"/tasks/{task_id}")


def _page_csrf(request: Request):
    def check(fields: dict[str, str]) -> None:
        expected = request.session.get(SESSION_CSRF)
        sent = request.headers.get(CSRF_HEADER) or fields.get(CSRF_FIELD)
        if not isinstance(expected, str) or not expected or not sent or not secrets.compare_digest(sent, expected):
            raise AccessDenied(CSRF_REJECTED)
    return check


@router.post("/tasks/{task_id}/evidence", response_class=HTMLResponse, name="task_evidence_upload")
async def upload_evidence(request: Request, session: DbSession, user: PageUser, task_id: TaskId) -> Response:
    """The file streams in (api.uploads); the CSRF token is checked before the file is kept.
    A refused file shows the task page again with the reason and the HTTP status (413, 415 …)."""
    task = _load(session, user, task_id)
    try:
        added = await receive_evidence(request, session, user, task, check_fields=_page_csrf(request))
    except EvidenceRejected as exc:
        session.rollback()
        return _task_page(request, session, user, task, status_code=status_of(exc), upload_error=exc.message)
    if added.created:
        flash(request, f"已上传佐证材料「{added.evidence.filename}」")
    else:
        flash(request, f"「{added.evidence.filename}」与已上传的文件内容相同，未重复保存", "warn")
    return redirect(f"/tasks/{task_id}#evidence")


@router.get("/evidence/{evidence_id}", name="evidence_download")
def download_evidence(session: DbSession, user: PageUser,
                      evidence_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
    evidence, path = load_evidence_for(session, user, evidence_id)
    return evidence_response(evidence, path)
