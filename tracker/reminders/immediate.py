"""Moves whose notice goes out at once (issue 12 §4): every surface (CLI, API, pages) calls these
rather than the bare move, so the notice is queued in the move's own transaction.

- ``return_task``: 退回 and its 退回通知, queued by the sweep's own rules (``sweep_tasks``) the
  moment the task is returned. Before, the notice waited for the next sweep, which saw nothing to
  send if the unit had resubmitted in between (the ladder is silent on a submitted task).
- ``edit_task``: the office's edit of a task it assigned and its 任务变更通知.

The deliverer sends queued items in its next run (every minute under the scheduler) through the
delivery log as always: crash-safe, never doubled (idempotency keys as the sweep's).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from tracker.db import utcnow
from tracker.events.models import Event
from tracker.org.models import Person
from tracker.reminders.sweep import queue_change_notice, sweep_tasks
from tracker.tasks import lifecycle
from tracker.tasks.assign import TaskEdit, describe_changes, edit_office_task
from tracker.tasks.models import Task


def return_task(session: Session, task: Task, actor: Person, reason: str,
                *, at: dt.datetime | None = None) -> Event:
    """退回 (``lifecycle.return_task``) and queue its 退回通知 now. Does not commit."""
    now = at or utcnow()
    event = lifecycle.return_task(session, task, actor, reason, at=now)
    sweep_tasks(session, [task.id], now)
    return event


def edit_task(session: Session, task: Task, edit: TaskEdit, actor: Person,
              *, at: dt.datetime | None = None) -> Event | None:
    """The office edits a task it assigned (``tracker.tasks.assign.edit_office_task``) and the
    unit is told by a 任务变更通知. None when nothing changed (no event, no notice)."""
    now = at or utcnow()
    event = edit_office_task(session, task, edit, actor, at=now)
    if event is not None:
        queue_change_notice(session, task, event, describe_changes(event.payload["changes"]), now)
    return event
