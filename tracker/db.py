"""The store: engine, sessions, the UTC timestamp type, and migrations.

SQLite and PostgreSQL run the same code and the same Alembic history. SQLite keeps no
time-zone offset, so every timestamp goes through ``UTCDateTime``, which refuses naive
datetimes on the way in and hands back aware UTC datetimes on the way out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from tracker.settings import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always UTC: naive datetimes are a bug and are rejected."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store aware datetimes (UTC)")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# Connections kept open per process. A web worker answers up to 40 requests at once in its thread
# pool; a connection beyond the kept ones is opened for one request and closed after it (SQLite:
# four PRAGMAs; PostgreSQL: a new server process), which under 16 concurrent clients cost a quarter
# of a kept answer's time. Keep enough for a busy worker; PostgreSQL's default max_connections
# (100) still allows four workers and the scheduler.
SQLITE_POOL = {"pool_size": 20, "max_overflow": 20}
POSTGRES_POOL = {"pool_size": 16, "max_overflow": 4}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **SQLITE_POOL)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **POSTGRES_POOL)


@contextmanager
def read_alone(engine: Engine) -> Iterator[Connection]:
    """A connection for one read that needs no transaction (the kept answers' look-ups): in
    autocommit on PostgreSQL (no BEGIN and ROLLBACK round trips); as it comes on SQLite, where the
    driver begins no transaction for a SELECT and switching its isolation level on the way in and
    out of the pool costs more than the read."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


@lru_cache(maxsize=16)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the process. Without a URL, the configured database — looked up on
    every call, so a changed JUNHENG_DATABASE_URL (tests, the demo's --dir) is never served the
    engine of the database seen first."""
    return _engine_for(url or get_settings().database_url_resolved)


get_engine.cache_clear = _engine_for.cache_clear  # type: ignore[attr-defined]


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Tables in our database that our models don't own: APScheduler's job store keeps its jobs there.
# Alembic must neither create nor drop them.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Alembic filter: leave the tables other libraries own alone (autogenerate and comparisons)."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _head_revisions() -> set[str]:
    """The newest revisions, read from the version files' text (importing Alembic costs seconds
    of CPU on a busy machine, paid by every CLI command just to learn there is nothing to do)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    assignment = re.compile(r"^(revision|down_revision)\b[^=]*=\s*(.+)$", re.MULTILINE)
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in assignment.findall(path.read_text(encoding="utf-8")):
            found = set(re.findall(r"['\"]([^'\"]+)['\"]", value))
            (revisions if name == "revision" else parents).update(found)
    return revisions - parents


def _at_head(url: str) -> bool:
    from sqlalchemy import create_engine as plain_engine
    from sqlalchemy import inspect, text
    from sqlalchemy.pool import NullPool

    heads = _head_revisions()
    # a connection of its own, closed at once, like Alembic's: the process engine's pooled
    # connections would keep a SQLite file's WAL open (a copy of the file would miss the schema)
    engine = plain_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return False
            stamped = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()
    return bool(heads) and stamped == heads


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema (the CLI calls this before every command)."""
    url = url or get_settings().database_url_resolved
    import tracker.models  # noqa: F401 — every table on the metadata, as Alembic's env.py would
    if _at_head(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), "head")
