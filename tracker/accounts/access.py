"""Who may see and change what, for the web (API and pages alike).

- office (办公室): everything of its campaign, every task move.
- department (责任单位): the tasks it leads — sees them and signs, reports, submits; the tasks it
  cooperates on (配合) — sees them only. Findings addressed to it; shortfalls behind its tasks.
- school (学校): the tasks it is responsible for (signs, reports, submits) and the tasks about it
  (sees them); its own rows of the data; its own shortfalls and findings.
- reviewer (评估人员): sees everything of the campaign, changes nothing.

Nothing here looks outside the user's campaign: callers answer 404 for another campaign's rows
(they do not exist for this user) and ``AccessDenied`` (403, logged) for rows of the campaign the
user may not see or change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import and_, false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from tracker.accounts.models import ROLE_NAMES, User, UserRole
from tracker.appraisal.service import UnitAppraisal, unit_rows
from tracker.assessment.models import ShortfallRecord
from tracker.reviews.models import ReviewFinding
from tracker.events.models import Event
from tracker.org.models import School
from tracker.org.service import UnknownName
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.schooldata.queries import submission_is_visible
from tracker.tasks.lifecycle import TRANSITIONS
from tracker.tasks.models import Task, TaskCooperator, TaskOrigin
from tracker.errors import ErrorKind, JunhengError

UNIT_ACTIONS = frozenset({"accept", "progress", "submit"})  # what a responsible unit does itself
OFFICE_ACTIONS = frozenset({"verify", "return", "withdraw"})
PERSON_ACTIONS = UNIT_ACTIONS | OFFICE_ACTIONS  # the moves a person makes (the rest are the system's)


class AccessDenied(JunhengError, kind=ErrorKind.forbidden):
    """The user may not do this (Chinese message); answered 403 and logged."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def role_of(user: User) -> UserRole:
    return UserRole(user.role)


def sees_whole_campaign(user: User) -> bool:
    return role_of(user) in (UserRole.office, UserRole.reviewer)


def require_role(user: User, *roles: UserRole, what: str = "此操作") -> None:
    if role_of(user) not in roles:
        allowed = "、".join(ROLE_NAMES[r] for r in roles)
        raise AccessDenied(f"{what}仅限{allowed}，当前用户「{user.name}」是{ROLE_NAMES[role_of(user)]}")


# ---------------------------------------------------------------------------------------------
# tasks


def cooperating_task_ids(department_id: int):
    return select(TaskCooperator.task_id).where(TaskCooperator.department_id == department_id)


def task_clause(user: User) -> ColumnElement[bool]:
    """A WHERE clause on ``Task`` for the tasks the user sees (campaign included)."""
    in_campaign = Task.campaign_id == user.campaign_id
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return in_campaign
    if role is UserRole.department and user.department_id is not None:
        return and_(in_campaign, or_(Task.department_id == user.department_id,
                                     Task.id.in_(cooperating_task_ids(user.department_id))))
    if role is UserRole.school and user.school_id is not None:
        return and_(in_campaign, or_(Task.responsible_school_id == user.school_id, Task.school_id == user.school_id))
    return false()


def _is_cooperator(session: Session, user: User, task: Task, cooperating: Collection[int] | None) -> bool:
    if user.department_id is None:
        return False
    if cooperating is not None:
        return user.department_id in cooperating
    return session.get(TaskCooperator, (task.id, user.department_id)) is not None


def can_read_task(session: Session, user: User, task: Task, cooperating: Collection[int] | None = None) -> bool:
    """``cooperating``: the task's cooperating department ids when the caller has them (saves a query)."""
    if task.campaign_id != user.campaign_id:
        return False
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return True
    if role is UserRole.department:
        return user.department_id is not None and (
            task.department_id == user.department_id or _is_cooperator(session, user, task, cooperating))
    if role is UserRole.school:
        return user.school_id is not None and user.school_id in (task.responsible_school_id, task.school_id)
    return False


