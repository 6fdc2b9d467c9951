"""考核 speed: the table of a county of N tasks (the briefing benchmark's county: the example plan,
~3.3 events per task, reminders and 督办单 for the late ones), beside two yardsticks measured in the
same run on the same data:

    read tasks   fetching every task row of the campaign with the columns the table needs (what
                 any per-task count in Python must at least do)
    briefing     tracker.briefings.compute_briefing of the same county (replays every event)

    uv run python benchmarks/appraisal.py                         # SQLite in a temporary directory
    uv run python benchmarks/appraisal.py --backend postgresql    # JUNHENG_BENCH_POSTGRES_URL
    uv run python benchmarks/appraisal.py --tasks 20000

Prints medians of 7 runs, the ratios, and the statements one table takes. Not part of CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from benchmarks.briefing import NOW, WEEK, assessment_results, build_county, scratch_database  # noqa: E402
from tracker.appraisal.service import appraise  # noqa: E402
from tracker.briefings.compute import compute_briefing  # noqa: E402
from tracker.calendar import CHINA  # noqa: E402
from tracker.db import make_engine, migrate  # noqa: E402
from tracker.org.models import Campaign  # noqa: E402
from tracker.tasks.models import Task  # noqa: E402

RUNS = 7


def _median(fn) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tasks", type=int, default=5000)
    args = parser.parse_args()
    with scratch_database(args.backend, "appraisal") as url:
        migrate(url)
        engine = make_engine(url)
        with time_machine.travel(dt.datetime(2026, 11, 1, 9, 0, tzinfo=CHINA), tick=True):
            code, events = build_county(engine, 1, args.tasks, assessment_results())
        statements: list[str] = []
        with time_machine.travel(NOW, tick=True), Session(engine) as session:
            campaign = session.exec(select(Campaign).where(Campaign.code == code)).one()
            t = Task.__table__.c
            columns = (t.department_id, t.responsible_school_id, t.status, t.due_on, t.submitted_at, t.verified_at)

            def table():
                return appraise(session, campaign)

            def read_tasks():
                return session.execute(sa.select(*columns).where(t.campaign_id == campaign.id)).all()

            def briefing():
                return compute_briefing(session, campaign, WEEK)

            table(), read_tasks(), briefing()  # warm-up
            ours, rows, replay = _median(table), _median(read_tasks), _median(briefing)
            sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
            result = table()
        print(f"{args.backend}: {args.tasks} 项任务，事件 {events} 条；考核表 {len(result.units)} 个单位，"
              f"{len(statements)} 条语句")
        print(f"考核表（创建以来）中位数 {ours * 1000:.1f} ms")
        print(f"  读出全部任务行（尺度）{rows * 1000:.1f} ms，比值 {ours / rows:.2f}")
        print(f"  同一县的调度通报计算（尺度）{replay * 1000:.1f} ms，比值 {ours / replay:.3f}")
        print(f"测时系统负载 {os.getloadavg()[0]:.1f}，{os.cpu_count()} 核")
        engine.dispose()


if __name__ == "__main__":
    main()
