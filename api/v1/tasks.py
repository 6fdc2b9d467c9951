"""Tasks: the list (filters, pagination), one task, its history and evidence, and the moves of its
life (签收, 进度, 提交, 销号, 退回, 撤销) through tracker.tasks.lifecycle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic_core import to_json
from sqlmodel import Session

from api.deps import MAX_ID, CurrentUser, DbSession, UserCampaign, store_calendar
from api.errors import CONFLICT_RESPONSE
from api.schemas.common import TEXT_PATTERN, Page, columns_of
from api.schemas.events import EventOut
from api.schemas.tasks import EvidenceOut, NoteIn, PendingExtensionOut, ProgressIn, ReasonIn, TaskOut
from api.v1 import task_list_cache
from tracker.accounts.access import (
    check_act_on_task,
    check_read_task,
    permitted_actions,
    sees_whole_campaign,
)
from tracker.accounts.models import User
from tracker.accounts.service import acting_person
from tracker.calendar import WorkingDayCalendar
from tracker.org.queries import department_names, school_names
from tracker.db import utcnow
from tracker.events.service import task_history
from tracker.reminders import immediate
from tracker.reminders.lights import WITH_UNIT, campaign_yellow_within, task_light
from tracker.tasks import lifecycle
from tracker.clock import local_date, zone
from tracker.tasks.lifecycle import days_overdue, is_overdue
from tracker.evidence.service import task_evidence
from tracker.tasks.models import Task, TaskStatus
from tracker.tasks.extensions import pending_extensions
from tracker.tasks.queries import cooperating_departments, list_stamp
from tracker.tasks.service import TaskNotFound
from tracker.accounts.task_list import (
    TaskFilters, TaskRow, cooperating_of, list_view, pending_extension_of, visible_to,
)
from tracker.accounts.task_export import XLSX_MEDIA_TYPE as XLSX, task_list_workbook  # issue 12 §8

router = APIRouter(tags=["任务"])

# TaskOut's fields taken from the task's columns as they are (with the model's default when the
# columns lack one); the presenter adds the others
_COLUMN_DEFAULTS = [(name, None if field.is_required() else field.default)
                    for name, field in TaskOut.model_fields.items()]
_WITH_UNIT = frozenset(s.value for s in WITH_UNIT) | WITH_UNIT

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="任务编号")]
MAX_PAGE = 500


class TaskPresenter:
    """Turns tasks (rows or ``Task`` objects) into ``TaskOut`` for one user: unit names,
    cooperators, the campaign's light rule and the moves the user may make, looked up once per
    request rather than once per task."""

    def __init__(self, session: Session, user: User, campaign_id: int):
        self.session = session
        self.user = user
        self.calendar: WorkingDayCalendar = store_calendar(session)
        self.today = local_date(utcnow())
        # the light rule from the plan's 提醒 section alone (read with the campaign; parsed once)
        self.yellow_within = campaign_yellow_within(session, campaign_id)
        # office and reviewers may do the same on every task in the same state: worked out once
        # per (status, resolved by data) rather than once per task
        self._same_for_all = sees_whole_campaign(user)
        self._actions: dict[tuple[str, bool], list[str]] = {}
        self._clocks: dict[tuple, tuple[str | None, bool, int]] = {}
        self._campaign_id = campaign_id

    @cached_property
    def _departments(self) -> dict[int, str]:
        return department_names(self.session, self._campaign_id)

    @cached_property
    def _schools(self) -> dict[int, str]:
        return school_names(self.session, self._campaign_id)

    def _unit_name(self, task: Task, columns: dict) -> str:
        """The responsible unit's name: joined into the row by the list query, else looked up."""
        if task.department_id is not None:
            name = columns["department_name"] if "department_name" in columns else \
                self._departments.get(task.department_id)
        elif task.responsible_school_id is not None:
            name = columns["school_name"] if "school_name" in columns else \
                self._schools.get(task.responsible_school_id)
        else:
            name = None
        return name or "未指定单位"

    def rows(self, tasks: Iterable[Task | TaskRow]) -> list[dict]:
        """Each task as the plain dict of ``TaskOut``'s fields (not validated: every value comes
        from the store or from this presenter, so its type is known), the pending 延期申请 in."""
        tasks = list(tasks)
        if not tasks:
            return []
        cooperating: dict[int, list[int]] = defaultdict(list)
        if isinstance(tasks[0], TaskRow):
            keys = tasks[0]._fields
            if "cooperating" in keys:
                # listed by tracker.accounts.task_list.visible_to: cooperating units joined in
                cooperating.update((t.id, cooperating_of(t)) for t in tasks)
            columns = [dict(zip(keys, t)) for t in tasks]  # Row._asdict is four times slower
        else:
            keys = None
            columns = [columns_of(t) for t in tasks]
        if not cooperating and (keys is None or "cooperating" not in keys):
            cooperating.update(cooperating_departments(self.session, [t.id for t in tasks]))
        # TaskOut's fields the columns hold, the model's defaults for those they lack
        present = [name for name, _ in _COLUMN_DEFAULTS if name in columns[0]]
        missing = {name: default for name, default in _COLUMN_DEFAULTS if name not in columns[0]}
        # issue 12 §2 (api/v1/task_moves.py): a pending 延期申请 shows on its task
        if keys is not None and "pending_id" in keys:  # joined in by visible_to
            pending = {t.id: pending_extension_of(t) for t in tasks if t.pending_id is not None}
        else:
            pending = pending_extensions(self.session, [t.id for t in tasks])
        return [self._out(t, c, {**missing, **{name: c[name] for name in present}}, cooperating.get(t.id, []),
                          pending.get(t.id)) for t, c in zip(tasks, columns)]

    def many(self, tasks: Iterable[Task | TaskRow]) -> list[TaskOut]:
        return [TaskOut.model_validate(row) for row in self.rows(tasks)]

    def one(self, task: Task) -> TaskOut:
        return self.many([task])[0]

    def _clock(self, task: Task | TaskRow) -> tuple[str | None, bool, int]:
        """(light, overdue, working days overdue): the same for tasks of one status, due date,
        progress and day of assignment (the light counts working days from the Beijing date the
        task was assigned, not its time), so worked out once per such kind in a request."""
        status = task.status
        if status not in _WITH_UNIT or task.due_on < self.today:
            key = (status, task.due_on)  # no progress rule: neither progress nor assignment count
        else:
            key = (status, task.due_on, task.progress, task.created_at.astimezone(zone()).date())
        found = self._clocks.get(key)
        if found is None:
            light = task_light(task, self.today, yellow_within=self.yellow_within, calendar=self.calendar)
            overdue = is_overdue(task, self.today)
            found = self._clocks[key] = (light.value if light is not None else None, overdue,
                                         days_overdue(task, self.today) if overdue else 0)
        return found

    def _out(self, task: Task | TaskRow, columns: dict, out: dict, cooperating: list[int], pending) -> dict:
        light, overdue, late_days = self._clock(task)
        out.update(cooperating=cooperating, unit_name=self._unit_name(task, columns), overdue=overdue,
                   days_overdue=late_days, light=light, actions=self._permitted(task, cooperating),
                   pending_extension=_pending_out(pending),
                   returned=out["return_reason"] is not None)
        return out

    def _permitted(self, task: Task, cooperating: list[int]) -> list[str]:
        if not self._same_for_all:
            return permitted_actions(self.session, self.user, task, cooperating)
        key = (str(task.status), task.resolved_by_assessment_id is not None)
        if key not in self._actions:
            self._actions[key] = permitted_actions(self.session, self.user, task, cooperating)
        return list(self._actions[key])


