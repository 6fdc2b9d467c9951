"""The delivery log (the outbound messages): reading it (`junheng mail list`, the demo's mailbox
summary), and the statements the deliverer runs on it (leasing, recording, re-queuing after an outage)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import and_, bindparam, func, not_, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from tracker.notices.models import (
    AttachmentContent,
    DeadCause,
    MessageAttachment,
    MessageState,
    NoticeItem,
    OutboundMessage,
    OwedNotice,
    RobotWindow,
)


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


# -- delivery: leasing, recording, recovery ------------------------------------------------------

_OM = OutboundMessage.__table__
RETRYABLE = (MessageState.queued.value, MessageState.failed.value)


def lease_due(session: Session, now: dt.datetime, ready, limit: int, lease: dt.timedelta,
              after_id: int = 0) -> list[int]:
    """Lease up to ``limit`` messages due at ``now`` (id above ``after_id``, matching ``ready``) to
    the caller until ``now + lease``, and count the attempt; returns their ids. The caller commits
    before sending. The state and time are checked again in the UPDATE: on SQLite another deliverer
    may have leased a row between the read and the write (PostgreSQL: FOR UPDATE SKIP LOCKED).

    The attempt is counted here, not when the server answers: an attempt whose answer is lost (a
    kill between the server's 250 and the commit) still shows in ``attempts``."""
    due = and_(_OM.c.state.in_(RETRYABLE), _OM.c.next_attempt_at <= now)
    ids = list(session.execute(
        select(_OM.c.id).where(due, ready, _OM.c.id > after_id).order_by(_OM.c.id).limit(limit)
        .with_for_update(skip_locked=True)).scalars())
    if not ids:
        return []
    return sorted(session.execute(
        update(_OM).where(_OM.c.id.in_(ids), due)
        .values(next_attempt_at=now + lease, attempts=_OM.c.attempts + 1).returning(_OM.c.id)).scalars())


# -- group robots: a rate limit per robot ----------------------------------------------------------

_RW = RobotWindow.__table__
ROBOT_WINDOW = dt.timedelta(minutes=1)


def _robot_window(session: Session, name: str) -> list[dt.datetime]:
    """The robot's posts of the window, its row locked for this transaction: created if missing
    (INSERT … ON CONFLICT DO NOTHING, a write: on SQLite it takes the database's write lock, on
    PostgreSQL the SELECT … FOR UPDATE that follows takes the row's)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(_RW).values(name=name, posts=[]).on_conflict_do_nothing(index_elements=["name"]))
    posts = session.execute(select(_RW.c.posts).where(_RW.c.name == name).with_for_update()).scalar_one()
    return sorted(dt.datetime.fromisoformat(p) for p in posts or [])


def lease_robot_due(session: Session, now: dt.datetime, name: str, addresses: list[str], limit: int,
                    per_minute: int, lease: dt.timedelta) -> tuple[list[int], dt.datetime | None, int]:
    """Lease up to ``limit`` messages due at ``now`` to the robot ``name`` (at ``addresses``:
    ``wecom:NAME`` / ``dingtalk:NAME``), no more than its minute has room for, and reserve a slot
    for each (``robotwindow``); returns their ids, and, when the minute is full, the moment a slot
    frees up, to which the robot's other due messages are put off (``next_attempt_at``): they wait,
    queued, never dropped, and their attempts are not counted; and how many were put off. The
    caller commits before posting."""
    posts = [p for p in _robot_window(session, name) if p > now - ROBOT_WINDOW]
    room = max(per_minute - len(posts), 0)
    ready = _OM.c.recipient_address.in_(addresses)
    ids = lease_due(session, now, ready, min(limit, room), lease) if room and limit > 0 else []
    posts += [now] * len(ids)
    session.execute(update(_RW).where(_RW.c.name == name).values(posts=[p.isoformat() for p in posts]))
    if len(posts) < per_minute:
        return ids, None, 0
    free_at = posts[0] + ROBOT_WINDOW
    put_off = session.execute(update(_OM).where(_OM.c.state.in_(RETRYABLE), _OM.c.next_attempt_at <= now, ready)
                              .values(next_attempt_at=free_at)).rowcount
    return ids, free_at, put_off


def robot_full(session: Session, name: str, now: dt.datetime, per_minute: int) -> None:
    """The robot said "too many" (企业微信 45009, 钉钉 130101): its minute counts as full from now."""
    _robot_window(session, name)
    session.execute(update(_RW).where(_RW.c.name == name).values(posts=[now.isoformat()] * per_minute))


def defer(session: Session, ids: list[int], until: dt.datetime) -> None:
    """Hand back leased messages that a robot would not take yet (its rate limit): due again at
    ``until``, the attempt counted at the lease taken back (it is not the message's fault)."""
    if ids:
        session.execute(update(_OM).where(_OM.c.id.in_(ids), _OM.c.state.in_(RETRYABLE))
                        .values(next_attempt_at=until, attempts=_OM.c.attempts - 1))


def robot_addresses_due(session: Session, now: dt.datetime, addresses: list[str]) -> list[str]:
    """Which of these robot addresses have messages due at ``now``."""
    if not addresses:
        return []
    return sorted(session.execute(
        select(_OM.c.recipient_address).where(_OM.c.state.in_(RETRYABLE), _OM.c.next_attempt_at <= now,
                                              _OM.c.recipient_address.in_(addresses)).distinct()).scalars())


def messages_by_id(session: Session, ids: list[int]) -> list[OutboundMessage]:
    return list(session.exec(select(OutboundMessage).where(OutboundMessage.id.in_(ids)).order_by(OutboundMessage.id)))


def mark_sent(session: Session, ids: list[int], now: dt.datetime, note: str = "") -> list[int]:
    """Sent, in one UPDATE; a message meanwhile recorded as sent by another deliverer is left alone."""
    return sorted(session.execute(
        update(_OM).where(_OM.c.id.in_(ids), _OM.c.state != MessageState.sent.value)
        .values(state=MessageState.sent.value, sent_at=now, last_error=note, dead_cause="")
        .returning(_OM.c.id)).scalars())


def release(session: Session, ids: list[int], now: dt.datetime) -> None:
    """Hand back leased messages that were never tried (the lease ran short): due again at once,
    and the attempt counted at the lease is taken back."""
    if ids:
        session.execute(update(_OM).where(_OM.c.id.in_(ids), _OM.c.state.in_(RETRYABLE))
                        .values(next_attempt_at=now, attempts=_OM.c.attempts - 1))


def channel_clause(channel: str, address: str | None = None):
    """Messages of one channel (and, for a robot, one robot address)."""
    clause = _OM.c.channel == channel
    return and_(clause, _OM.c.recipient_address == address) if address is not None else clause


def has_outage_dead(session: Session, where) -> bool:
    return session.execute(select(_OM.c.id).where(
        _OM.c.state == MessageState.dead.value, _OM.c.dead_cause == DeadCause.outage.value, where)
        .limit(1)).first() is not None


def revive_outage_dead(session: Session, where, now: dt.datetime) -> int:
    """Re-queue the messages of a channel that was away (``dead_cause = outage``): due at once, the
    retry ladder starting over; ``attempts`` keeps counting. Returns how many."""
    return session.execute(
        update(_OM).where(_OM.c.state == MessageState.dead.value, _OM.c.dead_cause == DeadCause.outage.value, where)
        .values(state=MessageState.queued.value, next_attempt_at=now, ladder_start=_OM.c.attempts,
                dead_cause="", dead_at=None)).rowcount


def requeue_dead(session: Session, now: dt.datetime, *, since: dt.datetime | None = None) -> list[int]:
    """Re-queue every dead message (given up at or after ``since``): `junheng mail retry --all-dead`."""
    where = [_OM.c.state == MessageState.dead.value]
    if since is not None:
        where.append(_OM.c.dead_at >= since)
    return sorted(session.execute(
        update(_OM).where(*where)
        .values(state=MessageState.queued.value, next_attempt_at=now, ladder_start=_OM.c.attempts,
                dead_cause="", dead_at=None).returning(_OM.c.id)).scalars())


# -- reading: the office's counts ---------------------------------------------------------------


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
    """Notices of the campaign that no message carries yet (owed, not yet composed): items, and
    the sweep's owed notices whose recipients' items are not written yet."""
    items = session.exec(select(func.count()).select_from(NoticeItem).where(
        NoticeItem.campaign_id == campaign_id, NoticeItem.message_id.is_(None))).one()
    return items + session.exec(select(func.count()).select_from(OwedNotice).where(
        OwedNotice.campaign_id == campaign_id, OwedNotice.expanded_at.is_(None))).one()


def taken_idempotency_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of ``keys`` a stored notice item already holds (one statement; none for no keys)."""
    if not keys:
        return set()
    return set(session.exec(select(NoticeItem.idempotency_key).where(NoticeItem.idempotency_key.in_(keys))))


def store_attachment_content(session: Session, data: bytes) -> str:
    """Store an attachment's bytes once, by sha256 (a second copy is a no-op); returns the digest."""
    digest = hashlib.sha256(data).hexdigest()
    table = AttachmentContent.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(sha256=digest, size=len(data), data=data)
                    .on_conflict_do_nothing(index_elements=[table.c.sha256]))
    return digest


# -- composing and delivery: the reads and writes notifications/ asks for -------------------------

def pending_items_query(now: dt.datetime):
    """Owed items not yet in a message whose time has come (an urgent one at once), by id."""
    return (select(NoticeItem).where(NoticeItem.message_id.is_(None))
            .where(or_(NoticeItem.not_before <= now, NoticeItem.urgent.is_(True))).order_by(NoticeItem.id))


def lock_pending_items(session: Session, now: dt.datetime) -> list[NoticeItem]:
    """The pending items, locked against another composer (PostgreSQL: rows it holds are skipped)."""
    return list(session.exec(pending_items_query(now).with_for_update(skip_locked=True)))


_NI = NoticeItem.__table__
_CLAIM_ITEM = (update(_NI).where(_NI.c.id == bindparam("claim_item"), _NI.c.message_id.is_(None))
               .values(message_id=bindparam("claim_message")))


def claim_items(session: Session, claims: list[dict[str, int]]) -> int:
    """Put items into messages (``{"claim_item": id, "claim_message": id}`` each, one executemany)
    where no message holds them yet; returns how many were claimed."""
    return session.connection().execute(_CLAIM_ITEM, claims).rowcount


def item_holders(session: Session, item_ids: list[int]) -> dict[int, int | None]:
    """The message now carrying each of these items (read in slices: any number of items)."""
    out: dict[int, int | None] = {}
    for start in range(0, len(item_ids), 500):
        out.update((item_id, message_id) for item_id, message_id in session.execute(
            select(_NI.c.id, _NI.c.message_id).where(_NI.c.id.in_(item_ids[start:start + 500]))))
    return out


def release_items(session: Session, message_id: int) -> None:
    """Free the items a message holds (the message is being undone)."""
    session.execute(update(_NI).where(_NI.c.message_id == message_id).values(message_id=None))


def message_items(session: Session, message_id: int) -> list[NoticeItem]:
    """The notice items one message carries."""
    return list(session.exec(select(NoticeItem).where(NoticeItem.message_id == message_id)))


def next_occurrence(session: Session, key_prefix: str) -> int:
    """One more than the highest occurrence among items whose key starts with ``key_prefix``."""
    return 1 + (session.exec(select(func.max(NoticeItem.occurrence))
                             .where(NoticeItem.idempotency_key.like(key_prefix + "%"))).one() or 0)


def ready_clause(*, email: bool, robot_channels: tuple[str, ...], robot_addresses: list[str]):
    """Which messages this run can send: e-mail when a server or sink is set, and robot messages to
    configured robots; None when nothing can be sent."""
    ready = [_OM.c.channel == "email"] if email else []
    if robot_addresses:
        ready.append(and_(_OM.c.channel.in_(robot_channels), _OM.c.recipient_address.in_(robot_addresses)))
    return or_(*ready) if ready else None


def waiting_by_address(session: Session, now: dt.datetime, ready) -> list[tuple[str, str, int]]:
    """Due messages this run cannot send (not matching ``ready``; all when it is None): how many per
    channel and address."""
    due = and_(_OM.c.state.in_(RETRYABLE), _OM.c.next_attempt_at <= now)
    where = due if ready is None else and_(due, not_(ready))
    return [tuple(row) for row in session.execute(
        select(_OM.c.channel, _OM.c.recipient_address, func.count()).where(where)
        .group_by(_OM.c.channel, _OM.c.recipient_address)).all()]


def message_parts(session: Session, message_ids: list[int]) -> list[tuple[MessageAttachment, bytes]]:
    """The files of these messages with their bytes, by message and position (one statement)."""
    return list(session.exec(
        select(MessageAttachment, AttachmentContent.data)
        .join(AttachmentContent, AttachmentContent.sha256 == MessageAttachment.sha256)
        .where(MessageAttachment.message_id.in_(message_ids))
        .order_by(MessageAttachment.message_id, MessageAttachment.position)).all())
