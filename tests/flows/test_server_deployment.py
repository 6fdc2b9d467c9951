"""The multi-machine set-up, for real: a Prefect server on its own PostgreSQL database, the
``junheng`` process work pool, the deployments of prefect.yaml, a worker — and the dispatcher
handing a gate check to that worker, which passes the phase in the tracker database.

Runs only where JUNHENG_TEST_POSTGRES_URL is set (Prefect's server needs PostgreSQL here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.conftest import POSTGRES_URL, _empty_postgres
from tests.factories_db import World, build_world
from tracker.db import session_scope
from tracker.events.models import Event, FlowRunRecord
from tracker.phases.models import PhaseStep
from tracker.org.models import Campaign, Department, Person, Phase, PhaseStatus
from tracker.settings import get_settings
from tracker.tasks import lifecycle

pytestmark = [
    pytest.mark.prefect_server,
    pytest.mark.skipif(not POSTGRES_URL, reason="需要 JUNHENG_TEST_POSTGRES_URL（Prefect 服务器的 PostgreSQL）"),
]

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
STARTUP_TIMEOUT = 90
RUN_TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen | None) -> None:
    """Stop a process we started and everything it started (its own process group)."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def _log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@pytest.fixture
def tracker_on_postgres(request, monkeypatch, tmp_path) -> str:
    """The tracker's test database on PostgreSQL, shared with the worker through its URL."""
    url = request.getfixturevalue("_postgres_database")
    _empty_postgres(url)
    monkeypatch.setenv("JUNHENG_DATABASE_URL", url)
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def prefect_database() -> str:
    """A fresh PostgreSQL database for the Prefect server (asyncpg URL); dropped afterwards."""
    name = f"prefect_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name) \
        .render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _campaign_with_verified_phase(tracker_url: str) -> tuple[str, int, int]:
    """A campaign whose 自查自评 tasks are all 销号 — events recorded, gate not yet checked."""
    with session_scope() as session:
        world = build_world(session)
        office = world.people["王主任"]
        for n in range(3):
            task = world.task(session, f"prep-{n}", phase="self_check")
            lifecycle.accept(session, task, office)
            lifecycle.submit(session, task, office, note="已完成")
            lifecycle.verify(session, task, office)
        return world.campaign.code, world.phases["self_check"].id, world.phases["rectification"].id


