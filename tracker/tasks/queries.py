"""Reading tasks for the unit pages, the lights and the demo: a unit's own tasks, the tasks it
cooperates on, a school's tasks, titles by id. One statement each; the callers build no queries.
Lists show open tasks first, then by due date."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, select

from tracker.org.models import Campaign, Department, School
from tracker.tasks.lifecycle import OPEN
from tracker.tasks.models import Task, TaskCooperator, TaskListStamp, TaskStatus
from tracker.tasks.search import text_clause


def _open_first():
    return case((Task.status.in_([s.value for s in OPEN]), 0), else_=1)


def _searched(q: str | None) -> list:
    """The task list's text search (issue 12 §8), the same words as ``/tasks?q=``."""
    return [text_clause(q)] if q else []


def department_tasks(session: Session, campaign_id: int, department_id: int, limit: int,
                     q: str | None = None) -> list[Task]:
    """The tasks the unit leads (负责), those matching ``q`` when given."""
    return list(session.exec(select(Task).where(Task.campaign_id == campaign_id, Task.department_id == department_id,
                                                *_searched(q))
                             .order_by(_open_first(), Task.due_on, Task.id).limit(limit)))


def cooperating_tasks(session: Session, campaign_id: int, department_id: int, limit: int,
                      q: str | None = None) -> list[Task]:
    """The tasks the unit cooperates on (配合), those matching ``q`` when given."""
    return list(session.exec(
        select(Task).join(TaskCooperator, TaskCooperator.task_id == Task.id)
        .where(Task.campaign_id == campaign_id, TaskCooperator.department_id == department_id, *_searched(q))
        .order_by(_open_first(), Task.due_on, Task.id).limit(limit)))


def school_tasks(session: Session, campaign_id: int, school_id: int, limit: int,
                 q: str | None = None) -> list[Task]:
    """The tasks the school is responsible for or that are about it, those matching ``q`` when given."""
    return list(session.exec(
        select(Task).where(Task.campaign_id == campaign_id,
                           (Task.school_id == school_id) | (Task.responsible_school_id == school_id), *_searched(q))
        .order_by(_open_first(), Task.due_on, Task.id).limit(limit)))


def task_titles(session: Session, task_ids: Iterable[int]) -> dict[int, str]:
    """Titles by task id."""
    ids = set(task_ids)
    if not ids:
        return {}
    return dict(session.exec(select(Task.id, Task.title).where(Task.id.in_(ids))).all())


def finding_task_ids(session: Session, finding_ids: Iterable[int]) -> dict[int, int]:
    """The task of each review finding (评估反馈问题), by finding id."""
    ids = list(finding_ids)
    if not ids:
        return {}
    return dict(session.exec(select(Task.finding_id, Task.id).where(Task.finding_id.in_(ids))).all())


def light_rows(session: Session, campaign_id: int, *, department_id: Any = ..., school_id: Any = ...) -> list[Any]:
    """What a light needs of each task not withdrawn (status, dates, progress, responsible unit);
    only the department's (or the school's) tasks when one is given — a ``None`` given matches the
    tasks with no such unit, never all of them."""
    query = select(Task.status, Task.due_on, Task.progress, Task.created_at, Task.department_id,
                   Task.responsible_school_id).where(Task.campaign_id == campaign_id,
                                                     Task.status != TaskStatus.withdrawn.value)
    if department_id is not ...:
        query = query.where(Task.department_id == department_id)
    if school_id is not ...:
        query = query.where(Task.responsible_school_id == school_id)
    return list(session.exec(query))


def school_with_most_tasks(session: Session, campaign_id: int) -> School | None:
    """The campaign's school responsible for the most tasks (the first by key on a tie)."""
    row = session.exec(
        select(School, func.count(Task.id).label("n")).join(Task, Task.responsible_school_id == School.id)
        .where(School.campaign_id == campaign_id).group_by(School.id)
        .order_by(func.count(Task.id).desc(), School.key)).first()
    return row[0] if row else None


def cooperating_departments(session: Session, task_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each task's cooperating units (协办单位) by id, in id order; one statement for all tasks."""
    found: dict[int, list[int]] = {}
    rows = session.exec(select(TaskCooperator.task_id, TaskCooperator.department_id)
                        .where(TaskCooperator.task_id.in_(list(task_ids))).order_by(TaskCooperator.department_id))
    for task_id, department_id in rows:
        found.setdefault(task_id, []).append(department_id)
    return found


def tasks_by_id(session: Session, ids: Iterable[int]) -> dict[int, Task]:
    """These tasks by id (one statement; none asked, none read)."""
    ids = set(ids)
    return {t.id: t for t in session.exec(select(Task).where(Task.id.in_(ids)))} if ids else {}


def cooperator_names(session: Session, task_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each task's cooperating units' names (协办单位), in unit id order; one statement."""
    ids = set(task_ids)
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    for task_id, name in session.exec(
            select(TaskCooperator.task_id, Department.name).join(Department, Department.id == TaskCooperator.department_id)
            .where(TaskCooperator.task_id.in_(ids)).order_by(TaskCooperator.task_id, Department.id)):
        found.setdefault(task_id, []).append(name)
    return found


# --- the task list's revision (issue 10; migration 0020, api/v1/task_list_cache.py) ---

_STAMP_KEY = "junheng.task_list_stamp"

# select LIST_STAMP beside Campaign (tracker.accounts.service.verify_token_in), then keep_list_stamp
LIST_STAMP = (select(TaskListStamp.revision).where(TaskListStamp.campaign_id == Campaign.id)
              .correlate(Campaign).scalar_subquery().label("task_list_stamp"))


def keep_list_stamp(session: Session, campaign_id: int, revision: int | None) -> None:
    """Remember the task-list revision read with the campaign for ``list_stamp``."""
    session.info.setdefault(_STAMP_KEY, {})[campaign_id] = revision


def list_stamp(session: Session, campaign_id: int) -> int | None:
    """The campaign's task-list revision (``TaskListStamp``): moved by triggers in the same
    transaction as every write to what the task list shows; None before the first such write.
    Read with the campaign in this session (the API's token statement), else on its own."""
    known = session.info.setdefault(_STAMP_KEY, {})
    if campaign_id not in known:
        known[campaign_id] = session.exec(select(TaskListStamp.revision)
                                          .where(TaskListStamp.campaign_id == campaign_id)).first()
    return known[campaign_id]
