"""The region roll-up under load (issue 15 §2): a province of 100 counties × 100 schools (1,000
tasks each: 100,000 tasks) on PostgreSQL — the 地区总览 page and its API — each next to its
yardstick, a bare FastAPI app serving the very same bytes (HTML) and JSON (from a dict), in the
same run and the same way.

    uv run python benchmarks/region.py [--counties 100] [--schools 100] [--tasks 1000]
                                       [--seconds 8] [--concurrency 8] [--load wrk|httpx]

The data goes in set-based: every table in one multi-row INSERT (executemany batches) per table,
the task tallies following by trigger; each county also has an assessment snapshot with its 100
schools per stage (what a self-check stores), and 督办单 notice items. A province of ten cities
holds the counties; the province's 督导 account asks. The app runs in its own uvicorn process
(one worker, as ``junheng serve``); the load comes from ``--concurrency`` connections of wrk
(``benchmarks/wrk_load.py``, the default where installed) or, with ``--load httpx``, httpx clients here.
Printed: requests/s, p50 and p95 (ms) of each, and the ratios. The aims: p95 under 200 ms and at
least a fifth of the yardstick's requests/s.

A database named junheng_bench_<random> is created on JUNHENG_BENCH_POSTGRES_URL's server
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from briefing import scratch_database  # noqa: E402
from web import Server  # noqa: E402

PASSWORD = "bench-password-2026"
PAGE = "/region"
API = "/api/v1/regions/mine/status"


def _school_result(rng: random.Random, n: int) -> dict:
    stages = {}
    for stage in ("primary", "junior"):
        stages[stage] = {
            "indicators": {str(i): {"cv": round(rng.uniform(0.2, 0.7), 3), "cv_limit": 0.5 if stage == "primary" else 0.45,
                                    "county_value": 1.0, "cv_ok": True, "threshold": 1.0, "county_met": True,
                                    "sections": [], "schools_below": []} for i in range(1, 8)},
            "schools": [{"name": f"学校{k}", "school_key": f"{stage}-{k}", "students": 500,
                         "values": {str(i): rng.uniform(1, 3) for i in range(1, 8)}, "met": [], "ok": rng.random() < 0.7,
                         "blocking": []} for k in range(n // 2)],
        }
    return {"standard": "national-2017", "as_of": "2026-12-01", "ok": False, "stages": stages, "shortfalls": []}


def seed(url: str, counties: int, schools: int, tasks: int) -> dict:
    os.environ["JUNHENG_DATABASE_URL"] = url
    from sqlalchemy import insert, text

    from tracker.accounts.models import User
    from tracker.accounts.service import hash_password
    from tracker.assessment.models import AssessmentSnapshot
    from tracker.db import get_engine, migrate, utcnow
    from tracker.notices.models import NoticeItem
    from tracker.org.models import Campaign, Department, Phase, School
    from tracker.regions.models import Region, RegionCounty
    from tracker.schooldata.models import DataSubmission
    from tracker.settings import get_settings
    from tracker.tasks.models import Task

    get_settings.cache_clear()
    migrate(url)
    engine = get_engine(url)
    rng = random.Random(15)
    began = time.perf_counter()
    now = utcnow()
    today = dt.date(2026, 12, 7)
    statuses = ["待签收", "已签收", "办理中", "已提交", "已销号", "已销号", "已撤销"]
    with engine.begin() as conn:
        ids = range(1, counties + 1)
        conn.execute(insert(Campaign.__table__), [
            {"id": c, "code": f"county-{c:03d}", "name": f"第{c}县创建工作", "county": f"第{c:03d}县",
             "standard_id": "national-2017", "plan": {}, "created_at": now, "updated_at": now} for c in ids])
        phases = [("self_check", "自查自评", "self_check", "active", today - dt.timedelta(days=30), today + dt.timedelta(days=20)),
                  ("rectification", "整改", "rectification", "pending", today + dt.timedelta(days=21), today + dt.timedelta(days=200)),
                  ("review_city", "市级复评", "review_city", "pending", None, None)]
        conn.execute(insert(Phase.__table__), [
            {"id": 3 * (c - 1) + k + 1, "campaign_id": c, "code": code, "name": name, "kind": kind, "ordinal": k + 1,
             "status": status, "starts_on": starts, "gate_on": gate, "note": ""}
            for c in ids for k, (code, name, kind, status, starts, gate) in enumerate(phases)])
        conn.execute(insert(Department.__table__), [
            {"id": 5 * (c - 1) + k + 1, "campaign_id": c, "name": f"单位{k}", "short_name": "", "kind": "county_department",
             "head_name": "", "head_email": "", "active": True} for c in ids for k in range(5)])
        conn.execute(insert(School.__table__), [
            {"campaign_id": c, "key": f"{c}-{k}", "name": f"第{c}县学校{k}", "school_type": "小学",
             "contact_name": "", "contact_email": ""} for c in ids for k in range(schools)])
        rows = []
        for c in ids:
            for k in range(tasks):
                status = rng.choice(statuses)
                due = today + dt.timedelta(days=rng.randint(-40, 60))
                done_at = now - dt.timedelta(days=rng.randint(0, 30)) if status in ("已提交", "已销号") else None
                rows.append({"campaign_id": c, "phase_id": 3 * (c - 1) + 1, "title": f"任务{k}", "measures": "",
                             "department_id": 5 * (c - 1) + 1 + k % 5, "due_on": due, "status": status,
                             "progress": 0, "notes": "", "origin": "plan", "origin_key": f"t{k}",
                             "submitted_at": done_at, "verified_at": done_at if status == "已销号" else None,
                             "created_at": now, "updated_at": now, "source": "", "source_ref": "",
                             "evidence_required": False})
        conn.execute(insert(Task.__table__), rows)
        conn.execute(insert(DataSubmission.__table__), [
            {"id": c, "campaign_id": c, "label": "自查", "source_filename": "", "submitted_by": "", "school_count": schools,
             "submitted_at": now} for c in ids])
        conn.execute(insert(AssessmentSnapshot.__table__), [
            {"campaign_id": c, "submission_id": c, "standard_id": "national-2017", "created_at": now, "ok": False,
             "result": _school_result(rng, schools)} for c in ids])
        task_ids = conn.execute(text("SELECT id, campaign_id FROM task WHERE status IN ('待签收', '已签收', '办理中') "
                                     "AND due_on < :d ORDER BY id"), {"d": today - dt.timedelta(days=5)}).all()
        conn.execute(insert(NoticeItem.__table__), [
            {"campaign_id": c, "task_id": t, "rung": "escalation", "occurrence": 0, "idempotency_key": f"{t}:esc:0:{r}",
             "recipient_address": f"r{r}@example.cn", "payload": {}, "not_before": now, "created_at": now}
            for t, c in task_ids[: 20 * counties] for r in range(2)])
        conn.execute(insert(Region.__table__), [{"id": 1, "code": "province", "name": "示例省", "level": "province", "parent_id": None,
                                                 "created_at": now}] +
                     [{"id": 1 + k, "code": f"city-{k}", "name": f"示例{k}市", "level": "city", "parent_id": 1,
                       "created_at": now} for k in range(1, 11)])
        conn.execute(insert(RegionCounty.__table__), [{"campaign_id": c, "region_id": 2 + (c - 1) % 10} for c in ids])
        conn.execute(insert(User.__table__), [{"campaign_id": 1, "region_id": 1, "username": "province",
                                               "name": "示例省督导", "role": "region", "active": True,
                                               "password_hash": hash_password(PASSWORD), "created_at": now}])
        for table in ("campaign", "phase", "department", "datasubmission", "region"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))
    return {"seconds": time.perf_counter() - began, "tasks": counties * tasks}


def fresh_rollup_ms(url: str) -> float:
    """The roll-up's own statements and Python, without the kept answer (what the first request
    after a change costs), median of five after one that summarises the snapshots."""
    from sqlmodel import Session

    from tracker.db import get_engine
    from tracker.regions.rollup import county_lines
    from tracker.regions.service import region_by_code, region_campaigns

    times = []
    with Session(get_engine(url)) as session:
        province = region_by_code(session, "province")
        county_lines(session, region_campaigns(session, province.id), dt.date(2026, 12, 7))
        session.commit()
        for _ in range(5):
            start = time.perf_counter()
            county_lines(session, region_campaigns(session, province.id), dt.date(2026, 12, 7))
            times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def bare_app():
    """The yardstick (``region:bare_app --factory``): the bytes of JUNHENG_BENCH_HTML and the JSON of
    JUNHENG_BENCH_JSON parsed once, serialised by FastAPI on every request."""
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


def measure(base: str, path: str, *, generator: str, cookies=None, headers=None, seconds: float,
            concurrency: int) -> dict:
    """One endpoint under load from wrk (``--load wrk``, the default where installed: see
    benchmarks/wrk_load.py) or from httpx clients in this process."""
    if generator == "wrk":
        import wrk_load

        return wrk_load.load(base + path, headers=headers, cookies=cookies, seconds=seconds,
                             concurrency=concurrency, path=path)
    return asyncio.run(load(base, path, cookies=cookies, headers=headers, seconds=seconds, concurrency=concurrency))


async def load(base: str, path: str, *, cookies=None, headers=None, seconds: float, concurrency: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, headers=headers, limits=limits, timeout=120) as client:
        for _ in range(3):
            await client.get(path)
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {"path": path, "requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50": 1000 * statistics.median(latencies), "p95": 1000 * latencies[max(0, int(0.95 * len(latencies)) - 1)]}


def log_in(base: str) -> tuple[dict, dict]:
    import httpx

    with httpx.Client(base_url=base) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        r = client.post("/login", data={"username": "province", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303, r.text
        cookies = dict(client.cookies)
        bearer = client.post("/api/v1/auth/token", data={"username": "province", "password": PASSWORD}).json()
    return cookies, {"Authorization": f"Bearer {bearer['access_token']}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--schools", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per county")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    import wrk_load

    wrk_load.add_option(parser)
    args = parser.parse_args()
    args.load = wrk_load.generator(parser, args)
    import httpx

    print(f"load from {args.load}, {args.concurrency} connections, {args.seconds:g} s per endpoint")

    with scratch_database("postgresql", "region") as url:
        info = seed(url, args.counties, args.schools, args.tasks)
        print(f"seeded {args.counties} counties × {args.schools} schools, {info['tasks']} tasks in {info['seconds']:.1f} s")
        print(f"roll-up computed afresh in process (after any change; summaries warm): {fresh_rollup_ms(url):.0f} ms median")
        tmp = Path(tempfile.mkdtemp(prefix="junheng-bench-region-"))
        env = {"JUNHENG_DATABASE_URL": url, "JUNHENG_DATA_DIR": str(tmp), "JUNHENG_SECRET_KEY": "bench-secret-key",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        server = Server(["--factory", "api.app:create_app"], env)
        rows = []
        try:
            server.wait("/login")
            cookies, bearer = log_in(server.base)
            first = time.perf_counter()
            html = httpx.get(server.base + PAGE, cookies=cookies, timeout=120)
            print(f"first request of the page (the server's first roll-up): {1000 * (time.perf_counter() - first):.0f} ms")
            body = httpx.get(server.base + API, headers=bearer, timeout=120)
            assert html.status_code == 200 and body.status_code == 200, (html.text[:300], body.text[:300])
            assert len(body.json()["counties"]) == args.counties, (len(body.json()["counties"]), body.text[:500])
            rows.append(measure(server.base, PAGE, generator=args.load, cookies=cookies, seconds=args.seconds,
                                concurrency=args.concurrency))
            rows.append(measure(server.base, API, generator=args.load, headers=bearer, seconds=args.seconds,
                                concurrency=args.concurrency))
        finally:
            server.stop()
        (tmp / "bare.html").write_bytes(html.content)
        (tmp / "bare.json").write_bytes(body.content)
        bare = Server(["--app-dir", str(ROOT / "benchmarks"), "--factory", "region:bare_app"],
                      {"JUNHENG_BENCH_HTML": str(tmp / "bare.html"), "JUNHENG_BENCH_JSON": str(tmp / "bare.json")})
        try:
            bare.wait("/bare")
            rows.append(measure(bare.base, "/bare", generator=args.load, seconds=args.seconds,
                                concurrency=args.concurrency))
            rows.append(measure(bare.base, "/bare.json", generator=args.load, seconds=args.seconds,
                                concurrency=args.concurrency))
        finally:
            bare.stop()
    print(f"\n{'endpoint':<40} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for r in rows:
        print(f"{r['path']:<40} {r['requests']:>8} {r['errors']:>6} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f}")
    for mine, bare_row, what in ((rows[0], rows[2], "page"), (rows[1], rows[3], "API")):
        print(f"{what}: {mine['rps'] / bare_row['rps']:.2f} × the bare endpoint's requests/s "
              f"(aim ≥ 0.20); p95 {mine['p95']:.0f} ms (aim < 200)")


if __name__ == "__main__":
    main()
