"""Slowing down password guessing, decided before any password is checked.

The rule (per user name *as typed*, so a name that does not exist is treated exactly like one
that does, and the answer never tells which names exist):

- Per name and source address. Five attempts in a row are free (typing mistakes). The fifth
  failure locks that name *from that address* for 30 s, doubling with every further failure up
  to 15 minutes. Other addresses are not locked: a guesser cannot lock a user out of the office.
- Per name, over all addresses. After 25 failures in a row from anywhere, the name gets at most
  one password check a minute (every further failure locks it for 60 s from every address): a
  guesser with many addresses gets 1,440 guesses a day, and the real user waits a minute at most.
- A correct password resets both counts (of that name from that address, and overall).
- Attempts count as failures *before* the password is checked, in one transaction that locks
  the two counter rows (PostgreSQL row locks; SQLite's write lock), and is committed before the
  argon2 check: of any number of concurrent guesses only the free ones get a check. A success
  takes its attempt back.
- A counter row is deleted a day after its last failure (the daily purge): counts are forgotten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from tracker.accounts.models import OVERALL, LoginThrottle

FREE_FAILURES = 5  # per name and address
LOCK_BASE_SECONDS = 30
LOCK_MAX_SECONDS = 15 * 60
OVERALL_FREE_FAILURES = 25  # per name, all addresses together
OVERALL_SPACING_SECONDS = 60
FORGET_AFTER = dt.timedelta(days=1)
MAX_KEY = 64  # user names are at most 64 characters; longer ones cannot exist

_T = LoginThrottle.__table__


def lock_seconds(failed_count: int) -> int:
    """How long a name stays locked from an address after its ``failed_count``-th failure there."""
    if failed_count < FREE_FAILURES:
        return 0
    return min(LOCK_BASE_SECONDS * 2 ** (failed_count - FREE_FAILURES), LOCK_MAX_SECONDS)


def overall_lock_seconds(failed_count: int) -> int:
    return OVERALL_SPACING_SECONDS if failed_count >= OVERALL_FREE_FAILURES else 0


@dataclass(frozen=True)
class Admission:
    """The outcome of asking to check a password: ``admitted``, or refused until ``locked_until``.
    When admitted, the attempt is already counted as a failure and ``locked_until`` is the lock
    that failure set (None if still free)."""

    admitted: bool
    locked_until: dt.datetime | None
    failed_count: int  # of the name from this address, this attempt included when admitted


def _key(username: str, source: str) -> tuple[str, str]:
    source = (source or "unknown")[:MAX_KEY]
    return username[:MAX_KEY], "unknown" if source == OVERALL else source  # no address counts as all


def _where(username: str, source: str):
    return and_(_T.c.username == username, _T.c.source == source)


def _lock_and_read(session: Session, username: str, source: str) -> tuple[int, dt.datetime | None]:
    """A no-op UPDATE: takes the row's lock (PostgreSQL) or the database's write lock (SQLite)
    and reads the row as it is now, in one statement."""
    row = session.execute(update(_T).where(_where(username, source)).values(failed_count=_T.c.failed_count)
                          .returning(_T.c.failed_count, _T.c.locked_until)).first()
    if row is None:  # purged between the insert and here (the daily purge): counting starts again
        raise _Purged
    return row[0], row[1]


class _Purged(Exception):
    pass


def admit(session: Session, username: str, source: str, now: dt.datetime) -> Admission:
    """Count an attempt at ``username`` from ``source`` before its password is checked, or refuse
    it while locked. Commits ``session`` (so concurrent attempts see the count)."""
    try:
        return _admit(session, *_key(username, source), now)
    except _Purged:
        return _admit(session, *_key(username, source), now)


def _admit(session: Session, name: str, source: str, now: dt.datetime) -> Admission:
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(_T)
    try:
        # the pair's row first, then the overall one: every attempt locks in this order (no deadlock)
        session.execute(insert.values([
            {"username": name, "source": source, "failed_count": 0},
            {"username": name, "source": OVERALL, "failed_count": 0},
        ]).on_conflict_do_nothing())
        count, until = _lock_and_read(session, name, source)
        if until is not None and until > now:
            session.rollback()
            return Admission(False, until, count)
        overall, overall_until = _lock_and_read(session, name, OVERALL)
        if overall_until is not None and overall_until > now:
            session.rollback()
            return Admission(False, overall_until, count)
        count, overall = count + 1, overall + 1
        pair_lock = lock_seconds(count)
        overall_lock = overall_lock_seconds(overall)
        pair_until = now + dt.timedelta(seconds=pair_lock) if pair_lock else None
        overall_until = now + dt.timedelta(seconds=overall_lock) if overall_lock else None
        session.execute(update(_T).where(_where(name, source))
                        .values(failed_count=count, last_failed_at=now, locked_until=pair_until))
        session.execute(update(_T).where(_where(name, OVERALL))
                        .values(failed_count=overall, last_failed_at=now, locked_until=overall_until))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    locks = [u for u in (pair_until, overall_until) if u is not None]
    return Admission(True, max(locks) if locks else None, count)


def succeeded(session: Session, username: str, source: str) -> None:
    """The password was right: forget the name's failures, from this address and overall."""
    name, source = _key(username, source)
    session.execute(update(_T).where(_T.c.username == name, _T.c.source.in_((source, OVERALL)))
                    .values(failed_count=0, locked_until=None))


def failure_counts(session: Session, usernames: list[str]) -> dict[str, int]:
    """The failures in a row of each name, over all addresses (for ``junheng user list``)."""
    if not usernames:
        return {}
    rows = session.exec(select(LoginThrottle.username, LoginThrottle.failed_count)
                        .where(LoginThrottle.source == OVERALL, LoginThrottle.username.in_(usernames)))
    return {name: count for name, count in rows if count}


def purge_stale(session: Session, now: dt.datetime) -> int:
    """Delete the counters whose last failure is a day old and whose lock has passed."""
    result = session.execute(delete(_T).where(
        or_(_T.c.last_failed_at.is_(None), _T.c.last_failed_at <= now - FORGET_AFTER),
        or_(_T.c.locked_until.is_(None), _T.c.locked_until <= now)))
    return result.rowcount or 0


def locked_until(session: Session, username: str, source: str, now: dt.datetime) -> dt.datetime | None:
    """When the name stops being locked from this address (or overall), if it is locked now;
    reads only (the survey's answer page asks before counting a refused code, issue 13 §3)."""
    name, source = _key(username, source)
    rows = session.exec(select(LoginThrottle.locked_until).where(
        LoginThrottle.username == name, LoginThrottle.source.in_((source, OVERALL)))).all()
    locks = [until for until in rows if until is not None and until > now]
    return max(locks) if locks else None
