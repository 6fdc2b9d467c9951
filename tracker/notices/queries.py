"""Reading the delivery log (the outbound messages), for the office's `junheng mail list`."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.notices.models import OutboundMessage


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
