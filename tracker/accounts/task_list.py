"""The task list's query, in one place: which tasks a user sees with some filters, a page at a
time (``visible_to``), used by the API (``GET /api/v1/campaigns/{code}/tasks``) and the task list
page alike. It stands in the accounts room because what a user sees is an access rule
(``tracker.accounts.access.task_clause``).

Cost per list, whatever the campaign's size: one query for the page, with each task's unit name and
cooperating units joined in and, where the tallies can say it (office and reviewers, no school,
indicator or overdue filter), the "of N" from them as a scalar subquery; else one more statement
(the tallies, or a COUNT) (``ix_task_campaign_due`` serves the order a page at a time). The
campaign itself is read without its plan (``tracker.org.queries.campaign_by_code``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Engine, Row, bindparam, func, type_coerce
from sqlmodel import Session, select

from tracker.accounts.access import sees_whole_campaign, task_clause
from tracker.accounts.models import ApiToken, User, UserRole
from tracker.accounts.service import token_hash
from tracker.db import read_alone, utcnow
from tracker.org.models import Campaign, Department, Phase, School
from tracker.org.queries import CAMPAIGN_REMINDERS
from tracker.reminders.lights import section_yellow_within
from tracker.tasks.lifecycle import CLOCK_RUNNING
from tracker.tasks.models import Task, TaskCooperator, TaskExtension
from tracker.tasks.queries import LIST_STAMP
from tracker.tasks.search import text_clause
from tracker.tasks.tally import count_tasks_query, tallied_count


@dataclass(frozen=True, slots=True)
class TaskFilters:
    status: str | None = None
    department_id: int | None = None
    school_id: int | None = None  # the school a task is about or that is responsible
    indicator: str | None = None
    phase_code: str | None = None
    overdue: bool | None = None  # True: only overdue; False: only not overdue
    returned: bool | None = None  # True: only 已退回 (returned, not yet resubmitted); False: the others
    q: str | None = None  # text search (issue 12 §8): see ``text_clause``


@dataclass(frozen=True, slots=True)
class TaskPage:
    rows: list[Any]  # Rows: every task column, department_name, school_name, cooperating (JSON array
    # of ids), the pending 延期申请's columns (pending_id, pending_due_on, …: pending_extension_of)
    total: int


TaskRow = Row  # a row of the list query (a task's columns and joined names), for isinstance checks


def cooperating_of(row: Any) -> list[int]:
    """A listed row's cooperating department ids, ascending."""
    return sorted(row.cooperating or ())


def _cooperating(dialect: str):
    """Each task's cooperating department ids as a JSON array, by a correlated subquery per row
    (NULL for none on PostgreSQL)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        agg = func.json_agg(aggregate_order_by(TaskCooperator.department_id, TaskCooperator.department_id))
    else:
        agg = func.json_group_array(TaskCooperator.department_id)  # order: sorted by the caller
    return type_coerce(select(agg).where(TaskCooperator.task_id == Task.id).correlate(Task).scalar_subquery(), JSON)


_PAGE_SELECTS: dict[str, Any] = {}

# the pending 延期申请's columns in a listed row, each as pending_<name> (all NULL when none)
PENDING_COLUMNS = ("id", "due_from", "due_on", "reason", "requested_by", "requested_at")


def pending_extension_of(row: Any) -> dict | None:
    """A listed row's pending 延期申请 as a dict of PENDING_COLUMNS, or None."""
    if row.pending_id is None:
        return None
    return {name: getattr(row, f"pending_{name}") for name in PENDING_COLUMNS}


def _page_select(dialect: str):
    """The list's columns and joins, built once per dialect: coercing some forty columns on every
    request was a sixth of a list request's Python (statements are immutable: each request adds
    its conditions to a copy)."""
    found = _PAGE_SELECTS.get(dialect)
    if found is None:
        found = _PAGE_SELECTS[dialect] = (
            select(*Task.__table__.columns, Department.name.label("department_name"),
                   School.name.label("school_name"), _cooperating(dialect).label("cooperating"),
                   *(getattr(TaskExtension, name).label(f"pending_{name}") for name in PENDING_COLUMNS))
            .outerjoin(Department, Department.id == Task.department_id)
            .outerjoin(School, School.id == Task.responsible_school_id)
            # the pending 延期申请 (at most one: pending_task_id is unique), joined rather than read
            # by one more statement per page
            .outerjoin(TaskExtension, TaskExtension.pending_task_id == Task.id))
    return found


