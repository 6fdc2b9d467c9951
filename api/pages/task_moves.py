"""The office's 督办 moves on the pages (issue 12 §2–3): on a task's page, the pending 延期申请 and
its decision, 调整时限, 转办, 分解 (one sub-task per unit chosen) with the sub-tasks and their
states, 联办 (the cooperating units' shares: their reports, the office's 催办); on a unit's page,
批量签收. Every form is a plain POST with the CSRF token, answered by a redirect; a refused move
shows the task page again with the refusal and the typed values (a refused person: 403), nothing stored."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import MAX_ID, CsrfChecked, DbSession, PageUser
from api.pages.common import flash, redirect
from api.schemas.common import TEXT_PATTERN
from tracker.accounts.access import (
    AccessDenied,
    act_refusal,
    check_cooperator_move,
    check_lead_move,
    check_office_move,
    check_read_task,
    is_responsible,
    require_role,
    role_of,
)
from tracker.accounts.models import User, UserRole
from tracker.accounts.service import acting_person
from tracker.org.models import Campaign
from tracker.tasks import moves
from tracker.tasks.lifecycle import CLOCK_RUNNING, OPEN, NotPermitted, TransitionError
from tracker.tasks.models import Task, TaskStatus
from tracker.tasks.service import TaskNotFound

router = APIRouter(include_in_schema=False)

TaskId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Form(max_length=2000, pattern=TEXT_PATTERN)]
DateText = Annotated[str, Form(max_length=10, pattern=r"^[0-9-]*$")]


def _load(session: Session, user: User, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != user.campaign_id:
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    check_read_task(session, user, task)
    return task


def _allowed(check) -> bool:
    try:
        check()
    except AccessDenied:
        return False
    return True


def moves_context(session: Session, user: User, task: Task) -> dict:
    """What the task page shows and offers of these moves (``_task_moves.html``)."""
    status = TaskStatus(task.status)
    with_unit = status in CLOCK_RUNNING
    office = role_of(user) is UserRole.office
    pending = moves.pending_extension(session, task.id)
    shares = moves.cooperator_shares(session, task)
    kids = moves.children(session, task.id)
    departments, schools = moves.unit_choices(session, task.campaign_id) if office or is_responsible(user, task) else ([], [])
    is_coop = role_of(user) is UserRole.department and any(s.department_id == user.department_id for s in shares)
    return {
        "pending_extension": pending,
        "extensions": moves.task_extensions(session, task.id),
        "children": kids,
        "parent": session.get(Task, task.parent_id) if task.parent_id else None,
        "shares": shares,
        "share_reports": moves.cooperator_reports(session, task.id) if shares else [],
        "can_request_extension": with_unit and pending is None and _allowed(
            lambda: check_lead_move(session, user, task, "申请延期", office_too=False)),
        "can_decide": pending is not None and office,
        "can_redate": office and status in OPEN,
        "can_transfer": office and with_unit,
        "can_split": with_unit and _allowed(lambda: check_lead_move(session, user, task, "分解任务", office_too=True)),
        "can_report_share": is_coop and status in OPEN,
        "can_chase": office and status in OPEN,
        "move_departments": departments,
        "move_schools": schools,
    }


def _date(text: str, field: str) -> dt.date:
    from tracker.tasks.lifecycle import InvalidTaskInput

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidTaskInput(f"{field}必须是日期（YYYY-MM-DD），收到「{text}」") from None


def _do(request: Request, session: Session, user: User, task: Task, back: str, done: str, move,
        form: str, typed: dict) -> Response:
    """Make the move and commit; a refusal of the state or input: the task's page again with the
    refusal and what was typed in ``form`` (nothing stored); of the person: 403 (logged)."""
    try:
        move()
        session.commit()
    except NotPermitted:
        session.rollback()
        raise
    except TransitionError as exc:
        session.rollback()
        from api.pages.tasks import task_page_again  # the task page imports this module's context

        return task_page_again(request, session, user, task, exc, form, typed)
    flash(request, done)
    return redirect(back)


@router.post("/tasks/{task_id}/moves/extension", response_class=HTMLResponse, name="task_extension_request")
def request_extension(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, task_id: TaskId,
                      due_on: DateText = "", reason: Text = "") -> Response:
    task = _load(session, user, task_id)
    check_lead_move(session, user, task, "申请延期", office_too=False)
    return _do(request, session, user, task, f"/tasks/{task_id}", "已提交延期申请，等待办公室审批",
               lambda: moves.request_extension(session, task, acting_person(session, user),
                                               _date(due_on, "申请延至"), reason),
               "extension", {"due_on": due_on, "reason": reason})


@router.post("/extensions/{extension_id}/{decision}", response_class=HTMLResponse, name="task_extension_decide")
def decide_extension(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                     extension_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                     decision: Annotated[str, Path(pattern="^(approve|refuse)$")],
                     reason: Text = "") -> Response:
    ext = moves.get_extension(session, extension_id, user.campaign_id)
    task = _load(session, user, ext.task_id)
    check_office_move(user, "审批延期申请")
    person = acting_person(session, user)
    if decision == "approve":
        return _do(request, session, user, task, f"/tasks/{ext.task_id}", "已同意延期，截止日期已调整",
                   lambda: moves.approve_extension(session, ext, person, reason), "approve", {"reason": reason})
    return _do(request, session, user, task, f"/tasks/{ext.task_id}", "已不同意延期申请",
               lambda: moves.refuse_extension(session, ext, person, reason), "refuse", {"reason": reason})


@router.post("/tasks/{task_id}/moves/due", response_class=HTMLResponse, name="task_redate")
def redate(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, task_id: TaskId,
           due_on: DateText = "", reason: Text = "") -> Response:
    task = _load(session, user, task_id)
    check_office_move(user, "调整截止日期")
    return _do(request, session, user, task, f"/tasks/{task_id}", "已调整截止日期",
               lambda: moves.redate(session, task, acting_person(session, user), _date(due_on, "截止日期"), reason),
               "redate", {"due_on": due_on, "reason": reason})


@router.post("/tasks/{task_id}/moves/transfer", response_class=HTMLResponse, name="task_transfer")
def transfer(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, task_id: TaskId,
             lead: Annotated[str, Form(max_length=200, pattern=TEXT_PATTERN)] = "", reason: Text = "") -> Response:
    task = _load(session, user, task_id)
    check_office_move(user, "转办")
    campaign = session.get(Campaign, task.campaign_id)
    return _do(request, session, user, task, f"/tasks/{task_id}", "已转办",
               lambda: moves.transfer(session, task, acting_person(session, user),
                                      moves.find_unit(session, campaign, lead, "新的牵头单位"), reason),
               "transfer", {"lead": lead, "reason": reason})


@router.post("/tasks/{task_id}/moves/split", response_class=HTMLResponse, name="task_split")
def split(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, task_id: TaskId,
          title: Annotated[str, Form(max_length=500, pattern=TEXT_PATTERN)] = "",
          units: Annotated[list[str] | None, Form(max_length=500)] = None,
          due_on: DateText = "", measures: Text = "") -> Response:
    """One sub-task per unit chosen, all with the same title and date ("各学校 5 月底前完成")."""
    task = _load(session, user, task_id)
    check_lead_move(session, user, task, "分解任务", office_too=True)
    campaign = session.get(Campaign, task.campaign_id)

    def make() -> None:
        if not units:
            from tracker.tasks.lifecycle import InvalidTaskInput

            raise InvalidTaskInput("请至少选择一个承办单位或学校")
        day = _date(due_on, "截止日期")
        moves.split(session, task, acting_person(session, user),
                    [moves.SubTask(title, moves.find_unit(session, campaign, name, "承办单位"), day, measures)
                     for name in dict.fromkeys(u.strip() for u in units)])

    return _do(request, session, user, task, f"/tasks/{task_id}#children", "已分解任务", make,
               "split", {"title": title, "units": units or [], "due_on": due_on, "measures": measures})


@router.post("/tasks/{task_id}/moves/share", response_class=HTMLResponse, name="task_share_report")
def report_share(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, task_id: TaskId,
                 percent: Annotated[str, Form(max_length=10)] = "", note: Text = "",
                 evidence_id: Annotated[str, Form(max_length=12, pattern=r"^[0-9]*$")] = "") -> Response:
    """A cooperating unit's report, optionally naming one of the task's evidence files (the same
    files the page lists to it; the store refuses a file of another task)."""
    task = _load(session, user, task_id)
    check_cooperator_move(session, user, task, "报告配合事项进展")

    def make() -> None:
        from tracker.tasks.lifecycle import InvalidTaskInput

        try:
            value = int(percent.strip())
        except ValueError:
            raise InvalidTaskInput(f"进度必须是 0 到 100 之间的整数，收到「{percent}」") from None
        moves.cooperator_report(session, task, acting_person(session, user), value, note,
                                int(evidence_id) if evidence_id else None)

    return _do(request, session, user, task, f"/tasks/{task_id}#shares", "已报告配合事项进展", make,
               "share", {"percent": percent, "note": note, "evidence_id": evidence_id})


@router.post("/tasks/{task_id}/moves/chase/{department_id}", response_class=HTMLResponse, name="task_chase_share")
def chase_share(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, task_id: TaskId,
                department_id: Annotated[int, Path(ge=1, le=MAX_ID)], note: Text = "") -> Response:
    task = _load(session, user, task_id)
    check_office_move(user, "催办配合单位")
    return _do(request, session, user, task, f"/tasks/{task_id}#shares", "已向配合单位发出催办",
               lambda: moves.chase_cooperator(session, task, acting_person(session, user), department_id, note),
               "chase", {"department_id": department_id, "note": note})


@router.post("/units/accept", response_class=HTMLResponse, name="batch_accept")
def batch_accept(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                 task_ids: Annotated[list[int] | None, Form(max_length=500)] = None,
                 back: Annotated[str, Form(max_length=200, pattern=r"^/(departments|schools)/[0-9]+$")] = "/tasks",
                 ) -> Response:
    """批量签收 from a unit's page: every ticked task signed in one transaction, one event each;
    the ones that could not be signed listed in the message."""
    require_role(user, UserRole.office, UserRole.department, UserRole.school, what="签收任务")
    ids = list(dict.fromkeys(i for i in (task_ids or []) if 1 <= i <= MAX_ID))
    if not ids:
        flash(request, "请先勾选要签收的任务", "error")
        return redirect(back)
    found = moves.tasks_by_id(session, user.campaign_id, ids)
    refused: list[str] = []
    ready: list[Task] = []
    for task_id in ids:
        task = found.get(task_id)
        reason = f"没有编号为 #{task_id} 的任务" if task is None else act_refusal(session, user, task, "accept")
        if reason is not None:
            refused.append(reason)
        else:
            ready.append(task)
    done, not_signed = moves.accept_many(session, ready, acting_person(session, user))
    session.commit()
    refused += [r.reason for r in not_signed]
    if done:
        flash(request, f"已签收 {len(done)} 项任务")
    if refused:
        flash(request, f"{len(refused)} 项未能签收：" + "；".join(refused[:5]) + ("……" if len(refused) > 5 else ""),
              "error")
    return redirect(back)


def unsigned_of(rows: list) -> list:
    """The 待签收 rows of a unit's task list (the batch form's choices)."""
    return [r for r in rows if r.task.status == TaskStatus.assigned.value]


