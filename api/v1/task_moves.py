"""The office's 督办 moves (issue 12 §2–3) through tracker.tasks.moves: 延期申请 and its approval or
refusal, 调整时限, 转办, 分解, 联办 (a cooperating unit's report; 催办 of one cooperating unit),
批量签收. Each route checks the user's role (tracker.accounts.access: 403, logged), makes the move
(a refused move: 409 / 403 / 422 with the Chinese reason, nothing stored) and commits once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlmodel import Session

from api.deps import MAX_ID, CurrentUser, DbSession, UserCampaign
from api.errors import CONFLICT_RESPONSE
from api.schemas.task_moves import (
    BatchAcceptIn,
    BatchAcceptOut,
    ChaseIn,
    ChaseOut,
    CooperatorReportIn,
    CooperatorReportOut,
    DecisionIn,
    ExtensionIn,
    ExtensionOut,
    RedateIn,
    RefusalIn,
    RefusedOut,
    SplitIn,
    TransferIn,
)
from api.schemas.tasks import TaskOut
from api.v1.tasks import TaskPresenter, load_task
from tracker.accounts.access import (
    act_refusal,
    check_cooperator_move,
    check_lead_move,
    check_office_move,
    check_read_task,
    require_role,
    task_clause,
)
from tracker.accounts.models import User, UserRole
from tracker.accounts.service import acting_person
from tracker.org.models import Campaign
from tracker.tasks import moves
from tracker.tasks.models import ExtensionStatus, Task

router = APIRouter(tags=["任务督办"])

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="任务编号")]
ExtensionId = Annotated[int, Path(ge=1, le=MAX_ID, description="延期申请编号")]
DepartmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="配合单位编号")]


def _task_out(session: Session, user: User, task: Task) -> TaskOut:
    session.refresh(task)
    return TaskPresenter(session, user, task.campaign_id).one(task)


# ---------------------------------------------------------------------------------------------
# 延期申请


@router.post("/tasks/{task_id}/extension", response_model=ExtensionOut, status_code=201,
             responses=CONFLICT_RESPONSE, summary="申请延期（牵头单位）")
def request_extension(session: DbSession, user: CurrentUser, task_id: TaskId, body: ExtensionIn) -> ExtensionOut:
    task = load_task(session, user, task_id)
    check_lead_move(session, user, task, "申请延期", office_too=False)
    ext = moves.request_extension(session, task, acting_person(session, user), body.due_on, body.reason)
    session.commit()
    return ExtensionOut.model_validate(ext)


@router.get("/tasks/{task_id}/extensions", response_model=list[ExtensionOut], summary="任务的延期申请")
def list_extensions(session: DbSession, user: CurrentUser, task_id: TaskId) -> list:
    task = load_task(session, user, task_id)
    return moves.task_extensions(session, task.id)


@router.get("/campaigns/{campaign}/extensions", response_model=list[ExtensionOut], summary="延期申请列表")
def campaign_extensions(session: DbSession, user: CurrentUser, campaign: UserCampaign,
                        status: Annotated[ExtensionStatus | None, Query(description="状态，如 待审批")] = None,
                        ) -> list:
    """The office's queue (``?status=待审批``) and the record; a unit sees its own tasks' requests."""
    return moves.campaign_extensions(session, campaign.id, status=status, visible=task_clause(user))


def _load_extension(session: Session, user: User, extension_id: int):
    ext = moves.get_extension(session, extension_id, user.campaign_id)  # another campaign's: 404
    check_read_task(session, user, session.get(Task, ext.task_id))
    return ext


@router.post("/extensions/{extension_id}/approve", response_model=ExtensionOut, responses=CONFLICT_RESPONSE,
             summary="同意延期（办公室）")
def approve_extension(session: DbSession, user: CurrentUser, extension_id: ExtensionId,
                      body: DecisionIn | None = None) -> ExtensionOut:
    ext = _load_extension(session, user, extension_id)
    check_office_move(user, "审批延期申请")
    moves.approve_extension(session, ext, acting_person(session, user), body.note if body else "")
    session.commit()
    session.refresh(ext)
    return ExtensionOut.model_validate(ext)


@router.post("/extensions/{extension_id}/refuse", response_model=ExtensionOut, responses=CONFLICT_RESPONSE,
             summary="不同意延期（办公室）")
def refuse_extension(session: DbSession, user: CurrentUser, extension_id: ExtensionId,
                     body: RefusalIn) -> ExtensionOut:
    ext = _load_extension(session, user, extension_id)
    check_office_move(user, "审批延期申请")
    moves.refuse_extension(session, ext, acting_person(session, user), body.reason)
    session.commit()
    session.refresh(ext)
    return ExtensionOut.model_validate(ext)


# ---------------------------------------------------------------------------------------------
# 调整时限, 转办, 分解


@router.post("/tasks/{task_id}/due", response_model=TaskOut, responses=CONFLICT_RESPONSE,
             summary="调整截止日期（办公室）")
def redate(session: DbSession, user: CurrentUser, task_id: TaskId, body: RedateIn) -> TaskOut:
    task = load_task(session, user, task_id)
    check_office_move(user, "调整截止日期")
    moves.redate(session, task, acting_person(session, user), body.due_on, body.reason)
    session.commit()
    return _task_out(session, user, task)


@router.post("/tasks/{task_id}/transfer", response_model=TaskOut, responses=CONFLICT_RESPONSE,
             summary="转办（办公室）")
def transfer(session: DbSession, user: CurrentUser, task_id: TaskId, body: TransferIn) -> TaskOut:
    task = load_task(session, user, task_id)
    check_office_move(user, "转办")
    unit = moves.find_unit(session, session.get(Campaign, task.campaign_id), body.lead, "新的牵头单位")
    moves.transfer(session, task, acting_person(session, user), unit, body.reason)
    session.commit()
    return _task_out(session, user, task)


@router.post("/tasks/{task_id}/split", response_model=list[TaskOut], status_code=201,
             responses=CONFLICT_RESPONSE, summary="分解任务（牵头单位或办公室）")
def split(session: DbSession, user: CurrentUser, task_id: TaskId, body: SplitIn) -> list[TaskOut]:
    task = load_task(session, user, task_id)
    check_lead_move(session, user, task, "分解任务", office_too=True)
    campaign = session.get(Campaign, task.campaign_id)
    subtasks = [moves.SubTask(c.title, moves.find_unit(session, campaign, c.lead, f"第 {n} 项子任务的责任单位"),
                              c.due_on, c.measures) for n, c in enumerate(body.children, start=1)]
    made = moves.split(session, task, acting_person(session, user), subtasks)
    session.commit()
    return TaskPresenter(session, user, task.campaign_id).many(made)


@router.get("/tasks/{task_id}/children", response_model=list[TaskOut], summary="分解的子任务")
def list_children(session: DbSession, user: CurrentUser, task_id: TaskId) -> list[TaskOut]:
    task = load_task(session, user, task_id)
    return TaskPresenter(session, user, task.campaign_id).many(moves.children(session, task.id))


# ---------------------------------------------------------------------------------------------
# 联办


@router.post("/tasks/{task_id}/cooperator-report", response_model=CooperatorReportOut, status_code=201,
             responses=CONFLICT_RESPONSE, summary="报告配合事项进展（配合单位）")
def cooperator_report(session: DbSession, user: CurrentUser, task_id: TaskId,
                      body: CooperatorReportIn) -> CooperatorReportOut:
    task = load_task(session, user, task_id)
    check_cooperator_move(session, user, task, "报告配合事项进展")
    report = moves.cooperator_report(session, task, acting_person(session, user), body.percent, body.note,
                                     body.evidence_id)
    session.commit()
    return CooperatorReportOut.model_validate(report)


@router.get("/tasks/{task_id}/cooperator-reports", response_model=list[CooperatorReportOut],
            summary="配合单位的进展报告")
def list_cooperator_reports(session: DbSession, user: CurrentUser, task_id: TaskId) -> list:
    task = load_task(session, user, task_id)
    return moves.cooperator_reports(session, task.id)


@router.post("/tasks/{task_id}/cooperators/{department_id}/chase", response_model=ChaseOut, status_code=201,
             responses=CONFLICT_RESPONSE, summary="催办配合单位（办公室）")
def chase_cooperator(session: DbSession, user: CurrentUser, task_id: TaskId, department_id: DepartmentId,
                     body: ChaseIn | None = None) -> ChaseOut:
    task = load_task(session, user, task_id)
    check_office_move(user, "催办配合单位")
    event = moves.chase_cooperator(session, task, acting_person(session, user), department_id,
                                   body.note if body else "")
    session.commit()
    return ChaseOut(task_id=task.id, department_id=department_id, unit=event.payload["unit"],
                    occurrence=event.payload["occurrence"], recipients=event.payload["recipients"])


# ---------------------------------------------------------------------------------------------
# 批量签收


@router.post("/campaigns/{campaign}/tasks/accept", response_model=BatchAcceptOut, summary="批量签收")
def accept_many(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: BatchAcceptIn) -> BatchAcceptOut:
    """Each task is signed as ``POST /tasks/{id}/accept`` would (one event each), all in one
    transaction; the tasks that cannot be signed are listed with the reason, the others signed."""
    require_role(user, UserRole.office, UserRole.department, UserRole.school, what="签收任务")
    ids = list(dict.fromkeys(body.task_ids))
    found = moves.tasks_by_id(session, campaign.id, ids)
    refused: list[RefusedOut] = []
    ready: list[Task] = []
    for task_id in ids:
        task = found.get(task_id)
        reason = f"没有编号为 #{task_id} 的任务" if task is None else act_refusal(session, user, task, "accept")
        if reason is not None:
            refused.append(RefusedOut(task_id=task_id, reason=reason))
        else:
            ready.append(task)
    done, not_signed = moves.accept_many(session, ready, acting_person(session, user))
    session.commit()
    refused += [RefusedOut(task_id=r.task_id, reason=r.reason) for r in not_signed]
    order = {task_id: n for n, task_id in enumerate(ids)}
    return BatchAcceptOut(accepted=[t.id for t in done], refused=sorted(refused, key=lambda r: order[r.task_id]))