def visible_to(session: Session, user: User, campaign_id: int, filters: TaskFilters, *, limit: int, offset: int,
               today: dt.date) -> TaskPage:
    """The tasks of the campaign the user may see, filtered, in due-date order: one page of rows
    and the number of all that match."""
    conditions = [task_clause(user), Task.campaign_id == campaign_id]
    if filters.status is not None:
        conditions.append(Task.status == filters.status)
    if filters.department_id is not None:
        conditions.append(Task.department_id == filters.department_id)
    if filters.school_id is not None:
        conditions.append((Task.school_id == filters.school_id) | (Task.responsible_school_id == filters.school_id))
    if filters.indicator is not None:
        conditions.append(Task.indicator == filters.indicator)
    phase_ids = None
    if filters.phase_code is not None:
        phase_ids = list(session.exec(select(Phase.id).where(Phase.campaign_id == campaign_id,
                                                              Phase.code == filters.phase_code)))
        conditions.append(Task.phase_id.in_(phase_ids))
    if filters.overdue is not None:
        clause = Task.status.in_([s.value for s in CLOCK_RUNNING]) & (Task.due_on < today)
        conditions.append(clause if filters.overdue else ~clause)
    if filters.returned is not None:  # 已退回 (issue 12 §4): the tallies cannot say it
        conditions.append(Task.return_reason.is_not(None) if filters.returned else Task.return_reason.is_(None))
    if filters.q:
        conditions.append(text_clause(filters.q))
    tallied = (sees_whole_campaign(user) and filters.school_id is None and filters.indicator is None
               and filters.returned is None and not filters.q)
    extra = []
    if tallied and filters.overdue is None:
        # the "of N" from the tallies rides along in the page's query (one round trip fewer)
        extra = [count_tasks_query(campaign_id, status=filters.status, department_id=filters.department_id,
                                   phase_ids=phase_ids).scalar_subquery().label("tallied_total")]
    dialect = session.get_bind().dialect.name
    rows = session.exec(_page_select(dialect).add_columns(*extra)
                        .where(*conditions).order_by(Task.due_on, Task.id).limit(limit).offset(offset)).all()
    total = rows[0].tallied_total if extra and rows else None
    if total is None and tallied:
        # the "of N" from the tallies: the same with 1,000 tasks or 1,000,000
        total = tallied_count(session, campaign_id, today, status=filters.status,
                              department_id=filters.department_id, phase_ids=phase_ids, overdue=filters.overdue)
    if total is None:
        total = session.exec(select(func.count()).select_from(Task).where(*conditions)).one()
    return TaskPage(rows=list(rows), total=int(total))


# --- what a list's content depends on, besides the store (issue 10: api/v1/task_list_cache.py) ---


@dataclass(frozen=True, slots=True)
class ListView:
    """Everything of who asks and of the campaign that a task list's answer depends on, but the
    date and the query: two requests with equal views, dates and queries get the same answer as
    long as the campaign's task-list revision (``stamp``; None: not known) has not moved."""

    campaign_id: int
    user_campaign_id: int
    role: str
    department_id: int | None
    school_id: int | None
    yellow_within: int  # the plan's light rule
    stamp: int | None


def list_view(user: User, campaign_id: int, yellow_within: int, stamp: int | None) -> ListView:
    return ListView(campaign_id, user.campaign_id, UserRole(user.role).value, user.department_id, user.school_id,
                    yellow_within, stamp)


# the token's user, the campaign of a code and its revision: one statement, Core (no ORM objects),
# built once (a kept answer costs this statement and little else)
_VIEW_OF_TOKEN = (
    select(User.campaign_id, User.role, User.department_id, User.school_id, User.active, Campaign.id,
           CAMPAIGN_REMINDERS, LIST_STAMP)
    .join(ApiToken, ApiToken.user_id == User.id)
    .join(Campaign, Campaign.code == bindparam("code"))
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.expires_at > bindparam("now")))


def list_view_of_token(engine: Engine, token: str, code: str) -> ListView | None:
    """The ``ListView`` of a bearer token's user on the campaign with ``code``, when the token is
    valid, its user active, not a region account and of that campaign; else None (the caller then
    answers the request the ordinary way, with its errors). One statement on a connection of its
    own, outside any transaction (``tracker.db.read_alone``: on PostgreSQL that saves the BEGIN and
    ROLLBACK round trips, 1.4 → 0.5–0.7 ms a look-up)."""
    if not token or len(token) > 128:
        return None
    with read_alone(engine) as conn:
        row = conn.execute(
            _VIEW_OF_TOKEN, {"code": code, "token_hash": token_hash(token), "now": utcnow()}).first()
    if row is None:
        return None
    user_campaign, role, department_id, school_id, active, campaign_id, reminders, stamp = row
    if not active or role == UserRole.region.value or user_campaign != campaign_id:
        return None
    return ListView(campaign_id, user_campaign, UserRole(role).value, department_id, school_id,
                    section_yellow_within(reminders), stamp)