def _pending_out(pending) -> PendingExtensionOut | dict | None:
    """The pending 延期申请 as TaskOut shows it: a joined row's dict as it is, a stored row validated."""
    if pending is None or isinstance(pending, dict):
        return pending
    return PendingExtensionOut.model_validate(pending)


def load_task(session: Session, user: User, task_id: int) -> Task:
    """The task if it is in the user's campaign (else 404) and the user may see it (else 403)."""
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != user.campaign_id:
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    check_read_task(session, user, task)
    return task


@router.get("/campaigns/{campaign}/tasks", response_model=Page[TaskOut], summary="任务列表")
def list_tasks(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    campaign: UserCampaign,
    status: Annotated[TaskStatus | None, Query(description="状态")] = None,
    department: Annotated[int | None, Query(ge=1, le=MAX_ID, description="责任单位编号")] = None,
    school: Annotated[int | None, Query(ge=1, le=MAX_ID, description="学校编号（涉及或负责）")] = None,
    overdue: Annotated[bool | None, Query(description="只看逾期（true）或未逾期（false）")] = None,
    returned: Annotated[bool | None, Query(description="只看已退回（true）或未退回（false）")] = None,
    indicator: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN, description="指标代码")] = None,
    phase: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN, description="阶段代码")] = None,
    q: Annotated[str | None, Query(max_length=100, description="搜索：任务、措施、单位、学校、指标")] = None,  # issue 12 §8
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[TaskOut]:
    filters = TaskFilters(status=None if status is None else status.value, department_id=department, school_id=school,
                          indicator=indicator, phase_code=phase, overdue=overdue, returned=returned, q=q or None)
    today = local_date(utcnow())
    # the answer is kept for the same view, day, query and revision (api/v1/task_list_cache.py,
    # whose middleware answers those before they get here); the revision was read with the token
    view = list_view(user, campaign.id, campaign_yellow_within(session, campaign.id), list_stamp(session, campaign.id))
    key = task_list_cache.answer_key(view, today, request.scope.get("query_string", b""))
    body = None if key is None else task_list_cache.answers.get(key)
    if body is None:
        found = visible_to(session, user, campaign.id, filters, limit=limit, offset=offset, today=today)
        items = TaskPresenter(session, user, campaign.id).rows(found.rows)
        # the rows as they are, to JSON in one call: validating 50 TaskOut again cost more than the
        # query (the schema stays documented by response_model; tests/api check the answers keep to it)
        body = to_json({"items": items, "total": found.total, "limit": limit, "offset": offset})
        if key is not None:
            task_list_cache.answers.put(key, body)
    return Response(body, media_type="application/json")


