"""`junheng serve` in real processes: two servers on two ports over one database answer as one.

Server A is a single process (it runs the scheduler too); server B has two workers (none runs the
scheduler). A token made through A works on B, a task signed through B shows signed through A,
and a page session started on A is good on B: all state is in the database and every process
signs cookies with the same secret key.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import PASSWORD

STARTUP_SECONDS = 180  # importing the app on a busy machine (CI shares its cores)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.port = free_port()
        self.log = log
        self._log_file = log.open("wb")
        junheng = Path(sys.executable).parent / "junheng"
        self.process = subprocess.Popen(
            [str(junheng), "serve", "--port", str(self.port), "--log-level", "info", *args],
            env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server {self.name} exited:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/api/v1/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server {self.name} did not answer in {STARTUP_SECONDS} s:\n{self.output()}")

    def wait_for_output(self, text: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            if time.monotonic() > deadline:
                raise AssertionError(f"server {self.name} never said {text!r}:\n{self.output()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # uvicorn stops its workers too
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # our own process group only
                self.process.wait(timeout=10)
        self._log_file.close()


@pytest.fixture
def servers(db_url, engine, api_world, tmp_path):
    env = {**os.environ, "JUNHENG_DATABASE_URL": db_url, "JUNHENG_DATA_DIR": str(tmp_path / "data"),
           "JUNHENG_SECRET_KEY": "test-secret-shared-by-both-servers", "PYTHONUNBUFFERED": "1"}
    started = []
    try:
        a = Server("A", [], env, tmp_path / "a.log")
        started.append(a)
        b = Server("B", ["--workers", "2"], env, tmp_path / "b.log")
        started.append(b)
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        for server in started:
            server.stop()


def test_two_servers_over_one_database_answer_as_one_and_one_schedules(servers, api_world):
    a, b = servers
    token = httpx.post(f"{a.url}/api/v1/auth/token", data={"username": "dept_a", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    task = api_world.tasks["a"].id

    r = httpx.post(f"{b.url}/api/v1/tasks/{task}/accept", headers=auth)  # A's token, on B
    assert r.status_code == 200, r.text
    assert httpx.get(f"{a.url}/api/v1/tasks/{task}", headers=auth).json()["status"] == "已签收"

    r = httpx.post(f"{a.url}/api/v1/tasks/{task}/progress", headers=auth, json={"percent": 30})
    assert r.status_code == 200
    for _ in range(4):  # whichever of B's workers answers
        shown = httpx.get(f"{b.url}/api/v1/tasks/{task}", headers=auth).json()
        assert (shown["status"], shown["progress"]) == ("办理中", 30)

    # the same move through both, one after the other: the second sees the first's
    office = httpx.post(f"{b.url}/api/v1/auth/token", data={"username": "office", "password": PASSWORD}).json()
    office_auth = {"Authorization": f"Bearer {office['access_token']}"}
    httpx.post(f"{a.url}/api/v1/tasks/{task}/submit", headers=auth)
    answers = sorted(httpx.post(f"{server.url}/api/v1/tasks/{task}/verify", headers=office_auth).status_code
                     for server in (a, b))
    assert answers == [200, 409]

    # a page session started on A is good on B
    with httpx.Client(base_url=a.url) as browser:
        form = browser.get("/login").text
        csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        r = browser.post(f"{b.url}/login", data={"username": "reviewer", "password": PASSWORD, "next": "/logout",
                                                 "csrf_token": csrf})
        assert r.status_code == 303, r.text
        assert "当前登录：市督导评估组" in browser.get(f"{b.url}/logout").text
        assert "当前登录：市督导评估组" in browser.get(f"{a.url}/logout").text

    # the single process runs the scheduler; the workers of B do not
    a.wait_for_output("已获得调度租约")
    assert "各工作进程都不运行调度" in b.output()
    assert "已获得调度租约" not in b.output()
