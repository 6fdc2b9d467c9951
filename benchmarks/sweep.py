"""Reminder sweep speed: 1,000,000 open tasks of which 1 % are due, on SQLite and PostgreSQL.

    uv run python benchmarks/sweep.py                      # both (PostgreSQL from JUNHENG_BENCH_POSTGRES_URL,
                                                           # default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
    uv run python benchmarks/sweep.py --backend sqlite --tasks 100000

A campaign of 12 units (2 contacts, a head and a 分管领导 each) and an office of 2 gets N open
tasks (待签收 / 已签收 / 办理中), loaded in bulk (SQLite: executemany; PostgreSQL: COPY). 1 % of them
have ``next_reminder_at`` in the last five days and due dates a few working days either side of
the sweep's moment, so they owe a mix of 签收提醒, 临期/到期提醒, 催办通知 and 督办单; the rest have
their next reminder up to a month ahead. Only the sweeps are timed:

0. the yardstick: the least any sweep can do, set-based SQL that marks the same due tasks and
   writes one notice row per task (PostgreSQL: one ``UPDATE … RETURNING`` feeding an
   ``INSERT … SELECT``; SQLite, which takes no UPDATE in a WITH: ``INSERT … SELECT`` then
   ``UPDATE``), in one transaction, committed as the sweep commits its chunks; then the store is
   put back as it was (untimed), so the sweep finds the same tasks due. (Also printed: the same
   transaction rolled back, the yardstick of the first measurements. On SQLite a rolled-back
   transaction never writes its pages, which is most of what a sweep's commit costs.)
1. the sweep at that moment: reads the due tasks, owes their notices (one row per task and rung;
   the recipients' items are written when the composer finds the window open, timed separately
   after the sweep and printed beside it), moves them on;
2. the same sweep again: nothing is due any more — its cost is the index lookup alone, which is
   what shows that the sweep's work grows with the due tasks, not with all tasks.

Prints seconds per sweep, due tasks per second, the yardstick measured in the same run on the
same database, and the ratio of the two. Not part of CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, func, select  # noqa: E402

from tracker.calendar import CHINA, active_calendar  # noqa: E402
from tracker.db import make_engine, migrate  # noqa: E402
from tracker.notices.models import NoticeItem, OwedNotice  # noqa: E402
from tracker.org.models import Campaign, Department, Person, Phase
from tracker.plans.kinds import UnitKind  # noqa: E402
from tracker.reminders.expand import expand_owed  # noqa: E402
from tracker.reminders.sweep import sweep  # noqa: E402
from tracker.tasks.models import Task, TaskStatus  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA)  # a Tuesday, a working day
UNITS = 12
STATUSES = [TaskStatus.assigned.value, TaskStatus.accepted.value, TaskStatus.in_progress.value]
COLUMNS = ("campaign_id", "phase_id", "title", "measures", "department_id", "due_on", "status", "progress",
           "notes", "origin", "origin_key", "created_at", "updated_at", "acknowledged_at", "next_reminder_at")


def build_campaign(engine) -> tuple[int, int, list[int]]:
    with Session(engine) as session:
        campaign = Campaign(code="bench", name="基准县优质均衡创建", county="基准县", standard_id="national-2017")
        session.add(campaign)
        session.flush()
        phase = Phase(campaign_id=campaign.id, code="self_check", name="自查自评", ordinal=1, status="active")
        office = Department(campaign_id=campaign.id, name="领导小组办公室", kind=UnitKind.office.value)
        session.add_all([phase, office])
        session.flush()
        session.add_all(Person(campaign_id=campaign.id, name=f"办公室{i}", email=f"office{i}@bench.cn",
                               is_office=True, department_id=office.id) for i in range(2))
        unit_ids = []
        for u in range(UNITS):
            supervisor = Person(campaign_id=campaign.id, name=f"分管领导{u}", email=f"lead{u}@bench.cn",
                                group_role="成员")
            session.add(supervisor)
            session.flush()
            dept = Department(campaign_id=campaign.id, name=f"单位{u}", kind=UnitKind.county_department.value,
                              head_name=f"负责人{u}", head_email=f"head{u}@bench.cn", supervisor_id=supervisor.id)
            session.add(dept)
            session.flush()
            session.add_all(Person(campaign_id=campaign.id, name=f"联系人{u}-{c}", email=f"c{u}-{c}@bench.cn",
                                   is_contact=True, department_id=dept.id) for c in range(2))
            unit_ids.append(dept.id)
        session.commit()
        return campaign.id, phase.id, unit_ids


def task_rows(n: int, due_share: float, campaign_id: int, phase_id: int, unit_ids: list[int], seed: int = 0):
    """Rows of the task table (tuples in COLUMNS order), the due ones spread over the id range."""
    rng = random.Random(seed)
    cal = active_calendar()
    today = NOW.date()
    near = [cal.add_working_days(today, k) for k in range(-8, 9) if k]  # due dates around now
    due_every = round(1 / due_share)
    for i in range(n):
        due = i % due_every == 0
        status = STATUSES[i % 3]
        created = NOW - dt.timedelta(days=20 + rng.randint(0, 10))
        if due:
            due_on = rng.choice(near)
            next_at = NOW - dt.timedelta(minutes=rng.randint(0, 5 * 24 * 60))
        else:
            due_on = today + dt.timedelta(days=rng.randint(10, 200))
            next_at = NOW + dt.timedelta(minutes=rng.randint(60, 30 * 24 * 60))
        acknowledged = None if status == TaskStatus.assigned.value else created + dt.timedelta(hours=2)
        yield (campaign_id, phase_id, f"整改任务 {i}", "按标准整改", unit_ids[i % len(unit_ids)], due_on, status,
               rng.choice((0, 20, 50, 80)), "", "plan", f"B{i}", created, created, acknowledged, next_at)


def load_sqlite(engine, rows, batch: int = 50_000) -> None:
    table = Task.__table__
    stmt = table.insert()
    chunk = []
    with engine.begin() as conn:
        for row in rows:
            chunk.append(dict(zip(COLUMNS, row)))
            if len(chunk) == batch:
                conn.execute(stmt, chunk)
                chunk = []
        if chunk:
            conn.execute(stmt, chunk)
        conn.execute(sa.text("ANALYZE"))


def load_postgres(engine, rows) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY task ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
        cur.execute("ANALYZE task")
        raw.commit()
    finally:
        raw.close()


_YARDSTICK_COLUMNS = ("campaign_id, task_id, rung, occurrence, idempotency_key, recipient_name, "
                      "recipient_address, in_copy, urgent, payload, not_before, created_at")
_YARDSTICK_PG = sa.text(
    "WITH moved AS (UPDATE task SET next_reminder_at = :later WHERE next_reminder_at <= :now "
    "RETURNING id, campaign_id) "
    f"INSERT INTO noticeitem ({_YARDSTICK_COLUMNS}) "
    "SELECT campaign_id, id, 'chase', 1, 'yardstick:' || id, '联系人', 'c@bench.cn', false, false, "
    "CAST('{}' AS json), :now, :now FROM moved")
_YARDSTICK_SQLITE = (
    sa.text(f"INSERT INTO noticeitem ({_YARDSTICK_COLUMNS}) "
            "SELECT campaign_id, id, 'chase', 1, 'yardstick:' || id, '联系人', 'c@bench.cn', 0, 0, '{}', "
            ":now, :now FROM task WHERE next_reminder_at <= :now"),
    sa.text("UPDATE task SET next_reminder_at = :later WHERE next_reminder_at <= :now"),
)


def yardstick(engine, backend: str) -> tuple[float, float, int]:
    """Seconds of the set-based yardstick over the due tasks, committed as a sweep commits (and the
    same rolled back, as measured before: on SQLite a rolled-back transaction never writes its
    pages, which is most of the work), and the rows it wrote. The store is put back as it was
    afterwards (untimed), so the sweep finds the same tasks due."""
    now = NOW.astimezone(dt.timezone.utc)
    params = {"now": now, "later": now + dt.timedelta(days=1)}
    if backend == "sqlite":
        # as SQLAlchemy stores timestamps in SQLite
        params = {k: v.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in params.items()}

    def run_once(conn) -> int:
        if backend == "postgresql":
            return conn.execute(_YARDSTICK_PG, params).rowcount
        rows = conn.execute(_YARDSTICK_SQLITE[0], params).rowcount
        conn.execute(_YARDSTICK_SQLITE[1], params)
        return rows

    with engine.connect() as conn:
        saved = conn.execute(sa.text("SELECT id, next_reminder_at FROM task WHERE next_reminder_at <= :now"),
                             params).all()
        conn.rollback()
        tx = conn.begin()
        started = time.perf_counter()
        run_once(conn)
        rolled_back = time.perf_counter() - started
        tx.rollback()
        tx = conn.begin()
        started = time.perf_counter()
        rows = run_once(conn)
        tx.commit()
        committed = time.perf_counter() - started
        # put the store back (untimed)
        with conn.begin():
            conn.execute(sa.text("DELETE FROM noticeitem WHERE idempotency_key LIKE 'yardstick:%'"))
            conn.execute(sa.text("UPDATE task SET next_reminder_at = :at WHERE id = :id"),
                         [{"id": task_id, "at": at} for task_id, at in saved])
    return committed, rolled_back, rows


def run(backend: str, url: str, n: int, due_share: float) -> dict:
    migrate(url)
    engine = make_engine(url)
    campaign_id, phase_id, unit_ids = build_campaign(engine)
    rows = task_rows(n, due_share, campaign_id, phase_id, unit_ids)
    started = time.perf_counter()
    (load_postgres if backend == "postgresql" else load_sqlite)(engine, rows)
    load_seconds = time.perf_counter() - started

    with Session(engine) as session:
        due = session.exec(select(func.count()).select_from(Task).where(Task.next_reminder_at <= NOW)).one()
    yard_seconds, yard_rolled_back, yard_rows = yardstick(engine, backend)
    with Session(engine) as session:
        started = time.perf_counter()
        report = sweep(session, NOW)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        empty = sweep(session, NOW)
        empty_seconds = time.perf_counter() - started
        notices = session.exec(select(func.count()).select_from(OwedNotice)).one()
        # what the sweep no longer does: the recipients' items, written when the composer finds the
        # notices' window open (not part of the sweep's figure; printed beside it)
        started = time.perf_counter()
        expand_owed(session, NOW)
        session.commit()
        expand_seconds = time.perf_counter() - started
        items = session.exec(select(func.count()).select_from(NoticeItem)).one()
    engine.dispose()
    assert report.tasks == due and empty.tasks == 0 and items == report.queued and yard_rows == due
    return {"backend": backend, "tasks": n, "due": due, "load_s": load_seconds, "sweep_s": seconds,
            "queued": report.queued, "notices": notices, "expand_s": expand_seconds,
            "empty_sweep_s": empty_seconds, "yardstick_s": yard_seconds,
            "yardstick_rolled_back_s": yard_rolled_back,
            "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "JUNHENG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()

    results = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run("sqlite", f"sqlite:///{tmp}/bench.db", args.tasks, args.due_share))
    if args.backend in ("postgresql", "both"):
        # named after the database given (a shared server: each user's scratch databases under their own prefix)
        given = sa.engine.make_url(args.postgres_url).database
        name = f"{'junheng' if given in (None, 'postgres') else given}_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.engine.make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
            results.append(run("postgresql", url, args.tasks, args.due_share))
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    out = io.StringIO()
    for r in results:
        out.write(f"{r['backend']:<10} {r['tasks']:>9,} open tasks, {r['due']:,} due: sweep {r['sweep_s']:.2f} s "
                  f"({r['due'] / r['sweep_s']:,.0f} due tasks/s, {r['notices']:,} notices owed for "
                  f"{r['queued']:,} recipients); "
                  f"the same sweep with nothing due {r['empty_sweep_s'] * 1000:.1f} ms; "
                  f"(bulk load {r['load_s']:.0f} s, not timed)\n"
                  f"{'':<10} yardstick (set-based SQL, one notice row per due task, committed): "
                  f"{r['yardstick_s']:.2f} s; sweep / yardstick = {r['sweep_s'] / r['yardstick_s']:.1f}× "
                  f"(load {r['load']:.1f})\n"
                  f"{'':<10} the same yardstick rolled back, never written: {r['yardstick_rolled_back_s']:.2f} s; "
                  f"sweep / that = {r['sweep_s'] / r['yardstick_rolled_back_s']:.1f}×\n"
                  f"{'':<10} then, at compose time: the recipients' {r['queued']:,} items written in "
                  f"{r['expand_s']:.2f} s (not part of the sweep's figure)\n")
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
