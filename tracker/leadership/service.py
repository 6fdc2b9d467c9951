"""Take, renew, confirm and give up a lease with single conditional statements, the same SQL on
PostgreSQL and SQLite:

    UPDATE leader_lease SET holder = :me, expires_at = :now + lease …
     WHERE name = :name AND (expires_at < :now OR holder = :me)

Concurrent takers are serialised by the row (PostgreSQL re-checks the WHERE on the row another
transaction just wrote; SQLite has one writer at a time), so exactly one wins. A holder that was
frozen past its expiry and replaced finds ``holder`` changed: its renewal and every job's
confirmation match no row, and it steps down. Times are the callers' UTC clocks: the processes
sharing a database need synchronised clocks (NTP), off by much less than the lease.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from tracker.leadership.models import LeaderLease

SCHEDULER = "scheduler"
# expired holders are set to this moment on release, so anyone may take the lease at once
_FREE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class LeaseState:
    holder: str
    expires_at: dt.datetime
    last_job: str | None
    last_job_at: dt.datetime | None

    def held_at(self, now: dt.datetime) -> bool:
        return self.expires_at > now


def acquire(engine: Engine, name: str, me: str, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Take the lease if it is free (expired) or already ours, and extend it to ``now + lease``;
    True when we hold it afterwards. Also the heartbeat: renewing is acquiring again."""
    table = LeaderLease.__table__
    with engine.begin() as conn:
        taken = conn.execute(
            update(table)
            .where(table.c.name == name, or_(table.c.expires_at < now, table.c.holder == me))
            .values(holder=me, renewed_at=now, expires_at=now + lease,
                    # a new holder's start; ours stays when we merely renew
                    acquired_at=case((table.c.holder == me, table.c.acquired_at), else_=now))
            .returning(table.c.name)
        ).first()
        if taken is not None:
            return True
        # no row yet (a fresh or emptied database): the first insert wins, the others see a conflict
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        created = conn.execute(
            insert(table).values(name=name, holder=me, acquired_at=now, renewed_at=now, expires_at=now + lease)
            .on_conflict_do_nothing(index_elements=["name"]).returning(table.c.name)
        ).first()  # (RETURNING, not rowcount: a skipped INSERT can report a rowcount of 1 on psycopg)
        return created is not None


def confirm(engine: Engine, name: str, me: str, now: dt.datetime, job: str) -> bool:
    """Before a job: True when ``me`` still holds an unexpired lease; records the job as the
    holder's last one in the same statement (so what ran, and under whom, is in the database)."""
    table = LeaderLease.__table__
    with engine.begin() as conn:
        return bool(conn.execute(
            update(table).where(table.c.name == name, table.c.holder == me, table.c.expires_at > now)
            .values(last_job=job[:64], last_job_at=now)
        ).rowcount)


def release(engine: Engine, name: str, me: str) -> bool:
    """Give the lease up (a clean stop) so that a waiting process takes over at its next poll;
    a no-op when someone else holds it by now."""
    table = LeaderLease.__table__
    with engine.begin() as conn:
        return bool(conn.execute(
            update(table).where(table.c.name == name, table.c.holder == me).values(expires_at=_FREE)
        ).rowcount)


def current(engine: Engine, name: str) -> LeaseState | None:
    """The lease row as it stands (None before anyone ever took it)."""
    table = LeaderLease.__table__
    with engine.connect() as conn:
        row = conn.execute(select(table.c.holder, table.c.expires_at, table.c.last_job, table.c.last_job_at)
                           .where(table.c.name == name)).first()
    if row is None:
        return None
    return LeaseState(row.holder, row.expires_at, row.last_job, row.last_job_at)