def check_read_task(session: Session, user: User, task: Task) -> None:
    if not can_read_task(session, user, task):
        raise AccessDenied(f"任务 #{task.id} 不属于本单位，无权查看")


def is_responsible(user: User, task: Task) -> bool:
    role = role_of(user)
    if role is UserRole.department:
        return user.department_id is not None and task.department_id == user.department_id
    if role is UserRole.school:
        return user.school_id is not None and task.responsible_school_id == user.school_id
    return False


def act_refusal(session: Session, user: User, task: Task, action: str,
                cooperating: Collection[int] | None = None) -> str | None:
    """Why the user may not make ``action`` on the task (Chinese), or None when they may.
    The task's state is the lifecycle's business, checked after this."""
    label = TRANSITIONS[action].label
    role = role_of(user)
    if action not in PERSON_ACTIONS:
        return f"「{label}」由系统完成，不能手工操作"
    if role is UserRole.reviewer:
        return f"评估人员只能查看，不能{label}任务"
    if role is UserRole.office:
        return None
    if not can_read_task(session, user, task, cooperating):
        return f"任务 #{task.id} 不属于本单位，无权{label}"
    if action in OFFICE_ACTIONS:
        return f"只有领导小组办公室可以{label}任务"
    if not is_responsible(user, task):
        return f"本单位只是任务 #{task.id} 的配合单位或相关学校，只能查看，不能{label}"
    return None


def check_act_on_task(session: Session, user: User, task: Task, action: str) -> None:
    refusal = act_refusal(session, user, task, action)
    if refusal is not None:
        raise AccessDenied(refusal)


def permitted_actions(session: Session, user: User, task: Task,
                      cooperating: Collection[int] | None = None) -> list[str]:
    """The moves the user may make on the task now: their rights and the task's state."""
    return [a for a in TRANSITIONS if a in PERSON_ACTIONS and TRANSITIONS[a].target(task) is not None
            and act_refusal(session, user, task, a, cooperating) is None]


# ---------------------------------------------------------------------------------------------
# the office's 督办 moves (issue 12 §2–3, tracker.tasks.moves): who may ask for them; the task's
# state and the acting person are checked again by the move itself


def _not_reviewer(user: User, label: str) -> None:
    if role_of(user) is UserRole.reviewer:
        raise AccessDenied(f"评估人员只能查看，不能{label}")


def check_office_move(user: User, label: str) -> None:
    """调整时限, 转办, 审批延期申请, 催办配合单位: the office only."""
    _not_reviewer(user, label)
    if role_of(user) is not UserRole.office:
        raise AccessDenied(f"只有领导小组办公室可以{label}")


def check_lead_move(session: Session, user: User, task: Task, label: str, *, office_too: bool) -> None:
    """延期申请 (lead unit only), 分解 (lead unit or office)."""
    _not_reviewer(user, label)
    role = role_of(user)
    if role is UserRole.office:
        if office_too:
            return
        raise AccessDenied(f"{label}由任务的牵头单位提出，办公室可以直接调整截止日期")
    if not can_read_task(session, user, task):
        raise AccessDenied(f"任务 #{task.id} 不属于本单位，无权{label}")
    if not is_responsible(user, task):
        raise AccessDenied(f"只有任务 #{task.id} 的牵头单位可以{label}")


def check_cooperator_move(session: Session, user: User, task: Task, label: str) -> None:
    """联办: a cooperating department reports on its share."""
    _not_reviewer(user, label)
    if role_of(user) is not UserRole.department or not can_read_task(session, user, task) \
            or not _is_cooperator(session, user, task, None):
        raise AccessDenied(f"只有任务 #{task.id} 的配合单位可以{label}")


# ---------------------------------------------------------------------------------------------
# other rows of the campaign


def event_clause(user: User) -> ColumnElement[bool]:
    """Events the user sees: all of the campaign for office and reviewers; the events of the
    tasks they see for units."""
    in_campaign = Event.campaign_id == user.campaign_id
    if sees_whole_campaign(user):
        return in_campaign
    return and_(in_campaign, Event.task_id.in_(select(Task.id).where(task_clause(user))))


