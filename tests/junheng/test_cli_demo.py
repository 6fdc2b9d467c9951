"""`junheng demo` and `junheng dispatch` through the real Typer app, with real flow runs; and
`junheng demo` serving in a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import docx
import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world
from tracker.accounts.service import authenticate
from tracker.db import get_engine, session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign, Phase, PhaseStatus
from tracker.tasks import lifecycle
from tracker.tasks.models import Task

runner = CliRunner()

SERVE_STARTUP_SECONDS = 180  # the demo's steps (Prefect's temporary server, LibreOffice) come first
DEMO_USERS = ("office", "jicai", "school", "reviewer", "sfx-office", "sfx-school", "sfx-panel")  # sfx-: 示范校
COUNTED = ("campaign", "task", "noticeitem", "outboundmessage", "briefing", "account", "calendaryear")


def _count(url: str, table: str, where: str = "") -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} {where}")).scalar_one()


@pytest.fixture
def demo_env(monkeypatch):
    """The demo points the process at its mail sink and web address through the environment (the
    server it starts reads them there): give them back afterwards, and start with no SMTP server."""
    for name in ("JUNHENG_MAIL_SINK_DIR", "JUNHENG_BASE_URL", "JUNHENG_SMTP_HOST"):
        monkeypatch.setenv(name, "")  # recorded as absent before, so restored as absent
        monkeypatch.delenv(name)


def _accounts(output: str) -> dict[str, str]:
    """username → password from the demo's account table."""
    found = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) >= 6 and cells[1] in DEMO_USERS:
            found[cells[1]] = cells[4]
    return found


