"""A sweep process killed (SIGKILL) in the middle — after inserting a chunk's notices but before
committing them — and started again: no notice lost, none doubled."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import time_machine
from sqlalchemy import func
from sqlmodel import select

from tests.tracker.reminders.test_sweep import cst, expand_all, new_task
from tracker.notices.models import NoticeItem, OwedNotice
from tracker.reminders.sweep import sweep
from tracker.tasks.models import Task

ROOT = Path(__file__).resolve().parents[3]

# The real sweep in its own process; its session stops before committing the third chunk, says
# so, and waits to be killed.
CHILD = """
import datetime as dt, sys, time
from sqlmodel import Session
from tracker.db import get_engine
from tracker.reminders.sweep import sweep

class StopsBeforeThirdCommit(Session):
    commits = 0
    def commit(self):
        type(self).commits += 1
        if type(self).commits == 3:
            print("chunk 3 inserted, not committed", flush=True)
            time.sleep(120)
        super().commit()
        print(f"chunk {type(self).commits} committed", flush=True)

with StopsBeforeThirdCommit(get_engine()) as session:
    sweep(session, dt.datetime.fromisoformat(sys.argv[1]), chunk_size=5)
print("finished", flush=True)
"""


def test_sweep_killed_mid_chunk_loses_and_doubles_nothing(session, world, db_url):
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        for i in range(20):
            new_task(session, world, f"K{i}")
    now = cst(2026, 10, 14, 9, 0)
    expected = {(line.task_id, line.rung.value, line.occurrence, line.recipient_name)
                for line in sweep(session, now, dry_run=True).lines}
    assert len(expected) == 20 * 5  # 交办单 ×2, 签收提醒, 催办通知 ×2 per task

    child = subprocess.Popen([sys.executable, "-c", CHILD, now.isoformat()], cwd=ROOT, env=os.environ.copy(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while True:
            line = child.stdout.readline()
            assert line, f"child ended early: {lines} {child.stderr.read()}"
            lines.append(line.strip())
            if line.startswith("chunk 3 inserted"):
                break
        assert lines == ["chunk 1 committed", "chunk 2 committed", "chunk 3 inserted, not committed"]
        # the two committed chunks are there (one notice per task and rung: 交办单, 签收提醒,
        # 催办通知); the third's inserts are not visible
        session.rollback()
        assert session.exec(select(func.count()).select_from(OwedNotice)).one() == 10 * 3
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()

    # started again: PostgreSQL may need a moment to notice the dead connection and free its rows
    deadline = time.monotonic() + 30
    while True:
        sweep(session, now)
        left = session.exec(select(func.count()).select_from(Task).where(Task.next_reminder_at <= now)).one()
        if left == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == 0
    expand_all(session)
    rows = session.exec(select(NoticeItem)).all()
    got = [(r.task_id, r.rung, r.occurrence, r.recipient_name) for r in rows]
    assert len(got) == len(set(got))  # none doubled
    assert set(got) == expected  # none lost
    assert all(t.next_reminder_at > now for t in session.exec(select(Task)))
    assert dt.timedelta(0) < min(t.next_reminder_at for t in session.exec(select(Task))) - now