# --- issue 12 §8: text search (q) and the .xlsx export of the list (tracker.accounts.task_export) ---


@router.get("/campaigns/{campaign}/tasks.xlsx", summary="任务列表导出 Excel",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_tasks(
    session: DbSession,
    user: CurrentUser,
    campaign: UserCampaign,
    status: Annotated[TaskStatus | None, Query(description="状态")] = None,
    department: Annotated[int | None, Query(ge=1, le=MAX_ID, description="责任单位编号")] = None,
    school: Annotated[int | None, Query(ge=1, le=MAX_ID, description="学校编号（涉及或负责）")] = None,
    overdue: Annotated[bool | None, Query(description="只看逾期（true）或未逾期（false）")] = None,
    indicator: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN, description="指标代码")] = None,
    phase: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN, description="阶段代码")] = None,
    q: Annotated[str | None, Query(max_length=100, description="搜索：任务、措施、单位、学校、指标")] = None,
    returned: Annotated[bool | None, Query(description="只看已退回（true）或未退回（false）")] = None,
) -> Response:
    """Every row the list shows with the same filters (all pages), at most MAX_EXPORT_ROWS."""
    filters = TaskFilters(status=None if status is None else status.value, department_id=department, school_id=school,
                          indicator=indicator, phase_code=phase, overdue=overdue, returned=returned, q=q or None)
    body = task_list_workbook(session, user, campaign.id, filters, local_date(utcnow()))
    name = quote(f"任务清单-{campaign.code}.xlsx")
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=\"tasks.xlsx\"; filename*=UTF-8''{name}"})
# --- end issue 12 §8 export ---


