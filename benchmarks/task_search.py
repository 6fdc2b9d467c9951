"""Text search and the .xlsx export of the task list (issue 12 §8) on a county-sized campaign.

Seeds the example campaign plus ``--tasks`` tasks (``benchmarks/web.py``'s seed) in a fresh SQLite
file and prints, per figure, the project's number beside its yardstick measured in the same run:
a searched page (``q``, which scans the campaign's tasks: no index serves ``LIKE '%…%'``) beside
the same page unsearched, and the export of every task beside reading the same rows alone.

    uv run python benchmarks/task_search.py --tasks 5000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def best_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    from benchmarks.web import seed

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        code = seed(url, args.tasks, Path(tmp) / "data")["code"]
        from sqlmodel import Session, select

        from tracker.accounts.models import User
        from tracker.accounts.task_export import export_rows, task_list_workbook
        from tracker.accounts.task_list import TaskFilters, visible_to
        from tracker.db import get_engine
        from tracker.org.queries import campaign_by_code

        engine = get_engine(url)
        with Session(engine) as session:
            user = session.exec(select(User).where(User.username == "office")).one()
            campaign = campaign_by_code(session, code)
            import datetime as dt
            today = dt.date.today()
            plain = TaskFilters()
            searched = TaskFilters(q="第 42 项")
            found = visible_to(session, user, campaign.id, searched, limit=50, offset=0, today=today)
            page = best_ms(lambda: visible_to(session, user, campaign.id, plain, limit=50, offset=0, today=today),
                           args.repeat)
            search = best_ms(lambda: visible_to(session, user, campaign.id, searched, limit=50, offset=0,
                                                today=today), args.repeat)
            rows = len(export_rows(session, user, campaign.id, plain, today))
            read = best_ms(lambda: visible_to(session, user, campaign.id, plain, limit=100_000, offset=0,
                                              today=today), 3)
            export = best_ms(lambda: task_list_workbook(session, user, campaign.id, plain, today), 3)
    print(f"{args.tasks} benchmark tasks (+ the example plan's), SQLite; median of runs")
    print(f"searched page (q, {found.total} hits): {search:.1f} ms | same page unsearched: {page:.1f} ms | "
          f"ratio {search / page:.1f}")
    print(f"export of all {rows} rows: {export:.0f} ms | reading them alone: {read:.0f} ms | "
          f"ratio {export / read:.1f}")


if __name__ == "__main__":
    main()
