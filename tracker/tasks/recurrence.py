"""Recurring office tasks (issue 12 §1): "每月 25 日前报送进展", "每周五前报送周报".

A task assigned with a rule (``Task.recurrence``: ``monthly:<day>`` or ``weekly:<1–7>``) is one
occurrence of a series. The next occurrence is made **when its period starts**: once the current
occurrence's due date has passed, ``roll_recurring`` (run by the scheduler before each reminder
sweep, and by ``junheng sweep``) creates the occurrence due on the rule's first date from today on,
whatever became of the last one (a monthly report is owed every month, done or not). Each
occurrence is a task of its own (signed, submitted, verified, overdue on its own), keyed
``<series key>@<due date>``, so running the roll twice makes nothing twice. Withdrawing (撤销) the
latest occurrence ends the series.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence

from sqlmodel import Session, select

from tracker.events.service import SYSTEM_ACTOR
from tracker.org.models import Campaign, Department, Phase, School
from tracker.org.service import current_phase
from tracker.tasks.models import Task, TaskCooperator, TaskStatus
from tracker.tasks.service import NewTask, create_tasks

WEEKDAYS = "一二三四五六日"
_MONTHLY = re.compile(r"^(?:monthly:(\d{1,2})|每月\s*(\d{1,2})\s*[日号](?:前)?)$")
_WEEKLY = re.compile(r"^(?:weekly:([1-7])|每周([一二三四五六日天]))(?:前)?$")


def parse_recurrence(text: str | None) -> str | None:
    """``monthly:25`` / ``weekly:5`` from 「每月 25 日」「每月25号前」「每周五」 or the canonical
    form; None for no rule. ``ValueError`` (Chinese) for anything else."""
    value = (text or "").strip()
    if not value or value in ("不重复", "无"):
        return None
    if m := _MONTHLY.match(value):
        day = int(m.group(1) or m.group(2))
        if 1 <= day <= 31:
            return f"monthly:{day}"
    if m := _WEEKLY.match(value):
        day = int(m.group(1)) if m.group(1) else WEEKDAYS.index(m.group(2).replace("天", "日")) + 1
        return f"weekly:{day}"
    raise ValueError(f"重复规则「{value}」无效，可写「每月 25 日」或「每周五」")


def describe(rule: str) -> str:
    kind, _, n = rule.partition(":")
    return f"每月 {n} 日" if kind == "monthly" else f"每周{WEEKDAYS[int(n) - 1]}"


def next_due(rule: str, on_or_after: dt.date) -> dt.date:
    """The rule's first date on or after ``on_or_after`` (day 31 of a 30-day month: its last day)."""
    kind, _, n = rule.partition(":")
    day = int(n)
    if kind == "weekly":
        return on_or_after + dt.timedelta(days=(day - 1 - on_or_after.weekday()) % 7)
    year, month = on_or_after.year, on_or_after.month
    while True:
        candidate = dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
        if candidate >= on_or_after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def series_key(task: Task) -> str:
    return task.origin_key.split("@", 1)[0]


def roll_recurring(session: Session, today: dt.date, *, campaign: Campaign | int | None = None,
                   actor: str = SYSTEM_ACTOR) -> list[Task]:
    """Create the occurrence whose period has started for every series whose latest occurrence
    is past its due date (and not withdrawn). Returns the tasks created. Does not commit."""
    query = select(Task).where(Task.recurrence.is_not(None)).order_by(Task.due_on, Task.id)
    if campaign is not None:
        query = query.where(Task.campaign_id == (campaign if isinstance(campaign, int) else campaign.id))
    latest: dict[tuple[int, str], Task] = {}
    for task in session.exec(query):
        latest[(task.campaign_id, series_key(task))] = task  # ordered by due date: the last one wins
    due = [t for t in latest.values() if t.due_on < today and TaskStatus(t.status) is not TaskStatus.withdrawn]
    created: list[Task] = []
    by_campaign: dict[int, list[Task]] = {}
    for task in due:
        by_campaign.setdefault(task.campaign_id, []).append(task)
    for campaign_id, tasks in by_campaign.items():
        camp = session.get(Campaign, campaign_id)
        new = [_next(session, camp, task, today) for task in tasks]
        keys = [n.origin_key for n in new]
        have = set(session.exec(select(Task.origin_key).where(Task.campaign_id == campaign_id,
                                                               Task.origin_key.in_(keys))))
        wanted = [n for n in new if n.origin_key not in have]
        if wanted:
            created += create_tasks(session, camp, wanted, actor=actor, today=today)
    return created


def _next(session: Session, campaign: Campaign, task: Task, today: dt.date) -> NewTask:
    due = next_due(task.recurrence, today)
    phase = current_phase(session, campaign, today) or session.get(Phase, task.phase_id)
    helpers: Sequence[int] = list(session.exec(select(TaskCooperator.department_id)
                                               .where(TaskCooperator.task_id == task.id)))
    return NewTask(
        phase=phase, title=task.title, measures=task.measures, origin=task.origin,
        origin_key=f"{series_key(task)}@{due.isoformat()}", due_on=due,
        department=session.get(Department, task.department_id) if task.department_id else None,
        responsible_school=session.get(School, task.responsible_school_id) if task.responsible_school_id else None,
        indicator=task.indicator, cooperating=helpers, source=task.source, source_ref=task.source_ref,
        evidence_required=task.evidence_required, recurrence=task.recurrence,
        event_details={"recurrence": task.recurrence, "previous_task_id": task.id})
