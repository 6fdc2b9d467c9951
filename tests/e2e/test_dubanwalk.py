"""The whole 督办 walk in a real browser (issue 12 §9), every step through the pages:
交办 → 签收 → 延期申请 → approve → 提交 refused without evidence → submit with evidence →
退回 (seen as 已退回 by the unit) → submit → 销号, and the task's history lists each step.

Same machinery as test_browser.py (its fixtures and helpers are imported): Playwright driving
/usr/bin/chromium against uvicorn in a subprocess, on the example campaign. The server runs on
the real clock, so every date is derived from one ``today`` taken once at the start.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from api.pages.common import fmt_date
from tests.e2e.test_browser import (  # noqa: F401 - browser, campaign_db and server are fixtures
    CHROMIUM,
    DESKTOP,
    PHONE,
    browser,
    campaign_db,
    flash_text,
    log_in,
    server,
    shot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"),
]

UNIT = "县教育局计划财务股"
TITLE = "核拨运动场改扩建配套资金"


def _status(page) -> str:
    return page.locator(".sub .tag").first.inner_text().strip()


def _submit(page, note: str) -> None:
    page.fill("form[action$='/actions/submit'] textarea[name=note]", note)
    page.click("form[action$='/actions/submit'] button")
    page.wait_for_load_state()


def test_the_duban_walk_from_assignment_to_verification(server, browser, campaign_db, tmp_path, db_url):
    today = dt.date.today()  # once: every date below is relative to it
    due = today + dt.timedelta(days=14)
    extended = today + dt.timedelta(days=28)
    suffix = "" if db_url.startswith("sqlite") else "-pg"

    # 1. the office assigns (交办) a task that needs evidence
    office, o_page = log_in(browser, server, "office", DESKTOP)
    o_page.goto(f"{server}/tasks")
    o_page.click("#assign summary:has-text('交办一项任务')")
    form = "form[action='/tasks/new']"
    o_page.fill(f"{form} input[name=title]", TITLE)
    o_page.select_option(f"{form} select[name=source]", index=0)
    o_page.fill(f"{form} textarea[name=measures]", "12 月底前完成资金拨付")
    o_page.select_option(f"{form} select[name=lead]", UNIT)
    o_page.fill(f"{form} input[name=due_on]", due.isoformat())
    o_page.check(f"{form} input[name=evidence_required]")
    o_page.click(f"{form} button[type=submit]")
    o_page.wait_for_load_state()
    assert re.search(rf"已交办任务 #\d+「{TITLE}」", flash_text(o_page))
    task_id = int(re.search(r"/tasks/(\d+)$", o_page.url).group(1))
    assert o_page.inner_text("h1") == TITLE
    assert _status(o_page) == "待签收"
    facts = o_page.inner_text("dl.facts")
    assert UNIT in facts and fmt_date(due, True) in facts and "提交前须上传佐证材料" in facts
    task_url = f"{server}/tasks/{task_id}"

    # 2. the unit, on a phone, finds it on its home page and signs it (签收)
    unit, u_page = log_in(browser, server, "jicai", PHONE, mobile=True)
    home = f"{server}/departments/{campaign_db['department_id']}"
    assert u_page.url == home
    u_page.goto(task_url)
    u_page.click("form[action$='/actions/accept'] button")
    u_page.wait_for_load_state()
    assert f"已签收任务 #{task_id}" in flash_text(u_page)
    assert _status(u_page) == "已签收"

    # 3. asks for more time (延期申请) with a reason
    ext = "form[action$='/moves/extension']"
    u_page.fill(f"{ext} input[name=due_on]", extended.isoformat())
    u_page.fill(f"{ext} textarea[name=reason]", "财政资金下达晚于预期")
    u_page.click(f"{ext} button")
    u_page.wait_for_load_state()
    assert "已提交延期申请，等待办公室审批" in flash_text(u_page)
    assert "待审批" in u_page.inner_text("dl.facts") and fmt_date(extended) in u_page.inner_text("dl.facts")

    # 4. the office approves it on the task page; the new due date shows
    o_page.goto(task_url)
    assert "财政资金下达晚于预期" in o_page.inner_text("#extension")
    o_page.fill("form[action*='/approve'] textarea[name=reason]", "同意，请抓紧")
    o_page.click("form[action*='/approve'] button")
    o_page.wait_for_load_state()
    assert "已同意延期，截止日期已调整" in flash_text(o_page)
    assert fmt_date(extended, True) in o_page.inner_text("dl.facts")
    assert o_page.locator("#extension").count() == 0

    # 5. the unit submits before any evidence: refused in Chinese, still not 已提交
    u_page.goto(task_url)
    assert fmt_date(extended, True) in u_page.inner_text("dl.facts")
    _submit(u_page, "资金已拨付")
    assert "要求上传佐证材料后才能提交" in flash_text(u_page)
    assert _status(u_page) == "已签收"
    # the refused form keeps what was typed
    assert u_page.input_value("form[action$='/actions/submit'] textarea[name=note]") == "资金已拨付"

    # 6. uploads a PDF and submits: 已提交
    evidence = tmp_path / "拨付凭证.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    u_page.set_input_files("form[action$='/evidence'] input[type=file]", str(evidence))
    u_page.click("form[action$='/evidence'] button")
    u_page.wait_for_load_state()
    assert "已上传佐证材料「拨付凭证.pdf」" in flash_text(u_page)
    _submit(u_page, "资金已拨付，凭证见附件")
    assert f"已提交任务 #{task_id}" in flash_text(u_page)
    assert _status(u_page) == "已提交"

    # 7. the office returns it (退回) with a reason
    o_page.goto(task_url)
    o_page.fill("form[action$='/actions/return'] textarea[name=reason]", "凭证缺少财政局盖章")
    o_page.click("form[action$='/actions/return'] button")
    o_page.wait_for_load_state()
    assert f"已退回任务 #{task_id}" in flash_text(o_page)

    # 8. the unit sees 已退回 and the reason on its home page and on the task page
    u_page.goto(home)
    returned = u_page.inner_text(".card.returned")
    assert "已退回的任务（1 项）" in returned and TITLE in returned and "凭证缺少财政局盖章" in returned
    u_page.click(f".card.returned a[href='/tasks/{task_id}']")
    u_page.wait_for_load_state()
    returned = u_page.inner_text(".card.returned")
    assert "已退回" in returned and "凭证缺少财政局盖章" in returned
    assert _status(u_page) != "已提交"

    # 9. submits again (the evidence is already there)
    _submit(u_page, "已补盖章，重新提交")
    assert f"已提交任务 #{task_id}" in flash_text(u_page)
    assert _status(u_page) == "已提交"
    assert u_page.locator(".card.returned").count() == 0
    u_page.goto(home)
    assert u_page.locator(".card.returned").count() == 0
    shot(u_page, f"phone-walk-department{suffix}")
    unit.close()

    # 10. the office verifies (销号); the history lists each step
    o_page.goto(task_url)
    o_page.fill("form[action$='/actions/verify'] textarea[name=note]", "材料齐全，同意销号")
    o_page.click("form[action$='/actions/verify'] button")
    o_page.wait_for_load_state()
    assert f"已销号任务 #{task_id}" in flash_text(o_page)
    assert _status(o_page) == "已销号"
    history = o_page.inner_text("ol.history")
    steps = ["新建任务", "签收", "申请延期", "理由：财政资金下达晚于预期", "同意延期", "上传佐证材料",
             "提交", "退回", "原因：凭证缺少财政局盖章", "已补盖章，重新提交", "销号"]
    for step in steps:
        assert step in history, step
    # oldest first in the reading order of the walk (the page lists newest first)
    lines = history.splitlines()
    first = [next(i for i, line in enumerate(lines) if line.startswith(s)) for s in ("销号", "退回", "同意延期", "签收")]
    assert first == sorted(first)
    shot(o_page, f"desktop-walk-verified{suffix}")
    office.close()
