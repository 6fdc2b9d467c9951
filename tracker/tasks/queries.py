"""The task list's queries, in one place: which tasks a user sees with some filters, a page at a
time (``visible_to``), used by the API (``GET /api/v1/campaigns/{code}/tasks``) and the task list
page alike; and the campaign lookup a request starts with, which leaves the plan unread.

Cost per list, whatever the campaign's size: one query for the page, with each task's unit name and
cooperating units joined in and, where the tallies can say it (office and reviewers, no school,
indicator or overdue filter), the "of N" from them as a scalar subquery; else one more statement
(the tallies, or a COUNT) (``ix_task_campaign_due`` serves the
order a page at a time).

The plan. A campaign's stored plan is a JSON document (32 KB in a real county) that a list needs
only one thing of: the 提醒 section's light rule. ``campaign_by_code`` reads the campaign without
its plan and the section alone, which ``reminders_section`` then gives without another query for
the rest of the request (``tracker.reminders.lights.campaign_yellow_within`` parses it once per
distinct section).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, func, type_coerce
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from tracker.accounts.access import sees_whole_campaign, task_clause
from tracker.accounts.models import User
from tracker.campaigns.models import Campaign, Department, Phase, School
from tracker.tasks.lifecycle import CLOCK_RUNNING
from tracker.tasks.models import Task, TaskCooperator
from tracker.tasks.tally import count_tasks_query, tallied_count

_SECTION_KEY = "junheng.reminders_section"  # session.info: campaign id → its plan's 提醒 section


@dataclass(frozen=True, slots=True)
class TaskFilters:
    status: str | None = None
    department_id: int | None = None
    school_id: int | None = None  # the school a task is about or that is responsible
    indicator: str | None = None
    phase_code: str | None = None
    overdue: bool | None = None  # True: only overdue; False: only not overdue


@dataclass(frozen=True, slots=True)
class TaskPage:
    rows: list[Any]  # Rows: every task column, department_name, school_name, cooperating (JSON array of ids)
    total: int


def cooperating_of(row: Any) -> list[int]:
    """A listed row's cooperating department ids, ascending."""
    return sorted(row.cooperating or ())


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    """The campaign with this code, its plan left unread (loaded if touched); its 提醒 section is
    kept for ``reminders_section``."""
    section = Campaign.plan["reminders"]
    found = session.exec(select(Campaign, section).options(defer(Campaign.plan)).where(Campaign.code == code)).first()
    if found is None:
        return None
    campaign, reminders = found
    session.info.setdefault(_SECTION_KEY, {})[campaign.id] = reminders
    return campaign


def reminders_section(session: Session, campaign_id: int) -> Any:
    """The campaign plan's 提醒 section (None when it has none): read with the campaign in this
    session, else on its own (not the whole plan)."""
    known = session.info.setdefault(_SECTION_KEY, {})
    if campaign_id not in known:
        known[campaign_id] = session.exec(select(Campaign.plan["reminders"]).where(Campaign.id == campaign_id)).first()
    return known[campaign_id]


def section_text(section: Any) -> str:
    """A section as canonical JSON text (a cache key)."""
    return json.dumps(section, sort_keys=True, ensure_ascii=False)


def _cooperating(dialect: str):
    """Each task's cooperating department ids as a JSON array, by a correlated subquery per row
    (NULL for none on PostgreSQL)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        agg = func.json_agg(aggregate_order_by(TaskCooperator.department_id, TaskCooperator.department_id))
    else:
        agg = func.json_group_array(TaskCooperator.department_id)  # order: sorted by the caller
    return type_coerce(select(agg).where(TaskCooperator.task_id == Task.id).correlate(Task).scalar_subquery(), JSON)


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
    tallied = sees_whole_campaign(user) and filters.school_id is None and filters.indicator is None
    extra = []
    if tallied and filters.overdue is None:
        # the "of N" from the tallies rides along in the page's query (one round trip fewer)
        extra = [count_tasks_query(campaign_id, status=filters.status, department_id=filters.department_id,
                                   phase_ids=phase_ids).scalar_subquery().label("tallied_total")]
    dialect = session.get_bind().dialect.name
    rows = session.exec(select(*Task.__table__.columns, Department.name.label("department_name"),
                               School.name.label("school_name"), _cooperating(dialect).label("cooperating"), *extra)
                        .outerjoin(Department, Department.id == Task.department_id)
                        .outerjoin(School, School.id == Task.responsible_school_id)
                        .where(*conditions).order_by(Task.due_on, Task.id).limit(limit).offset(offset)).all()
    total = rows[0].tallied_total if extra and rows else None
    if total is None and tallied:
        # the "of N" from the tallies: the same with 1,000 tasks or 1,000,000
        total = tallied_count(session, campaign_id, today, status=filters.status,
                              department_id=filters.department_id, phase_ids=phase_ids, overdue=filters.overdue)
    if total is None:
        total = session.exec(select(func.count()).select_from(Task).where(*conditions)).one()
    return TaskPage(rows=list(rows), total=int(total))