def test_demo_twice_creates_nothing_twice(db_url, tmp_path, prefect_harness, demo_env):
    out = tmp_path / "demo"
    first = runner.invoke(app, ["demo", "--dir", str(out), "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "来自 JUNHENG_DATABASE_URL" in first.output
    assert "已建立：青川县" in first.output
    assert "示例日历" in first.output and "不是国务院办公厅" in first.output and "已导入 2027 年示例日历" in first.output
    # the example county's tasks (the illustrative second county of the region step has its own)
    main = "WHERE campaign_id = (SELECT id FROM campaign WHERE code = 'qingchuan-2027')"
    tasks = _count(db_url, "task", main)
    plan_tasks = _count(db_url, "task", main + " AND origin = 'plan'")  # made by campaign init (issue 12)
    assert tasks > plan_tasks > 0 and f"新建 {tasks - plan_tasks} 项" in first.output
    assert "当前阶段" in first.output and "各单位情况" in first.output
    for name in ("任务分解表.xlsx", "任务分解表.docx", "评估结果.json", "评估结果.xlsx", "自评报告.docx", "申报表.xlsx",
                 "申报表.docx"):
        assert (out / f"qingchuan-2027-{name}").stat().st_size > 0
    assessment = json.loads((out / "qingchuan-2027-评估结果.json").read_text(encoding="utf-8"))
    assert assessment["standard"] == "national-2017" and assessment["shortfalls"]

    # the notices: every task's 任务交办单 went through the local SMTP sink into DIR/mail
    messages = _count(db_url, "outboundmessage")
    assert messages > 0 and _count(db_url, "outboundmessage", "WHERE state = 'sent'") == messages
    assert _count(db_url, "noticeitem", "WHERE rung = 'assigned' AND message_id IS NULL") == 0
    assert f"发出 {messages} 封" in first.output
    files = sorted((out / "mail").rglob("*.eml"))
    assert len(files) == messages and f"{messages} 个 .eml 文件" in first.output
    with get_engine(db_url).connect() as conn:
        task_ids = set(conn.execute(sa.text(f"SELECT id FROM task {main}")).scalars())
        department_tasks = set(conn.execute(sa.text(f"SELECT id FROM task {main} AND department_id IS NOT NULL")).scalars())
    linked: set[int] = set()
    phase_notices = 0
    for path in files:
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        subject = str(message["Subject"])
        assert message["To"].addresses[0].addr_spec == path.parent.name
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        links = {int(n) for n in re.findall(r'href="http://127\.0\.0\.1:8000/tasks/(\d+)"', html)}
        if "阶段部署通知" in subject:  # the 自查自评 phase's own flow (issue 16) told its units and schools
            phase_notices += 1
            assert "自查自评" in text, subject
        else:
            assert "任务交办单" in subject or "提醒" in subject, subject
            assert links and all(f"/tasks/{n}" in text for n in links)
        assert links <= task_ids
        linked |= links
    assert department_tasks and department_tasks <= linked  # every department's task reached its contacts
    assert phase_notices > 0

    # the briefing of this week: stored once, written as Word (and PDF with LibreOffice) and HTML
    assert _count(db_url, "briefing") == 1
    written = sorted((out / "briefings").glob("qingchuan-2027-调度通报-第1期-*.docx"))
    assert len(written) == 1
    document = docx.Document(str(written[0]))
    assert "调度通报" in "\n".join(p.text for p in document.paragraphs)
    assert written[0].with_suffix(".html").stat().st_size > 0

    # four accounts whose printed one-time passwords log in
    passwords = _accounts(first.output)
    assert sorted(passwords) == sorted(DEMO_USERS)
    with session_scope() as session:
        for username, password in passwords.items():
            assert authenticate(session, username, password).ok, username

    counts = {table: _count(db_url, table) for table in COUNTED}
    events = _count(db_url, "event", "WHERE type IN ('task.created', 'calendar.imported')")
    second = runner.invoke(app, ["demo", "--dir", str(out), "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "已存在" in second.output and "新建 0 项" in second.output and f"未变 {tasks} 项" in second.output
    assert "内容未变，不重复导入" in second.output
    assert "新排队通知 0 条" in second.output and "新组成邮件 0 封，发出 0 封" in second.output
    assert "第 1 期（再次生成，期数不变）" in second.output
    assert {table: _count(db_url, table) for table in COUNTED} == counts
    assert _count(db_url, "event", "WHERE type IN ('task.created', 'calendar.imported')") == events
    assert sorted((out / "mail").rglob("*.eml")) == files
    # the county, its 示范校 programme (issue 15 §1, no task of its own in the demo) and the
    # illustrative second county of issue 15 §2 (8 tasks) with the 市督导 account, made once
    assert counts["campaign"] == 3 and counts["task"] == tasks + 8 and counts["account"] == 8
    assert "示范校项目：已建立" in first.output and "示范校项目：" in second.output and "不重复建立" in second.output
    city = re.search(r"市督导账号：用户名 city，一次性密码 ([A-Za-z0-9_-]+)", second.output)
    assert city and "第 1 名" in second.output and "第 2 名" in second.output
    with session_scope() as session:
        assert authenticate(session, "city", city.group(1)).ok

    # new passwords every run; the old ones no longer work
    again = _accounts(second.output)
    assert sorted(again) == sorted(DEMO_USERS)
    with session_scope() as session:
        for username in DEMO_USERS:
            assert again[username] != passwords[username]
            assert authenticate(session, username, again[username]).ok
            assert not authenticate(session, username, passwords[username]).ok


def test_demo_keeps_its_database_in_its_directory(tmp_path, monkeypatch, prefect_harness, demo_env):
    from tracker.settings import get_settings

    monkeypatch.setenv("JUNHENG_DATABASE_URL", "")  # the demo sets it: restored as absent afterwards
    monkeypatch.delenv("JUNHENG_DATABASE_URL")
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    out = tmp_path / "演示"
    try:
        result = runner.invoke(app, ["demo", "--dir", str(out), "--no-serve"])
        assert result.exit_code == 0, result.output
        database = (out / "junheng.db").resolve()
        assert f"数据库：{database}（SQLite 文件）" in result.output
        assert _count(f"sqlite:///{database}", "task") > 0
        assert not (tmp_path / "data" / "junheng.db").exists()
        assert list((out / "mail").rglob("*.eml"))
    finally:
        get_engine(f"sqlite:///{(out / 'junheng.db').resolve()}").dispose()
        get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_its_campaign_until_ctrl_c(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("JUNHENG_DATABASE_URL", "JUNHENG_SMTP_HOST", "JUNHENG_MAIL_SINK_DIR", "JUNHENG_BASE_URL")}
    env.update(JUNHENG_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1", COLUMNS="120")
    log = tmp_path / "demo.log"
    junheng = Path(sys.executable).parent / "junheng"
    with log.open("wb") as sink:
        process = subprocess.Popen([str(junheng), "demo", "--dir", str(tmp_path / "demo"), "--port", str(port)],
                                   env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)

    def output() -> str:
        return log.read_text(encoding="utf-8", errors="replace")

    try:
        deadline = time.monotonic() + SERVE_STARTUP_SECONDS
        page = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert page is not None, f"the demo did not serve within {SERVE_STARTUP_SECONDS} s:\n{output()}"
        assert page.status_code == 200 and "登录" in page.text
        text = output()
        assert f"http://127.0.0.1:{port}/" in text and "按 Ctrl+C 停止" in text
        assert sorted(_accounts(text)) == sorted(DEMO_USERS)

        process.send_signal(signal.SIGINT)  # what Ctrl+C sends
        assert process.wait(timeout=60) == 0, output()
        assert "网页服务已停止" in output() and "Traceback" not in output()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # our own process group only
            process.wait(timeout=10)
    # nothing of the demo is left running (Prefect's temporary server is its child)
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("a process of the demo outlived it")
        time.sleep(0.5)


def test_task_verify_only_records_and_dispatch_passes_the_gate(db_url, prefect_harness):
    with session_scope() as session:
        world = build_world(session)
        office = world.people["王主任"]
        task = world.task(session, "prep-1")
        lifecycle.accept(session, task, office)
        lifecycle.submit(session, task, office, note="已完成")
        task_id, phase_id = task.id, task.phase_id

    verified = runner.invoke(app, ["task", "verify", str(task_id), "--as", "王主任"])
    assert verified.exit_code == 0, verified.output
    with session_scope() as session:
        assert session.get(Task, task_id).status == "已销号"
        # the command recorded its event and returned; no flow ran yet
        assert PhaseStatus(session.get(Phase, phase_id).status) is PhaseStatus.active
        event = session.exec(sa.select(Event).where(Event.type == "task.verified")).scalar_one()
        assert event.dispatched_at is None

    dispatched = runner.invoke(app, ["dispatch", "--once"])
    assert dispatched.exit_code == 0, dispatched.output
    # the 销号's gate check, then the activated phase's own flow (issue 16)
    assert "处理事件 2 条：启动流程 2 次" in dispatched.output
    assert "阶段验收" in dispatched.output and "验收通过，下一阶段已启动" in dispatched.output
    assert "✓ 整改阶段「整改」" in dispatched.output
    with session_scope() as session:
        assert PhaseStatus(session.get(Phase, phase_id).status) is PhaseStatus.passed

    idle = runner.invoke(app, ["dispatch", "--once"])
    assert idle.exit_code == 0 and "没有待处理的事件" in idle.output


def test_dispatch_rejects_a_bad_mode(db_url, monkeypatch):
    monkeypatch.setenv("JUNHENG_PREFECT_MODE", "later")
    result = runner.invoke(app, ["dispatch", "--once"])
    assert result.exit_code == 2
    assert "JUNHENG_PREFECT_MODE 的值「later」无效" in result.stderr
    assert "Traceback" not in result.output
    with session_scope() as session:
        assert session.exec(sa.select(Campaign)).first() is None
