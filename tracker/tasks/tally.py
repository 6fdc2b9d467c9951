"""Counting a campaign's tasks from the tallies (``TaskTally``, ``TaskDueTally``, kept current by
triggers) instead of reading the tasks: what a list's "of N" costs stays the same with 1,000 or
1,000,000 tasks. Only the filters the tallies are keyed by can be answered; for the others the
caller counts the tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.tasks.lifecycle import CLOCK_RUNNING
from tracker.tasks.models import TaskDueTally, TaskTally

RUNNING = frozenset(s.value for s in CLOCK_RUNNING)


def count_tasks(session: Session, campaign_id: int, *, status: str | None = None,
                department_id: int | None = None, phase_ids: Collection[int] | None = None) -> int:
    """Tasks of the campaign, optionally of one status, one responsible department, some phases."""
    return int(session.exec(count_tasks_query(campaign_id, status=status, department_id=department_id,
                                              phase_ids=phase_ids)).one())


def count_tasks_query(campaign_id: int, *, status: str | None = None, department_id: int | None = None,
                      phase_ids: Collection[int] | None = None):
    """``count_tasks`` as a statement (to ride along in another query as a scalar subquery)."""
    where = [TaskTally.campaign_id == campaign_id]
    if status is not None:
        where.append(TaskTally.status == status)
    if department_id is not None:
        where.append(TaskTally.department_key == department_id)
    if phase_ids is not None:
        where.append(TaskTally.phase_id.in_(list(phase_ids)))
    return select(func.coalesce(func.sum(TaskTally.n), 0)).where(*where)


def count_overdue(session: Session, campaign_id: int, today: dt.date, *, status: str | None = None,
                  department_id: int | None = None) -> int:
    """Tasks with their unit (the clock running) due before ``today``: overdue ones."""
    if status is not None and status not in RUNNING:
        return 0
    if status is not None:
        # the due-day tally has no status: a running status's overdue ones come from the tasks
        raise ValueError("count_overdue per status is not tallied")
    where = [TaskDueTally.campaign_id == campaign_id, TaskDueTally.due_on < today]
    if department_id is not None:
        where.append(TaskDueTally.department_key == department_id)
    return int(session.exec(select(func.coalesce(func.sum(TaskDueTally.n), 0)).where(*where)).one())


def tallied_count(session: Session, campaign_id: int, today: dt.date, *, status: str | None = None,
                  department_id: int | None = None, phase_ids: Collection[int] | None = None,
                  overdue: bool | None = None) -> int | None:
    """The count a task list with these filters shows, from the tallies; None when the tallies
    cannot say (overdue with a running status or with phases): count the tasks then."""
    if overdue is None:
        return count_tasks(session, campaign_id, status=status, department_id=department_id, phase_ids=phase_ids)
    if phase_ids is not None or (status is not None and status in RUNNING):
        return None
    late = count_overdue(session, campaign_id, today, status=status, department_id=department_id)
    if overdue:
        return late
    return count_tasks(session, campaign_id, status=status, department_id=department_id) - late
