"""End to end in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium, never a
downloaded one) against the app served by uvicorn in a subprocess, on the example campaign
(examples/plan.yaml + examples/schools.xlsx through the self-check).

A department signs a task on a phone-sized screen, reports progress, uploads evidence and
submits; the office finds it on the overview, checks the evidence and 销号; the overview shows it.
Screenshots of every page land in test-artifacts/screenshots/ (desktop and phone).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from tracker.accounts.service import create_user
from tracker.campaigns.selfcheck import run_self_check
from tracker.campaigns.service import apply_plan
from tracker.db import get_engine, session_scope
from tracker.org.models import Department
from tracker.plans import load_plan
from tracker.tasks.models import Task

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PASSWORD = "e2e-password-2026"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def campaign_db(db_url):
    """The example campaign after its self-check, with a log-in per role."""
    with session_scope(get_engine(db_url)) as session:
        campaign = apply_plan(session, load_plan(ROOT / "examples" / "plan.yaml"))
        run_self_check(session, campaign, ROOT / "examples" / "schools.xlsx", actor="韩静")
        dept = session.exec(select(Department).where(Department.campaign_id == campaign.id,
                                                     Department.short_name == "计财股")).one()
        create_user(session, campaign, {"username": "office", "password": PASSWORD, "role": "office", "person": "韩静"})
        create_user(session, campaign, {"username": "jicai", "password": PASSWORD, "role": "department",
                                         "department": dept.name, "name": "计财股联络员"})
        create_user(session, campaign, {"username": "reviewer", "password": PASSWORD, "role": "reviewer",
                                         "name": "市督导评估组"})
        task = session.exec(select(Task).where(Task.department_id == dept.id, Task.status == "待签收",
                                               Task.origin == "shortfall").order_by(Task.due_on, Task.id)).first()
        return {"url": db_url, "task_id": task.id, "task_title": task.title, "department_id": dept.id,
                "school_id": task.school_id}


@contextlib.contextmanager
def running_server(db_url: str, tmp_path):
    """``junheng serve``'s app in its own uvicorn process on a free port, over ``db_url``; yields its
    base address and stops it afterwards."""
    port = _free_port()
    env = {**os.environ, "JUNHENG_DATABASE_URL": db_url, "JUNHENG_DATA_DIR": str(tmp_path / "data"),
           "JUNHENG_SECRET_KEY": "e2e-secret-key-not-for-production", "JUNHENG_BASE_URL": f"http://127.0.0.1:{port}"}
    log = (tmp_path / "uvicorn.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "uvicorn.log").read_text())
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("uvicorn did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def server(campaign_db, tmp_path):
    with running_server(campaign_db["url"], tmp_path) as base:
        yield base


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(browser, base: str, username: str, viewport: dict, *, mobile: bool = False):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    page.goto(base + "/")  # not logged in: the login page, then back
    assert page.url.startswith(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return context, page


def flash_text(page) -> str:
    return " ".join(page.locator(".msg").all_inner_texts())


def test_a_department_works_a_task_and_the_office_verifies_it(server, browser, campaign_db, tmp_path, db_url):
    task_id = campaign_db["task_id"]
    shutil.rmtree(SHOTS, ignore_errors=True) if db_url.startswith("sqlite") else None
    suffix = "" if db_url.startswith("sqlite") else "-pg"

    # --- the department, on a phone: sign, report, upload, submit
    context, page = log_in(browser, server, "jicai", PHONE, mobile=True)
    assert page.url == f"{server}/departments/{campaign_db['department_id']}"
    assert "县教育局计划财务股" in page.inner_text("h1")
    shot(page, f"phone-department{suffix}")
    page.goto(f"{server}/tasks/{task_id}")
    assert campaign_db["task_title"] in page.inner_text("h1")
    assert page.locator("form[action$='/actions/verify']").count() == 0  # not the unit's move
    shot(page, f"phone-task-before{suffix}")
    page.click("form[action$='/actions/accept'] button")
    page.wait_for_load_state()
    assert "已签收任务" in flash_text(page)
    page.fill("form[action$='/actions/progress'] input[name=percent]", "60")
    page.fill("form[action$='/actions/progress'] textarea[name=note]", "已完成选址，正在办理立项")
    page.click("form[action$='/actions/progress'] button")
    page.wait_for_load_state()
    assert "已更新进度" in flash_text(page)
    evidence = tmp_path / "立项批复.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    page.set_input_files("form[action$='/evidence'] input[type=file]", str(evidence))
    page.click("form[action$='/evidence'] button")
    page.wait_for_load_state()
    assert "已上传佐证材料「立项批复.pdf」" in flash_text(page)
    assert page.locator("#evidence a", has_text="立项批复.pdf").count() == 1
    page.fill("form[action$='/actions/submit'] textarea[name=note]", "运动场改扩建已立项，材料见附件")
    page.click("form[action$='/actions/submit'] button")
    page.wait_for_load_state()
    assert "已提交" in page.inner_text(".sub")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways page
    shot(page, f"phone-task-submitted{suffix}")
    page.goto(f"{server}/tasks")
    shot(page, f"phone-tasks{suffix}")
    context.close()

    # --- the office, on a desk: the overview shows the submission; check the evidence; 销号
    context, page = log_in(browser, server, "office", DESKTOP)
    assert page.url == f"{server}/overview"
    waiting = page.locator("a.stat[href='/tasks?status=已提交'] .value").inner_text()
    assert waiting.startswith("1")
    week = page.inner_text("#week-h + p") + page.inner_text("ol.history")
    assert "提交" in week and "计财股联络员" in week
    shot(page, f"desktop-overview-before{suffix}")
    page.click("a.stat[href='/tasks?status=已提交']")
    page.wait_for_load_state()
    page.click(f"a[href='/tasks/{task_id}']")
    page.wait_for_load_state()
    with page.expect_download() as download:
        page.click("#evidence a:has-text('立项批复.pdf')")
    assert download.value.suggested_filename == "立项批复.pdf"
    assert Path(download.value.path()).read_bytes() == evidence.read_bytes()
    page.fill("form[action$='/actions/verify'] textarea[name=note]", "材料齐全，同意销号")
    page.click("form[action$='/actions/verify'] button")
    page.wait_for_load_state()
    assert "已销号任务" in flash_text(page)
    history = page.inner_text("ol.history")
    for step in ("签收", "报告进度：进度 60%", "提交", "销号"):
        assert step in history
    shot(page, f"desktop-task-verified{suffix}")

    page.goto(f"{server}/overview")
    assert page.locator("a.stat[href='/tasks?status=已提交'] .value").inner_text().startswith("0")
    progress = page.locator("a.stat[href='/tasks'] .value").inner_text()
    assert re.match(r"\d+%\s*1/\d+", progress), progress  # one task of all verified
    assert "销号" in page.inner_text("#week-h + p")
    shot(page, f"desktop-overview{suffix}")

    page.goto(f"{server}/indicators")
    page.wait_for_selector("#chart-cv-junior[data-rendered='1'] svg")  # ECharts drew from our own copy
    assert page.locator("#chart-value-primary svg").count() == 1
    shot(page, f"desktop-indicators{suffix}")
    for path, name in [("/tasks", "tasks"), (f"/departments/{campaign_db['department_id']}", "department"),
                       (f"/schools/{campaign_db['school_id']}", "school"), ("/data", "data"),
                       ("/departments", "departments"), ("/briefings", "briefings")]:
        page.goto(server + path)
        assert page.locator("h1").count() == 1
        shot(page, f"desktop-{name}{suffix}")
    context.close()

    # --- phone views of the office's pages read too
    context, page = log_in(browser, server, "office", PHONE, mobile=True)
    page.goto(f"{server}/indicators")
    page.wait_for_selector("#chart-value-primary[data-rendered='1'] svg")
    shot(page, f"phone-indicators{suffix}")
    page.goto(f"{server}/overview")
    shot(page, f"phone-overview{suffix}")
    # nothing on a phone page is wider than the screen, except inside a scrolling table
    for path in ("/overview", "/indicators", "/tasks", f"/tasks/{task_id}", "/data", "/departments",
                 f"/departments/{campaign_db['department_id']}", f"/schools/{campaign_db['school_id']}", "/briefings"):
        page.goto(server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
    context.close()