def test_worker_on_prefect_server_passes_the_gate(tracker_on_postgres, prefect_database, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.dispatcher import DispatchMode, dispatch_pending

    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api_url,
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_database,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "JUNHENG_DATABASE_URL": tracker_on_postgres,
    }
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    server = worker = None
    try:
        server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=server_log.open("w"), stderr=subprocess.STDOUT,
                                  start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert server.poll() is None, f"Prefect 服务器启动失败：\n{_log_tail(server_log)}"
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"Prefect 服务器未在时限内启动：\n{_log_tail(server_log)}"
            time.sleep(0.5)

        def cli(*args: str) -> None:
            done = subprocess.run([PREFECT, *args], env=env, cwd=REPO, capture_output=True, text=True,
                                  timeout=120)
            assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"

        cli("work-pool", "create", "junheng", "--type", "process")
        # The worker runs elsewhere (here: another directory); it needs only the installed
        # package and the shared tracker database. It boots while the deployments are made.
        workdir = tmp_path / "worker"
        workdir.mkdir()
        worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "junheng", "--name", "worker-a"], env=env,
                                  cwd=workdir, stdout=worker_log.open("w"), stderr=subprocess.STDOUT,
                                  start_new_session=True)
        cli("--no-prompt", "deploy", "--all")  # every deployment of prefect.yaml

        code, phase_id, next_phase_id = _campaign_with_verified_phase(tracker_on_postgres)

        async def dispatch_and_wait():
            with temporary_settings({PREFECT_API_URL: api_url}):
                report = await dispatch_pending(mode=DispatchMode.deployments)
                assert [o.ok for o in report.outcomes] == [True], report
                run_id = report.outcomes[0].flow_run_id
                async with get_client() as client:
                    deadline = time.monotonic() + RUN_TIMEOUT
                    while True:
                        run = await client.read_flow_run(run_id)
                        if run.state is not None and run.state.is_final():
                            return report, run
                        assert time.monotonic() < deadline, f"流程运行未在时限内结束：\n{_log_tail(worker_log)}"
                        await asyncio.sleep(1)

        report, run = asyncio.run(dispatch_and_wait())
        assert report.outcomes[0].start.flow_name == "gate-check"
        assert run.state.is_completed(), f"{run.state}\n{_log_tail(worker_log)}"

        with session_scope() as session:
            assert PhaseStatus(session.get(Phase, phase_id).status) is PhaseStatus.passed
            assert PhaseStatus(session.get(Phase, next_phase_id).status) is PhaseStatus.active
            passed = session.exec(select(Event).where(Event.type == "phase.gate_passed")).all()
            assert [e.payload["phase_id"] for e in passed] == [phase_id]
            undispatched = session.exec(select(Event).where(
                Event.type == "task.verified", Event.dispatched_at.is_(None))).all()
            assert undispatched == []
            recorded = session.exec(select(FlowRunRecord)).all()
        assert [(r.run_name, r.mode, r.flow_run_id) for r in recorded] == [
            (f"gate-check/{code}-自查自评", "deployments", str(run.id))]
        assert run.name == f"gate-check/{code}-自查自评"
        assert run.state.message.startswith("通过："), run.state

        # The next phase's flow, from its phase.activated event, runs on the worker too.
        async def next_phase_flow():
            with temporary_settings({PREFECT_API_URL: api_url}):
                report = await dispatch_pending(mode=DispatchMode.deployments)
                assert [o.start.flow_name for o in report.outcomes] == ["phase-rectification"], report
                return await _wait_final(get_client, report.outcomes[0].flow_run_id, worker_log)

        run = asyncio.run(next_phase_flow())
        assert run.state.is_completed(), f"{run.state}\n{_log_tail(worker_log)}"
        assert run.name == f"phase-rectification/{code}-整改"
        with session_scope() as session:
            steps = {s.step for s in session.exec(select(PhaseStep).where(PhaseStep.phase_id == next_phase_id))}
        # its 阶段部署通知 goes out at activation even though the phase has no task yet
        assert steps == {"deployment_notice", "ladder", "redate_shortfalls", "resubmission_request"}

        # A worker killed (kill -9 of its process group) while it runs a gate check: the tracker
        # starts the run again on another worker, and the gate check is not lost.
        _verified_tasks_in(next_phase_id)
        first_worker = worker

        async def kill_mid_run_and_recover():
            from flows.followup import follow_flow_runs

            with temporary_settings({PREFECT_API_URL: api_url}):
                report = await dispatch_pending(mode=DispatchMode.deployments)
                assert [o.start.flow_name for o in report.outcomes] == ["gate-check"], report
                run_id = report.outcomes[0].flow_run_id
                async with get_client() as client:
                    deadline = time.monotonic() + RUN_TIMEOUT
                    while (await client.read_flow_run(run_id)).state.type.value not in ("PENDING", "RUNNING"):
                        assert time.monotonic() < deadline, _log_tail(worker_log)
                        await asyncio.sleep(0.1)
                os.killpg(first_worker.pid, signal.SIGKILL)
                first_worker.wait(timeout=15)
                second = subprocess.Popen([PREFECT, "worker", "start", "--pool", "junheng", "--name", "worker-b"],
                                          env=env, cwd=workdir, stdout=second_log.open("w"),
                                          stderr=subprocess.STDOUT, start_new_session=True)
                deadline = time.monotonic() + RUN_TIMEOUT
                while True:
                    await follow_flow_runs(start_bound=dt.timedelta(seconds=5), run_bound=dt.timedelta(seconds=5))
                    with session_scope() as session:
                        if PhaseStatus(session.get(Phase, next_phase_id).status) is PhaseStatus.passed:
                            return run_id, second
                    assert time.monotonic() < deadline, f"阶段未通过：\n{_log_tail(second_log)}"
                    await asyncio.sleep(1)

        second_log = tmp_path / "worker-b.log"
        killed_run, worker = asyncio.run(kill_mid_run_and_recover())
        with session_scope() as session:
            passed = session.exec(select(Event).where(Event.type == "phase.gate_passed")).all()
            assert [e.payload["phase_id"] for e in passed] == [phase_id, next_phase_id]
            killed = session.exec(select(FlowRunRecord).where(FlowRunRecord.flow_run_id == killed_run)).one()
            assert killed.state in ("retried", "completed")
    finally:
        _stop(worker)
        _stop(server)


async def _wait_final(get_client, run_id, worker_log):
    async with get_client() as client:
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            run = await client.read_flow_run(run_id)
            if run.state is not None and run.state.is_final():
                return run
            assert time.monotonic() < deadline, f"流程运行未在时限内结束：\n{_log_tail(worker_log)}"
            await asyncio.sleep(1)


def _verified_tasks_in(phase_id: int) -> None:
    """Two tasks of the phase, 销号 by the office: events recorded, gate not yet checked."""
    with session_scope() as session:
        phase = session.get(Phase, phase_id)
        world = World(campaign=session.get(Campaign, phase.campaign_id))
        world.phases = {p.code: p for p in session.exec(select(Phase).where(Phase.campaign_id == phase.campaign_id))}
        world.departments = {d.name: d for d in session.exec(
            select(Department).where(Department.campaign_id == phase.campaign_id))}
        office = session.exec(select(Person).where(Person.campaign_id == phase.campaign_id, Person.is_office)).first()
        for n in range(2):
            task = world.task(session, f"rect-{n}", phase=phase.code)
            lifecycle.accept(session, task, office)
            lifecycle.submit(session, task, office, note="已完成")
            lifecycle.verify(session, task, office)
