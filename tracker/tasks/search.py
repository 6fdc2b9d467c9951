"""The task lists' text search (issue 12 §8): one clause, used by the task list
(``tracker.accounts.task_list.visible_to``, ``?q=``) and the units' own lists
(``tracker.tasks.queries``)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from tracker.org.models import Department, School
from tracker.tasks.models import Task


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE … ESCAPE '\\'``, lower-cased, with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_clause(text: str):
    """Tasks whose title, measures, indicator code, responsible unit's name or school's name (the
    school responsible or the school the task is about) contain ``text``, case-insensitively, the
    same on SQLite and PostgreSQL: ``lower(column) LIKE '%…%' ESCAPE '\\'``. No index serves a
    leading ``%``; it is a scan of the campaign's tasks (``ix_task_campaign_due`` narrows to the
    campaign), a few thousand rows for a county, and the unit names are matched in two small
    subqueries (the campaign's departments and schools)."""
    pattern = like_pattern(text)

    def has(column):
        return func.lower(column).like(pattern, escape="\\")

    departments = select(Department.id).where(has(Department.name))
    schools = select(School.id).where(has(School.name))
    return (has(Task.title) | has(Task.measures) | has(func.coalesce(Task.indicator, ""))
            | Task.department_id.in_(departments) | Task.responsible_school_id.in_(schools)
            | Task.school_id.in_(schools))
