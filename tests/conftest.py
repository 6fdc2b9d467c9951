"""Shared fixtures. Every test that touches the store takes ``db_url`` (or ``engine``) and so runs
on SQLite and, where JUNHENG_TEST_POSTGRES_URL is set, on PostgreSQL too."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
import sqlalchemy as sa

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# CLI tests that run a flow without the harness start Prefect's ephemeral server: allow a busy CI
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Rich reads the terminal width once, when a console is made, and some CLI modules make theirs at
# import: one wide width for every test, whichever test happens to import a module first.
os.environ.setdefault("COLUMNS", "240")
# pytest-xdist (`-n 2` in CI): each worker its own Prefect home, so two ephemeral servers never
# share one SQLite file. Set before anything imports Prefect (its settings are read then).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["PREFECT_HOME"] = os.path.join(
        os.environ.get("PREFECT_HOME") or os.path.expanduser("~/.prefect"),
        f"xdist-{os.environ['PYTEST_XDIST_WORKER']}")
    os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)

from tracker import db as tracker_db  # noqa: E402
from tracker.settings import get_settings  # noqa: E402

POSTGRES_URL = os.environ.get("JUNHENG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> str:
    """One migrated SQLite file; each test gets a copy (migrating per test would cost ~0.3 s)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    tracker_db.migrate(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def _postgres_database() -> str:
    """A database of our own on the given server, migrated once, dropped at the end."""
    assert POSTGRES_URL
    name = f"junheng_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    tracker_db.migrate(url)
    yield url
    tracker_db.get_engine.cache_clear()
    sa.create_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    """Empty every table and restart its ids. DELETE in foreign-key order, not TRUNCATE: on these
    small tables DELETE takes ~20 ms where TRUNCATE … CASCADE takes ~1 s (a file swap per table)."""
    from sqlmodel import SQLModel

    import tracker.models  # noqa: F401

    engine = tracker_db.get_engine(url)
    with engine.begin() as conn:
        present = {r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))}
        ordered = [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name in present]
        others = sorted(present - set(ordered))  # e.g. APScheduler's own job table
        names = others + ordered
        if names:
            conn.execute(sa.text("; ".join(f'DELETE FROM "{n}"' for n in names)))
        seqs = [r[0] for r in conn.execute(sa.text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname='public'"))]
        if seqs:
            conn.execute(sa.text("; ".join(f'ALTER SEQUENCE "{q}" RESTART' for q in seqs)))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, monkeypatch) -> str:
    """A migrated, empty database; also made the process default (JUNHENG_DATABASE_URL)."""
    if request.param == "sqlite":
        path = tmp_path / "junheng.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("_postgres_database")
        _empty_postgres(url)
    monkeypatch.setenv("JUNHENG_DATABASE_URL", url)
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    if request.param == "sqlite":
        tracker_db.get_engine(url).dispose()


@pytest.fixture
def engine(db_url):
    return tracker_db.get_engine(db_url)


@pytest.fixture(scope="session")
def prefect_harness():
    """Flow runs in these tests are real Prefect runs, recorded by a temporary Prefect server."""
    import os

    from prefect.testing.utilities import prefect_test_harness

    os.environ.setdefault("PREFECT_UI_ENABLED", "false")  # the harness server needs no web UI
    with prefect_test_harness(server_startup_timeout=120):
        yield
