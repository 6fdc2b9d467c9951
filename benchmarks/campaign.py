"""Self-check speed through Prefect: one county of 300 schools, and a province of 100 counties.

    uv run python benchmarks/campaign.py [--province-counties 100] [--province-schools 100]
                                         [--database-url URL] [--plain [--county-schools 300]]

Every figure is a real self-check flow run (flows/selfcheck.py: import → assess → reconcile, one
Prefect task each) on embedded Prefect (an ephemeral server in a temporary PREFECT_HOME; its
start-up is paid once, before timing). The tracker's share is the time spent inside the three
steps' own functions (each a database transaction: reading the sheet, the assessment engine,
storing tasks); Prefect's share is the flow's wall time minus that — the orchestration cost.

1. County: 300 synthetic schools (tests/factories.py), first run (creates the tasks) and a second
   run (creates none), next to the same work without Prefect (selfcheck.run_self_check in one
   transaction) and next to a 40-school county, to show Prefect's share does not grow with the
   number of schools.
2. Province: 100 campaigns (the example plan under 100 codes), each self-checking its own sheet
   of ``--province-schools`` schools, one flow run after another. Prints total wall time, time
   per county, and Prefect's share.

``--plain`` measures only the self-check without Prefect (issue 10): its SQL statements, first
and second run, and a yardstick, a bare bulk INSERT of the very rows the first run wrote (one
executemany per table, in a transaction rolled back). Aim: within 3× of the yardstick, under 2 s
on PostgreSQL for 300 schools, and statements that do not grow with the number of schools.

Aim (issue 3): a county's self-check in seconds, not minutes; Prefect's overhead independent of
the number of schools. The database is a SQLite file in a temporary directory unless
``--database-url`` names another (an empty database, e.g. PostgreSQL; it is migrated first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class StepClock:
    """Wraps the plain step functions the Prefect tasks call, adding up the time spent inside."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def install(self) -> None:
        import flows.steps as steps

        for name in ("import_sheet", "assess", "reconcile"):
            original = getattr(steps, name)

            def timed(*args, _original=original, _name=name, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds[_name] += time.perf_counter() - start

            setattr(steps, name, timed)

    def take(self) -> dict[str, float]:
        taken, self.seconds = dict(self.seconds), defaultdict(float)
        return taken


def _apply_plan(code: str, county: str) -> None:
    from tracker.campaigns.service import apply_plan
    from tracker.db import session_scope
    from tracker.plans import load_plan

    plan = load_plan(ROOT / "examples" / "plan.yaml")
    plan = plan.model_copy(update={"code": code, "name": f"{county}创建全国义务教育优质均衡发展县", "county": county})
    with session_scope() as session:
        apply_plan(session, plan)


def _sheet(directory: Path, schools: int, seed: int) -> Path:
    from tests.factories import make_school_rows, write_xlsx

    path = directory / f"schools-{schools}-{seed}.xlsx"
    if not path.exists():
        write_xlsx(path, make_school_rows(schools, seed=seed))
    return path


STEP_NAMES = {"import_sheet": "导入", "assess": "评估", "reconcile": "任务"}


async def _timed_self_check(clock: StepClock, code: str, sheet: Path) -> tuple[float, float, dict, str]:
    from flows.selfcheck import self_check_flow

    start = time.perf_counter()
    result = await self_check_flow(code, str(sheet), "系统")
    wall = time.perf_counter() - start
    steps = clock.take()
    split = " / ".join(f"{STEP_NAMES[name]} {seconds:.2f}" for name, seconds in steps.items())
    return wall, sum(steps.values()), result, split


def _without_prefect(code: str, sheet: Path) -> float:
    from tracker.campaigns import selfcheck
    from tracker.db import session_scope
    from tracker.org.service import resolve_campaign

    start = time.perf_counter()
    with session_scope() as session:
        selfcheck.run_self_check(session, resolve_campaign(session, code), sheet, "系统")
    return time.perf_counter() - start


class StatementCounter:
    """Counts the SQL statements sent to the tracker's database (an executemany counts once)."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from sqlalchemy import event

        from tracker.db import get_engine

        event.listen(get_engine(), "before_cursor_execute", self._seen)

    def uninstall(self) -> None:
        from sqlalchemy import event

        from tracker.db import get_engine

        event.remove(get_engine(), "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1

    def take(self) -> int:
        taken, self.count = self.count, 0
        return taken


# The tables a self-check writes, parents first; the yardstick inserts their rows again in this order.
SELF_CHECK_TABLES = ("school", "datasubmission", "schooldatarow", "assessmentsnapshot", "shortfallrecord",
                     "task", "taskcooperator", "event")


def _bare_insert_seconds(code: str, events_after: int, tasks_after: int) -> tuple[float, int]:
    """The yardstick: (seconds, rows) of a bare bulk INSERT of the rows the self-check of ``code``
    wrote (one executemany per table, no logic), in a transaction that first deletes them and is
    then rolled back. The task tallies' triggers fire as they did for the self-check."""
    from sqlalchemy import select
    from sqlmodel import SQLModel

    from tracker.db import get_engine, session_scope
    from tracker.org.service import resolve_campaign

    with session_scope() as session:
        campaign_id = resolve_campaign(session, code).id
    tables = {name: SQLModel.metadata.tables[name] for name in SELF_CHECK_TABLES}
    task, submission = tables["task"], tables["datasubmission"]
    where = {name: table.c.campaign_id == campaign_id for name, table in tables.items() if "campaign_id" in table.c}
    where["event"] = where["event"] & (tables["event"].c.id > events_after)
    # the self-check's tasks only: the plan's preparatory tasks exist since campaign init
    where["task"] = where["task"] & (task.c.id > tasks_after)
    where["schooldatarow"] = tables["schooldatarow"].c.submission_id.in_(
        select(submission.c.id).where(submission.c.campaign_id == campaign_id))
    where["taskcooperator"] = tables["taskcooperator"].c.task_id.in_(
        select(task.c.id).where(task.c.campaign_id == campaign_id, task.c.id > tasks_after))
    with get_engine().connect() as conn, conn.begin() as transaction:
        rows = {name: [dict(r._mapping) for r in conn.execute(select(table).where(where[name]))]
                for name, table in tables.items()}
        for name in reversed(SELF_CHECK_TABLES):
            conn.execute(tables[name].delete().where(where[name]))
        start = time.perf_counter()
        for name in SELF_CHECK_TABLES:
            if rows[name]:
                conn.execute(tables[name].insert(), rows[name])
        seconds = time.perf_counter() - start
        transaction.rollback()
    return seconds, sum(len(r) for r in rows.values())


def _plain_against_bare(workdir: Path, schools: int) -> None:
    """A county's self-check without Prefect: statements and seconds, first and second run, next
    to the yardstick (issue 10: within 3× of a bare bulk INSERT of the same rows)."""
    from sqlalchemy import func, select

    from tracker.db import session_scope
    from tracker.events.models import Event
    from tracker.tasks.models import Task

    counter = StatementCounter()
    counter.install()
    code = f"plain-{schools}"
    _apply_plan(code, f"{schools}校对照县")
    sheet = _sheet(workdir, schools, seed=schools)
    with session_scope() as session:
        events_after = session.scalar(select(func.max(Event.id))) or 0
        tasks_after = session.scalar(select(func.max(Task.id))) or 0
    counter.take()
    first = _without_prefect(code, sheet)
    first_statements = counter.take()
    bare, rows = _bare_insert_seconds(code, events_after, tasks_after)
    counter.take()
    second = _without_prefect(code, sheet)
    second_statements = counter.take()
    counter.uninstall()
    print(f"  {first:7.2f} s   {schools} 所学校，不经 Prefect，首次：{first_statements} 条 SQL 语句")
    print(f"  {second:7.2f} s   {schools} 所学校，不经 Prefect，再次：{second_statements} 条 SQL 语句")
    print(f"  {bare:7.2f} s   对照：同样的 {rows} 行直接批量插入（每表一次 executemany）；"
          f"自查为其 {first / bare:.1f} 倍")


def _line(label: str, wall: float, inside: float, split: str = "") -> None:
    print(f"  {wall:7.2f} s = tracker {inside:6.2f} s + Prefect {wall - inside:5.2f} s "
          f"({100 * (wall - inside) / wall:4.1f} %)   {label}" + (f"  [tracker: {split}]" if split else ""))


async def main(args: argparse.Namespace) -> None:
    from flows.selfcheck import self_check_flow
    from tracker.db import migrate

    workdir = Path(tempfile.mkdtemp(prefix="junheng-bench-"))
    print(f"数据库：{os.environ['JUNHENG_DATABASE_URL']}")
    migrate()
    if args.plain:
        print("一个县，不经 Prefect（同一事务中的导入、评估、任务三步）")
        _plain_against_bare(workdir, args.county_schools)
        return
    clock = StepClock()
    clock.install()

    # warm-up: start the ephemeral Prefect server and import everything once (not timed)
    _apply_plan("warmup", "热身县")
    start = time.perf_counter()
    await self_check_flow("warmup", str(ROOT / "examples" / "schools.xlsx"), "系统")
    clock.take()
    print(f"Prefect 临时服务器启动及首次运行（不计入）：{time.perf_counter() - start:.1f} s\n")

    print("1. 一个县（自查流程）")
    for schools in (40, 300):
        code = f"county-{schools}"
        _apply_plan(code, f"{schools}校县")
        sheet = _sheet(workdir, schools, seed=schools)
        wall, inside, result, split = await _timed_self_check(clock, code, sheet)
        _line(f"{schools} 所学校，首次（新建 {result['created']} 项任务）", wall, inside, split)
        wall, inside, result, split = await _timed_self_check(clock, code, sheet)
        _line(f"{schools} 所学校，再次（新建 {result['created']} 项）", wall, inside, split)
    _plain_against_bare(workdir, 300)

    print(f"\n2. 一个省：{args.province_counties} 个县，每县 {args.province_schools} 所学校，逐县运行自查流程")
    start = time.perf_counter()
    for i in range(args.province_counties):
        _apply_plan(f"p{i:03d}", f"第{i + 1}县")
    print(f"  建立 {args.province_counties} 个创建工作（方案）：{time.perf_counter() - start:.1f} s")
    sheets = [_sheet(workdir, args.province_schools, seed=1000 + i) for i in range(args.province_counties)]
    walls, insides, created = [], [], 0
    start = time.perf_counter()
    for i, sheet in enumerate(sheets):
        wall, inside, result, _ = await _timed_self_check(clock, f"p{i:03d}", sheet)
        walls.append(wall)
        insides.append(inside)
        created += result["created"]
    total = time.perf_counter() - start
    _line(f"{args.province_counties} 个县合计（新建 {created} 项任务）", total, sum(insides))
    overhead = [w - i for w, i in zip(walls, insides)]
    print(f"  每县：中位 {statistics.median(walls):.2f} s，最慢 {max(walls):.2f} s；"
          f"Prefect 每次流程运行中位 {statistics.median(overhead):.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province-counties", type=int, default=100)
    parser.add_argument("--province-schools", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--plain", action="store_true",
                        help="only the self-check without Prefect, its SQL statements and the bare-INSERT yardstick")
    parser.add_argument("--county-schools", type=int, default=300, help="schools of the county for --plain")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="junheng-bench-prefect-"))
    os.environ["PREFECT_HOME"] = str(home)  # a fresh Prefect database, not the user's
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if args.database_url:
        os.environ["JUNHENG_DATABASE_URL"] = args.database_url
    else:
        os.environ["JUNHENG_DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp(prefix='junheng-bench-db-')) / 'junheng.db'}"
    asyncio.run(main(args))