@router.get("/tasks/{task_id}", response_model=TaskOut, summary="任务")
def get_task(session: DbSession, user: CurrentUser, task_id: TaskId) -> TaskOut:
    task = load_task(session, user, task_id)
    return TaskPresenter(session, user, task.campaign_id).one(task)


@router.get("/tasks/{task_id}/events", response_model=list[EventOut], summary="任务的历史")
def get_task_events(session: DbSession, user: CurrentUser, task_id: TaskId) -> list:
    task = load_task(session, user, task_id)
    return task_history(session, task.id)


@router.get("/tasks/{task_id}/evidence", response_model=list[EvidenceOut], summary="任务的佐证材料")
def list_evidence(session: DbSession, user: CurrentUser, task_id: TaskId) -> list:
    task = load_task(session, user, task_id)
    return task_evidence(session, task.id)


# ---------------------------------------------------------------------------------------------
# moves


def _move(session: Session, user: User, task_id: int, action: str,
          call: Callable[[Task, object], object]) -> TaskOut:
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != user.campaign_id:
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    check_act_on_task(session, user, task, action)
    call(task, acting_person(session, user))  # TransitionError: 409 / 403 / 422 (api.errors)
    session.commit()
    session.refresh(task)
    return TaskPresenter(session, user, task.campaign_id).one(task)


@router.post("/tasks/{task_id}/accept", response_model=TaskOut, responses=CONFLICT_RESPONSE, summary="签收")
def accept(session: DbSession, user: CurrentUser, task_id: TaskId) -> TaskOut:
    return _move(session, user, task_id, "accept", lambda task, person: lifecycle.accept(session, task, person))


@router.post("/tasks/{task_id}/progress", response_model=TaskOut, responses=CONFLICT_RESPONSE, summary="报告进度")
def progress(session: DbSession, user: CurrentUser, task_id: TaskId, body: ProgressIn) -> TaskOut:
    return _move(session, user, task_id, "progress",
                 lambda task, person: lifecycle.report_progress(session, task, person, body.percent, body.note))


@router.post("/tasks/{task_id}/submit", response_model=TaskOut, responses=CONFLICT_RESPONSE, summary="提交")
def submit(session: DbSession, user: CurrentUser, task_id: TaskId, body: NoteIn | None = None) -> TaskOut:
    note = body.note if body else ""
    return _move(session, user, task_id, "submit", lambda task, person: lifecycle.submit(session, task, person, note))


@router.post("/tasks/{task_id}/verify", response_model=TaskOut, responses=CONFLICT_RESPONSE, summary="销号（办公室）")
def verify(session: DbSession, user: CurrentUser, task_id: TaskId, body: NoteIn | None = None) -> TaskOut:
    note = body.note if body else ""
    return _move(session, user, task_id, "verify", lambda task, person: lifecycle.verify(session, task, person, note))


@router.post("/tasks/{task_id}/return", response_model=TaskOut, responses=CONFLICT_RESPONSE, summary="退回（办公室）")
def return_task(session: DbSession, user: CurrentUser, task_id: TaskId, body: ReasonIn) -> TaskOut:
    return _move(session, user, task_id, "return",
                 # the 退回通知 is queued with the move (issue 12 §4)
                 lambda task, person: immediate.return_task(session, task, person, body.reason))


@router.post("/tasks/{task_id}/withdraw", response_model=TaskOut, responses=CONFLICT_RESPONSE, summary="撤销（办公室）")
def withdraw(session: DbSession, user: CurrentUser, task_id: TaskId, body: ReasonIn) -> TaskOut:
    return _move(session, user, task_id, "withdraw",
                 lambda task, person: lifecycle.withdraw(session, task, person, body.reason))

