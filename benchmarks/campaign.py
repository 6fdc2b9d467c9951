"""Self-check speed through Prefect: one county of 300 schools, and a province of 100 counties.

    uv run python benchmarks/campaign.py [--province-counties 100] [--province-schools 100]
                                         [--database-url URL]

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
    from tracker.campaigns.plan import load_plan
    from tracker.campaigns.service import apply_plan
    from tracker.db import session_scope

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
    from tracker.campaigns.service import resolve_campaign
    from tracker.db import session_scope

    start = time.perf_counter()
    with session_scope() as session:
        selfcheck.run_self_check(session, resolve_campaign(session, code), sheet, "系统")
    return time.perf_counter() - start


def _line(label: str, wall: float, inside: float, split: str = "") -> None:
    print(f"  {wall:7.2f} s = tracker {inside:6.2f} s + Prefect {wall - inside:5.2f} s "
          f"({100 * (wall - inside) / wall:4.1f} %)   {label}" + (f"  [tracker: {split}]" if split else ""))


async def main(args: argparse.Namespace) -> None:
    from flows.selfcheck import self_check_flow
    from tracker.db import migrate

    workdir = Path(tempfile.mkdtemp(prefix="junheng-bench-"))
    clock = StepClock()
    clock.install()

    print(f"数据库：{os.environ['JUNHENG_DATABASE_URL']}")
    migrate()

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
    code = "county-300-plain"
    _apply_plan(code, "对照县")
    plain = _without_prefect(code, _sheet(workdir, 300, seed=300))
    print(f"  {plain:7.2f} s   300 所学校，不经 Prefect（同一事务中的同样三步）")

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
