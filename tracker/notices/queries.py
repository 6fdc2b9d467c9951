"""Reading the delivery log (the outbound messages), for the office's `junheng mail list` and the
demo's mailbox summary."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.notices.models import MessageState, NoticeItem, OutboundMessage


def latest_messages(session: Session, *, state: str | None = None,
                    limit: int = 50) -> tuple[list[OutboundMessage], int]:
    """The newest ``limit`` messages (optionally in one state) and how many there are in all. The
    total is counted by the database, and only when the page is full (else it is the page)."""
    query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    counted = select(func.count()).select_from(OutboundMessage)
    if state:
        query = query.where(OutboundMessage.state == state)
        counted = counted.where(OutboundMessage.state == state)
    messages = list(session.exec(query))
    total = session.exec(counted).one() if len(messages) == limit else len(messages)
    return messages, total


def message_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """How many of the campaign's messages are in each state, by state."""
    return dict(session.exec(select(OutboundMessage.state, func.count())
                             .where(OutboundMessage.campaign_id == campaign_id)
                             .group_by(OutboundMessage.state)).all())


def waiting_messages(session: Session, campaign_id: int) -> tuple[int, dt.datetime | None]:
    """How many of the campaign's messages wait to be sent (queued, or failed and to be retried)
    and when the first of them is next tried."""
    count, first = session.exec(select(func.count(), func.min(OutboundMessage.next_attempt_at)).where(
        OutboundMessage.campaign_id == campaign_id,
        OutboundMessage.state.in_((MessageState.queued.value, MessageState.failed.value)))).one()
    return count, first


def uncarried_item_count(session: Session, campaign_id: int) -> int:
    """Notice items of the campaign that no message carries yet (owed, not yet composed)."""
    return session.exec(select(func.count()).select_from(NoticeItem).where(
        NoticeItem.campaign_id == campaign_id, NoticeItem.message_id.is_(None))).one()