def shortfall_clause(user: User) -> ColumnElement[bool]:
    in_campaign = ShortfallRecord.campaign_id == user.campaign_id
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return in_campaign
    if role is UserRole.school and user.school_id is not None:
        return and_(in_campaign, ShortfallRecord.school_id == user.school_id)
    if role is UserRole.department and user.department_id is not None:
        # the shortfalls behind the unit's own tasks: a task's origin key is its shortfall's key
        keys = select(Task.origin_key).where(Task.campaign_id == user.campaign_id,
                                             Task.department_id == user.department_id,
                                             Task.origin == TaskOrigin.shortfall.value)
        return and_(in_campaign, ShortfallRecord.key.in_(keys))
    return false()


def finding_clause(user: User) -> ColumnElement[bool]:
    in_campaign = ReviewFinding.campaign_id == user.campaign_id
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return in_campaign
    if role is UserRole.department and user.department_id is not None:
        return and_(in_campaign, ReviewFinding.department_id == user.department_id)
    if role is UserRole.school and user.school_id is not None:
        return and_(in_campaign, ReviewFinding.school_id == user.school_id)
    return false()


def data_row_clause(user: User, school_key: str | None) -> ColumnElement[bool]:
    """Rows of a submission the user sees: all for office and reviewers, its own for a school."""
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return true()
    if role is UserRole.school and school_key is not None:
        return SchoolDataRow.school_key == school_key
    return false()


def submission_clause(user: User) -> ColumnElement[bool]:
    """Data submissions the user sees: all of the campaign for office and reviewers; for a school,
    what it sent itself and the county data holding its row."""
    in_campaign = DataSubmission.campaign_id == user.campaign_id
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return in_campaign
    if role is UserRole.school and user.school_id is not None:
        key = select(School.key).where(School.id == user.school_id).scalar_subquery()
        holding = select(SchoolDataRow.submission_id).where(SchoolDataRow.school_key == key)
        return and_(in_campaign, or_(DataSubmission.school_id == user.school_id, DataSubmission.id.in_(holding)))
    return false()


def visible_submission(session: Session, user: User, submission_id: int) -> DataSubmission:
    """The submission, when the user may see it: ``UnknownName`` (404) when the campaign has no
    such submission, ``AccessDenied`` when the user may not read school data or this submission."""
    submission = session.get(DataSubmission, submission_id)
    if submission is None or submission.campaign_id != user.campaign_id:
        raise UnknownName(f"没有编号为 #{submission_id} 的数据批次")
    check_reads_school_data(user)
    if not submission_is_visible(session, submission_id, submission_clause(user)):
        raise AccessDenied(f"数据批次 #{submission_id} 中没有本校的数据，无权查看")
    return submission


def check_reads_school_data(user: User) -> None:
    require_role(user, UserRole.office, UserRole.reviewer, UserRole.school, what="查看学校数据")


def check_reads_county_results(user: User) -> None:
    require_role(user, UserRole.office, UserRole.reviewer, what="查看全县评估结果")


# ---------------------------------------------------------------------------------------------
# 考核 (issue 12 §7)


def visible_appraisal_rows(user: User, rows: Sequence[UnitAppraisal]) -> list[UnitAppraisal]:
    """The rows of the 考核 table the user sees: all for office and reviewers (the city's too); a
    department or a school its own row only."""
    role = role_of(user)
    if role in (UserRole.office, UserRole.reviewer):
        return list(rows)
    if role is UserRole.department and user.department_id is not None:
        return unit_rows(rows, department_id=user.department_id)
    if role is UserRole.school and user.school_id is not None:
        return unit_rows(rows, school_id=user.school_id)
    return []


def check_issues_appraisal_notice(user: User) -> None:
    require_role(user, UserRole.office, what="印发通报表扬、通报批评")


def check_assigns_tasks(user: User) -> None:
    """交办 (create, import, edit office tasks): the office only (issue 12)."""
    require_role(user, UserRole.office, what="交办任务")
