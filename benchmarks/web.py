"""The pages under load: 总览 and the task list of a campaign with 100,000 tasks, on SQLite and on
PostgreSQL, each next to its yardstick: a bare FastAPI endpoint returning the same bytes.

    uv run python benchmarks/web.py [--tasks 100000] [--requests 2000] [--concurrency 16]
                                    [--seconds 30] [--load wrk|httpx] [--backends sqlite,postgresql] [--only]
                                    [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each backend gets a fresh database: the example campaign (examples/plan.yaml, its self-check on
examples/schools.xlsx) plus ``--tasks`` synthetic tasks spread over its units, phases, states,
due dates and progress, each with its task.created event and the moves its state implies. The
app runs in its own uvicorn process (one worker, as ``junheng serve`` starts it); the load comes
over loopback from ``--concurrency`` connections logged in as the office through the login form:
by default from wrk (``benchmarks/wrk_load.py``; `apt-get install wrk`) for ``--seconds`` seconds
per endpoint, or with ``--load httpx`` (the default where wrk is missing) from httpx async clients
in this process, at most ``--requests`` requests or ``--seconds`` seconds, whichever ends first.
The Python generator needs about a core of its own on a 2-core machine and its queueing shows in
every latency (the bare app's own p95 read 115 ms with it), so the figures of record are wrk's.
Printed per endpoint: requests/s, p50 and p95 latency (ms).
``--api`` measures the task list API and its yardstick alone.

Each page is measured next to its yardstick, in the same run and the same way: a bare FastAPI
app in its own uvicorn process (one worker) with one route returning the very HTML bytes the 总览
just served, and one route returning the very JSON of the task list API as a dict for FastAPI to
serialise. Printed: both figures and the ratio (requests/s of the page over the yardstick's).
The aims (issue 10): 总览 p95 under 100 ms and at least 5 % of its yardstick's requests/s; the
task list API at least half of its yardstick's. Nothing writes while the load runs, so after the
warm-up every list request is a kept answer (api/v1/task_list_cache.py): what a list asked for
again costs; a list that changed costs what the route computes (3 statements and the rows).

PostgreSQL: a database named <database of --postgres-url>_bench_<random> is created on the server
of ``--postgres-url`` and dropped at the end. ``--tasks 5000 --seconds 5 --only`` makes a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-2026"

def bare_app():
    """The yardstick app, served by uvicorn as ``web:bare_app --factory`` (--app-dir benchmarks):
    ``/bare`` returns the bytes of the file JUNHENG_BENCH_HTML, ``/bare.json`` the JSON of the file
    JUNHENG_BENCH_JSON, parsed once and serialised by FastAPI on every request."""
    import json

    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, Response

    html = Path(os.environ["JUNHENG_BENCH_HTML"]).read_bytes()
    body = json.loads(Path(os.environ["JUNHENG_BENCH_JSON"]).read_text(encoding="utf-8"))
    app = FastAPI()

    @app.get("/bare", response_class=HTMLResponse)
    def bare() -> Response:
        return HTMLResponse(html)

    @app.get("/bare.json")
    def bare_json() -> dict:
        return body

    return app


# ---------------------------------------------------------------------------------------------
# the data


def seed(url: str, n_tasks: int, data_dir: Path) -> dict:
    """The example campaign after its self-check, ``n_tasks`` more tasks, an office log-in."""
    os.environ["JUNHENG_DATABASE_URL"] = url
    os.environ["JUNHENG_DATA_DIR"] = str(data_dir)
    from sqlalchemy import insert
    from sqlmodel import select

    from tracker.accounts.service import create_user
    from tracker.campaigns.selfcheck import run_self_check
    from tracker.campaigns.service import apply_plan
    from tracker.db import get_engine, migrate, session_scope, utcnow
    from tracker.events.models import Event
    from tracker.org.models import Department, Phase, School
    from tracker.plans import load_plan
    from tracker.settings import get_settings
    from tracker.tasks.models import Task, TaskStatus

    get_settings.cache_clear()
    migrate(url)
    engine = get_engine(url)
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(ROOT / "examples" / "plan.yaml"))
        run_self_check(session, campaign, ROOT / "examples" / "schools.xlsx", actor="韩静")
        create_user(session, campaign, {"username": "office", "password": PASSWORD, "role": "office",
                                         "person": "韩静"})
        code = campaign.code
        campaign_id = campaign.id
        departments = [d.id for d in session.exec(select(Department).where(Department.campaign_id == campaign_id))]
        schools = [s.id for s in session.exec(select(School).where(School.campaign_id == campaign_id))]
        phases = [p.id for p in session.exec(select(Phase).where(Phase.campaign_id == campaign_id))]

    rng = random.Random(2026)
    now = utcnow()
    today = dt.date.today()
    statuses = [s.value for s in TaskStatus]
    weights = [20, 15, 35, 10, 15, 5]
    batch = 5000
    started = time.perf_counter()
    with engine.begin() as conn:
        for start in range(0, n_tasks, batch):
            rows = []
            for i in range(start, min(start + batch, n_tasks)):
                status = rng.choices(statuses, weights)[0]
                created = now - dt.timedelta(days=rng.randint(1, 120), minutes=rng.randint(0, 1440))
                by_school = rng.random() < 0.2
                rows.append({
                    "campaign_id": campaign_id, "phase_id": rng.choice(phases),
                    "title": f"压测任务 {i}：整改第 {i % 97 + 1} 项问题", "measures": "按方案整改",
                    "indicator": str(rng.randint(1, 32)),
                    "school_id": rng.choice(schools) if by_school else None,
                    "department_id": None if by_school else rng.choice(departments),
                    "responsible_school_id": rng.choice(schools) if by_school else None,
                    "due_on": today + dt.timedelta(days=rng.randint(-60, 240)), "status": status,
                    "progress": 100 if status in ("已提交", "已销号") else rng.choice([0, 10, 30, 50, 70, 90]),
                    "notes": "", "origin": "plan", "origin_key": f"bench-{i}",
                    "created_at": created, "updated_at": created,
                })
            conn.execute(insert(Task), rows)
        ids = list(conn.execute(select(Task.id).where(Task.origin_key.like("bench-%")).order_by(Task.id)).scalars())
        # one created event per task, and a move this week for one task in twenty
        events = []
        for task_id in ids:
            events.append({"campaign_id": campaign_id, "actor": "系统", "type": "task.created",
                           "task_id": task_id, "payload": {}, "at": now - dt.timedelta(days=rng.randint(1, 120))})
            if rng.random() < 0.05:
                events.append({"campaign_id": campaign_id, "actor": "联络员", "type": "task.progress",
                               "task_id": task_id, "payload": {"percent": 50, "note": "推进中"},
                               "at": now - dt.timedelta(minutes=rng.randint(1, 3000))})
            # one multi-row INSERT per batch, not a statement per row: the stamp triggers
            # (migration 0021) fire once per statement
            if len(events) >= batch:
                conn.execute(insert(Event).values(events))
                events = []
        if events:
            conn.execute(insert(Event).values(events))
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    get_engine.cache_clear()
    return {"code": code, "seconds": time.perf_counter() - started}


# ---------------------------------------------------------------------------------------------
# the load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, target: list[str], env: dict[str, str]):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, path: str) -> None:
        import httpx

        for _ in range(300):
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(self.log.read().decode(errors="replace"))
            try:
                httpx.get(self.base + path, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("uvicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def log_in(base: str) -> dict[str, str]:
    import httpx

    with httpx.Client(base_url=base) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        r = client.post("/login", data={"username": "office", "password": PASSWORD, "csrf_token": token,
                                        "next": "/overview"})
        assert r.status_code == 303, r.text
        return dict(client.cookies)


async def load(base: str, path: str, cookies: dict[str, str], requests: int, seconds: float,
               concurrency: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    sent = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, limits=limits, timeout=120) as client:
        for _ in range(3):  # warm up: imports, caches, connections
            await client.get(path)
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors, sent
            while sent < requests and time.perf_counter() < deadline:
                sent += 1
                start = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - start)
                if r.status_code != 200:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "path": path, "requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
        "p50": 1000 * statistics.median(latencies),
        "p95": 1000 * latencies[max(0, int(0.95 * len(latencies)) - 1)],
    }


def measure(base: str, path: str, args, *, cookies: dict[str, str] | None = None, token: str | None = None) -> dict:
    """One endpoint under load, from wrk (``--load wrk``, the default where it is installed) or from
    httpx async clients in this process."""
    if args.load == "wrk":
        import wrk_load

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return wrk_load.load(base + path, headers=headers, cookies=cookies, seconds=args.seconds,
                             concurrency=args.concurrency, path=path)
    if token:
        return asyncio.run(load_api(base, path, token, args))
    return asyncio.run(load(base, path, cookies or {}, args.requests, args.seconds, args.concurrency))


def print_rows(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print(f"  {'endpoint':<44} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}")
    for r in rows:
        print(f"  {r['path']:<44} {r['requests']:>8} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['errors']:>6}")


def endpoints(code: str) -> list[str]:
    return [OVERVIEW, "/tasks", "/tasks?page=1000", "/tasks?status=办理中&overdue=1", api_path(code)]


def api_token(base: str) -> str:
    import httpx

    r = httpx.post(base + "/api/v1/auth/token", data={"username": "office", "password": PASSWORD})
    return r.json()["access_token"]


def run_backend(name: str, url: str, args, data_dir: Path) -> list[dict]:
    info = seed(url, args.tasks, data_dir)
    print(f"\n[{name}] seeded {args.tasks} tasks (+ the example campaign's) in {info['seconds']:.1f} s")
    env = {"JUNHENG_DATABASE_URL": url, "JUNHENG_DATA_DIR": str(data_dir),
           "JUNHENG_SECRET_KEY": "bench-secret-key", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = Server(["--factory", "api.app:create_app"], env)
    try:
        server.wait("/login")
        cookies = log_in(server.base)
        token = api_token(server.base)
        paths = endpoints(info["code"])
        if args.only:
            paths = [p for p in paths if p in (OVERVIEW, api_path(info["code"]))]
        if args.api:
            paths = [api_path(info["code"])]
        rows = []
        for path in paths:
            if path.startswith("/api/"):
                rows.append(measure(server.base, path, args, token=token))
            else:
                rows.append(measure(server.base, path, args, cookies=cookies))
        rows += yardsticks(server.base, cookies, token, info["code"], data_dir, args)
        return rows
    finally:
        server.stop()


OVERVIEW = "/overview"


def api_path(code: str) -> str:
    return f"/api/v1/campaigns/{code}/tasks?limit=50"


def yardsticks(base: str, cookies: dict[str, str], token: str, code: str, tmp: Path, args) -> list[dict]:
    """The bare app serving the bytes the 总览 and the task list API served just now."""
    import httpx

    tmp.mkdir(parents=True, exist_ok=True)
    html = httpx.get(base + OVERVIEW, cookies=cookies, timeout=120)
    body = httpx.get(base + api_path(code), headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert html.status_code == 200 and body.status_code == 200
    (tmp / "bare.html").write_bytes(html.content)
    (tmp / "bare.json").write_bytes(body.content)
    bare = Server(["--app-dir", str(ROOT / "benchmarks"), "--factory", "web:bare_app"],
                  {"JUNHENG_BENCH_HTML": str(tmp / "bare.html"), "JUNHENG_BENCH_JSON": str(tmp / "bare.json")})
    try:
        bare.wait("/bare")
        same = httpx.get(bare.base + "/bare")
        assert same.content == html.content
        rows = [] if args.api else [measure(bare.base, "/bare", args)]
        rows.append(measure(bare.base, "/bare.json", args))
    finally:
        bare.stop()
    if not args.api:
        rows[0]["path"] = f"yardstick: same {len(html.content)} HTML bytes"
    rows[-1]["path"] = f"yardstick: same JSON ({len(body.content)} bytes) from a dict"
    return rows


def code_of(rows: list[dict]) -> str:
    return next(r["path"] for r in rows if r["path"].startswith("/api/v1/campaigns/")).split("/")[4]


def print_ratios(rows: list[dict], code: str) -> None:
    by_path = {r["path"]: r for r in rows}
    html = next((r for r in rows if r["path"].startswith("yardstick: same") and "HTML" in r["path"]), None)
    json_ = next(r for r in rows if r["path"].startswith("yardstick: same JSON"))
    print("  ratios (page requests/s over its yardstick's, measured in this run):")
    for path, yard, aim in ((OVERVIEW, html, "aim ≥ 5 %, p95 < 100 ms"), (api_path(code), json_, "aim ≥ 50 %")):
        if path in by_path and yard is not None:
            r = by_path[path]
            print(f"    {path:<44} {r['rps']:>8.1f} req/s vs {yard['rps']:>8.1f} req/s: "
                  f"{100 * r['rps'] / yard['rps']:5.1f} %  (p95 {r['p95']:.0f} ms; {aim})")


async def load_api(base: str, path: str, token: str, args) -> dict:
    import httpx

    # the same loop with a bearer header instead of the session cookie
    latencies: list[float] = []
    errors = 0
    sent = 0
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=120) as client:
        for _ in range(3):
            await client.get(path)
        deadline = time.perf_counter() + args.seconds

        async def worker() -> None:
            nonlocal errors, sent
            while sent < args.requests and time.perf_counter() < deadline:
                sent += 1
                start = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {"path": path, "requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50": 1000 * statistics.median(latencies), "p95": 1000 * latencies[max(0, int(0.95 * len(latencies)) - 1)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="at most this many per endpoint")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most this long per endpoint")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "JUNHENG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--only", action="store_true",
                        help="only 总览 and the task list API (with their yardsticks)")
    parser.add_argument("--api", action="store_true",
                        help="only the task list API and its yardstick (FastAPI serialising the same JSON)")
    import wrk_load

    wrk_load.add_option(parser)
    args = parser.parse_args()
    args.load = wrk_load.generator(parser, args)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    print(f"benchmarks/web.py: {args.tasks} tasks, concurrency {args.concurrency}, "
          f"≤ {args.requests} requests or ≤ {args.seconds:g} s per endpoint (wrk: the seconds only), "
          f"load from {args.load}, one uvicorn worker, loopback; "
          f"{os.cpu_count()} CPUs")

    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        with tempfile.TemporaryDirectory(prefix="junheng-bench-") as tmp:
            if backend == "sqlite":
                rows = run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args, Path(tmp) / "data")
            elif backend == "postgresql":
                import sqlalchemy as sa

                name = f"{sa.engine.make_url(args.postgres_url).database}_bench_{uuid.uuid4().hex[:8]}"
                admin = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                url = sa.engine.make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
                try:
                    rows = run_backend("PostgreSQL", url, args, Path(tmp) / "data")
                finally:
                    from tracker.db import get_engine

                    get_engine.cache_clear()
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
            else:
                raise SystemExit(f"unknown backend {backend!r}")
            print_rows(f"{backend}: {args.tasks} tasks", rows)
            print_ratios(rows, code_of(rows))


if __name__ == "__main__":
    main()
