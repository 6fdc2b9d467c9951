"""Writing and reading the event log. Every state change calls ``record_event`` once, in the same
transaction as the change itself, so the log and the state can never disagree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from tracker.db import utcnow
from tracker.events.models import Event

SYSTEM_ACTOR = "系统"


def record_event(
    session: Session,
    *,
    type: str,
    actor: str,
    campaign_id: int | None,
    task_id: int | None = None,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Event:
    event = Event(
        campaign_id=campaign_id,
        type=type,
        actor=actor,
        actor_id=actor_id,
        task_id=task_id,
        payload=payload or {},
        at=at or utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def task_history(session: Session, task_id: int) -> list[Event]:
    return list(session.exec(select(Event).where(Event.task_id == task_id).order_by(Event.at, Event.id)))
