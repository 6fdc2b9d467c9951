"""Page sessions kept in the store (``WebSession``): the login cookie carries a random token, the
store keeps its SHA-256 and who it is for.

A request costs one indexed lookup (the session row joined to its user, by primary key), and a
write only every ``TOUCH_EVERY`` (the idle clock needs no finer grain). Logging out deletes the
row; a new password and disabling a user delete all the user's rows; a session also ends
``idle`` after its last request and ``lifetime`` after the login, whichever comes first.
Functions never commit: the caller does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, String, bindparam, delete, or_, update
from sqlmodel import Session, select

from tracker.accounts.models import User, WebSession
from tracker.db import read_alone
from tracker.tasks.models import TaskListStamp
from tracker.settings import get_settings

TOUCH_EVERY = dt.timedelta(minutes=5)
MAX_TOKEN = 128


def session_limits() -> tuple[dt.timedelta, dt.timedelta]:
    """(idle, lifetime) from the settings JUNHENG_SESSION_IDLE_HOURS and JUNHENG_SESSION_MAX_DAYS."""
    settings = get_settings()
    return dt.timedelta(hours=settings.session_idle_hours), dt.timedelta(days=settings.session_max_days)


def token_hash(token: str) -> str:
    """What is stored of a session's or an API token's secret (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, now: dt.datetime) -> str:
    """A new session for ``user``; returns the token the cookie carries (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    session.flush()
    return token


@dataclass(frozen=True)
class SessionUser:
    user: User
    stale: bool  # the idle clock should be moved on (``touch_session``)


# built once (every page request asks it): building the statement costs about what running it does
_BY_TOKEN = (select(User, WebSession.created_at, WebSession.last_seen_at)
             .join(WebSession, WebSession.user_id == User.id)
             .where(WebSession.token_hash == bindparam("token_hash", type_=String)))


def session_user(session: Session, token: str, now: dt.datetime, *, idle: dt.timedelta | None = None,
                 lifetime: dt.timedelta | None = None) -> SessionUser | None:
    """The active user of a live session, or None (unknown token, ended, expired, user disabled).
    One query: the session row by its primary key, joined to the user."""
    if not token or len(token) > MAX_TOKEN:
        return None
    row = session.exec(_BY_TOKEN, params={"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    user, created_at, last_seen_at = row
    stale = session_state(user.active, created_at, last_seen_at, now, idle=idle, lifetime=lifetime)
    return None if stale is None else SessionUser(user, stale=stale)


@dataclass(frozen=True, slots=True)
class PageViewer:
    """Who a page session logs in, as a kept page's key needs it (``api.pages.overview``), with
    their campaign's task-list revision (``stamp``; None: not known)."""

    user_id: int
    name: str
    role: str
    campaign_id: int
    department_id: int | None
    school_id: int | None
    stamp: int | None


# the session's user and the user's campaign's revision in one statement, built once
_VIEWER_BY_TOKEN = (
    select(User.id, User.name, User.role, User.campaign_id, User.department_id, User.school_id, User.active,
           WebSession.created_at, WebSession.last_seen_at,
           select(TaskListStamp.revision).where(TaskListStamp.campaign_id == User.campaign_id)
           .correlate(User).scalar_subquery())
    .join(WebSession, WebSession.user_id == User.id)
    .where(WebSession.token_hash == bindparam("token_hash", type_=String)))


def page_viewer(engine: Engine, token: str, now: dt.datetime) -> tuple[PageViewer, bool] | None:
    """``(viewer, stale)`` of a live page session (as ``session_user`` reads it, with the campaign's
    revision), or None. One statement on a connection of its own, outside any transaction
    (``tracker.db.read_alone``: no BEGIN and ROLLBACK round trips). ``stale``: the idle clock should be moved on."""
    if not token or len(token) > MAX_TOKEN:
        return None
    with read_alone(engine) as connection:
        row = connection.execute(_VIEWER_BY_TOKEN, {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    user_id, name, role, campaign_id, department_id, school_id, active, created_at, last_seen_at, stamp = row
    stale = session_state(active, created_at, last_seen_at, now)
    if stale is None:
        return None
    return PageViewer(user_id, name, role, campaign_id, department_id, school_id, stamp), stale


def session_state(active: bool, created_at: dt.datetime, last_seen_at: dt.datetime, now: dt.datetime, *,
                  idle: dt.timedelta | None = None, lifetime: dt.timedelta | None = None) -> bool | None:
    """None when a session row (of a user ``active`` or not) no longer logs anyone in; else whether
    its idle clock should be moved on (``touch_session``)."""
    if idle is None or lifetime is None:
        idle, lifetime = session_limits()
    if not active or now >= created_at + lifetime or now >= last_seen_at + idle:
        return None
    return now - last_seen_at >= min(TOUCH_EVERY, idle / 10)


def touch_session(session: Session, token: str, now: dt.datetime) -> None:
    session.execute(update(WebSession).where(WebSession.token_hash == token_hash(token)).values(last_seen_at=now))


def end_session(session: Session, token: str) -> None:
    if token and len(token) <= MAX_TOKEN:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def end_sessions(session: Session, user: User) -> int:
    """End every session of ``user`` (a new password, a disabled account)."""
    return session.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount or 0


def purge_expired_sessions(session: Session, now: dt.datetime) -> int:
    idle, lifetime = session_limits()
    result = session.execute(delete(WebSession).where(
        or_(WebSession.created_at <= now - lifetime, WebSession.last_seen_at <= now - idle)))
    return result.rowcount or 0
