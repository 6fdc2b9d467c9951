"""Reading the event log page by page, and the dispatcher's claims on it.

Claiming is one conditional UPDATE (``… SET dispatched_at = stamp WHERE id IN (…) AND
dispatched_at IS NULL RETURNING id``): two dispatchers claiming at once each get back only the
rows they changed (flows/dispatcher.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import func, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from tracker.events.models import Event, FlowRunRecord


def events_page(session: Session, campaign_id: int, visible: ColumnElement[bool], *, type: str | None = None,
                task_id: int | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Event], int]:
    """A page of the campaign's events (newest first) among those ``visible`` (an access clause of
    tracker.accounts.access), optionally of one type or task, and how many there are in all."""
    conditions = [visible, Event.campaign_id == campaign_id]
    if type is not None:
        conditions.append(Event.type == type)
    if task_id is not None:
        conditions.append(Event.task_id == task_id)
    total = session.exec(select(func.count()).select_from(Event).where(*conditions)).one()
    rows = list(session.exec(select(Event).where(*conditions).order_by(Event.at.desc(), Event.id.desc())
                             .limit(limit).offset(offset)))
    return rows, total


def events_by_id(session: Session, event_ids: Collection[int]) -> list[Event]:
    """The events with these ids, oldest first."""
    return list(session.exec(select(Event).where(Event.id.in_(list(event_ids))).order_by(Event.id)))


# --- the dispatcher's claims --------------------------------------------------------------------


def undispatched_ids(session: Session, types: Collection[str], limit: int) -> list[int]:
    """Up to ``limit`` ids of events of these types nobody has dispatched yet, oldest first."""
    return list(session.exec(select(Event.id).where(Event.dispatched_at.is_(None), Event.type.in_(list(types)))
                             .order_by(Event.id).limit(limit)))


def claim_events(session: Session, event_ids: Collection[int], stamp: dt.datetime) -> list[int]:
    """Mark these events dispatched at ``stamp`` where nobody has yet; returns the ids this
    statement changed (sorted)."""
    claimed = session.execute(
        update(Event).where(Event.id.in_(list(event_ids)), Event.dispatched_at.is_(None))
        .values(dispatched_at=stamp).returning(Event.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    return sorted(claimed)


def release_events(session: Session, event_ids: Collection[int], stamp: dt.datetime) -> int:
    """Give back the claims made at ``stamp`` on these events; returns how many were released."""
    return session.execute(
        update(Event).where(Event.id.in_(list(event_ids)), Event.dispatched_at == stamp)
        .values(dispatched_at=None).execution_options(synchronize_session=False)
    ).rowcount


# --- the flow runs the dispatcher started (issue 16 §2) -----------------------------------------

FOLLOWED_STATES = ("created", "failed", "crashed", "late")


def add_flow_runs(session: Session, rows: list[FlowRunRecord]) -> list[FlowRunRecord]:
    session.add_all(rows)
    session.flush()
    return rows


def flow_runs_to_follow(session: Session, limit: int = 200) -> list[FlowRunRecord]:
    """The recorded runs whose outcome is not settled: still with a worker, or failed and not yet
    started again. Oldest first."""
    return list(session.exec(select(FlowRunRecord).where(FlowRunRecord.state.in_(FOLLOWED_STATES))
                             .order_by(FlowRunRecord.created_at, FlowRunRecord.id).limit(limit)))


def settle_flow_run(session: Session, record_id: int, state: str, message: str, at: dt.datetime,
                    expected: Collection[str] = FOLLOWED_STATES) -> bool:
    """Move a record to ``state`` if it is still in one of ``expected`` (so two followers retry a
    run once); True when this call moved it."""
    return session.execute(
        update(FlowRunRecord).where(FlowRunRecord.id == record_id, FlowRunRecord.state.in_(list(expected)))
        .values(state=state, message=message[:2000], checked_at=at)
        .execution_options(synchronize_session=False)).rowcount == 1


def recent_flow_runs(session: Session, limit: int = 30, campaign_id: int | None = None) -> list[FlowRunRecord]:
    conditions = [] if campaign_id is None else [FlowRunRecord.campaign_id == campaign_id]
    return list(session.exec(select(FlowRunRecord).where(*conditions)
                             .order_by(FlowRunRecord.created_at.desc(), FlowRunRecord.id.desc()).limit(limit)))
