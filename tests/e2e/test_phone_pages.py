"""Pages on a phone (390×844), in Chromium, as office, unit, school and reviewer (issue 12 §8): the
indicator page was 14,700 px tall with its tables cut off on the right. No table may be wider than
the screen unless it sits in a container that scrolls sideways (and that container fits the screen);
no page is wider than the screen; the pages stay a reasonable height. And the 修改密码 page, used as
a person would."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.e2e.test_browser import (  # noqa: F401  (fixtures)
    PASSWORD,
    PHONE,
    browser,
    campaign_db,
    log_in,
    server,
    shot,
)

pytestmark = [pytest.mark.browser]

# a phone page may be long, but not a wall: about a dozen screens at most
MAX_PAGE_HEIGHT = 12 * PHONE["height"]

# every table: fits, or sits in an element that scrolls sideways and itself fits the screen
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const table of document.querySelectorAll('table')) {
    const box = table.getBoundingClientRect();
    if (box.width === 0) continue;
    let scroller = null;
    for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.overflowX === 'auto' || style.overflowX === 'scroll') { scroller = el; break; }
    }
    if (scroller) {
      const s = scroller.getBoundingClientRect();
      if (s.left < -1 || s.right > width + 1) out.push({table: table.id || table.className || table.rows[0]?.innerText.slice(0, 40), why: 'scroller wider than the screen', right: s.right});
    } else if (box.left < -1 || box.right > width + 1) {
      out.push({table: table.id || table.className || table.rows[0]?.innerText.slice(0, 40), why: 'no scroll container', right: box.right});
    }
  }
  return out;
}"""


def _accounts(db_url, campaign_db):
    from tracker.accounts.service import create_user
    from tracker.db import get_engine, session_scope
    from tracker.org.models import Campaign, School

    with session_scope(get_engine(db_url)) as session:
        campaign = session.exec(select(Campaign)).first()
        school = session.get(School, campaign_db["school_id"])
        create_user(session, campaign, {"username": "school", "password": PASSWORD, "role": "school",
                                         "school": school.name, "name": "学校填报员"})


def _pages(campaign_db) -> dict[str, list[str]]:
    dept, school, task = campaign_db["department_id"], campaign_db["school_id"], campaign_db["task_id"]
    return {
        "office": ["/overview", "/indicators", "/tasks", f"/tasks/{task}", "/departments", f"/departments/{dept}",
                   f"/schools/{school}", "/data", "/briefings", "/account/password"],
        "reviewer": ["/overview", "/indicators", "/tasks", f"/schools/{school}", "/briefings"],
        "jicai": [f"/departments/{dept}", "/tasks", f"/tasks/{task}", "/briefings", "/account/password"],
        "school": [f"/schools/{school}", "/tasks", "/data", "/data/form", "/account/password"],
    }


def test_wide_tables_scroll_inside_the_screen_on_a_phone(server, browser, campaign_db, db_url):
    _accounts(db_url, campaign_db)
    suffix = "" if db_url.startswith("sqlite") else "-pg"
    heights = {}
    for username, paths in _pages(campaign_db).items():
        context, page = log_in(browser, server, username, PHONE, mobile=True)
        for path in paths:
            page.goto(server + path)
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").count() == 1, (username, path)
            assert page.evaluate(OVERFLOW) == [], (username, path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (username, path, width)
            height = page.evaluate("document.documentElement.scrollHeight")
            heights[(username, path)] = height
            name = path.strip("/").replace("/", "-") or "home"
            shot(page, f"phone-{username}-{name}{suffix}")
        context.close()
    tall = {key: h for key, h in heights.items() if h > MAX_PAGE_HEIGHT}
    assert not tall, tall


def test_a_user_changes_the_password_in_the_browser(server, browser, campaign_db, db_url):
    """As each role would: from the top bar to 修改密码, a mistake shown on the page, then the change;
    another browser logged in as the same user is logged out, the new password logs in."""
    _accounts(db_url, campaign_db)
    for username in ("office", "jicai", "school", "reviewer"):
        elsewhere, other = log_in(browser, server, username, PHONE, mobile=True)  # a second device
        context, page = log_in(browser, server, username, PHONE, mobile=True)
        page.click("a[href='/account/password']")
        page.wait_for_load_state()
        assert page.inner_text("h1") == "修改密码"
        page.fill("#current_password", "not-my-password")
        page.fill("#new_password", "brand-new-pass-1")
        page.fill("#new_password_again", "brand-new-pass-1")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert "当前密码不正确" in page.inner_text("[role=alert]")
        page.fill("#current_password", PASSWORD)
        page.fill("#new_password", "brand-new-pass-1")
        page.fill("#new_password_again", "brand-new-pass-2")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert "两次输入的新密码不一致" in page.inner_text("[role=alert]")
        page.fill("#current_password", PASSWORD)
        page.fill("#new_password", "brand-new-pass-1")
        page.fill("#new_password_again", "brand-new-pass-1")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert "密码已修改" in " ".join(page.locator(".msg").all_inner_texts())
        assert not page.url.startswith(server + "/login")  # this browser stays logged in
        page.goto(server + "/tasks")
        assert page.url == server + "/tasks"

        other.goto(server + "/tasks")  # the other device's session has ended
        assert other.url.startswith(server + "/login")
        other.fill("#username", username)
        other.fill("#password", "brand-new-pass-1")
        other.click("button[type=submit]")
        other.wait_for_load_state("networkidle")
        assert other.url == server + "/tasks"
        context.close()
        elsewhere.close()


def test_a_school_sends_its_row_from_the_prefilled_form(server, browser, campaign_db, db_url):
    """On a phone, the school's form opens with its current row (the self-check's county data);
    a typo is shown at its field; corrected, the row goes to the office."""
    _accounts(db_url, campaign_db)
    context, page = log_in(browser, server, "school", PHONE, mobile=True)
    page.goto(server + "/data")
    page.click("#data-form-link")
    page.wait_for_load_state()
    assert page.inner_text("h1") == "在线填报本校数据" and "全县数据批次" in page.inner_text(".sub")
    pupils = page.input_value("#f_primary_students")
    assert pupils.isdigit() and int(pupils) > 0  # pre-filled
    assert page.get_attribute("#f_name", "readonly") is not None
    page.fill("#f_primary_students", "12x")
    page.click("form.data-form button[type=submit]")
    page.wait_for_load_state()
    assert "未报送" in page.inner_text("[role=alert]")
    assert page.locator(".field.has-problem #f_primary_students").count() == 1
    page.fill("#f_primary_students", str(int(pupils) + 5))
    page.click("form.data-form button[type=submit]")
    page.wait_for_load_state()
    assert "已报送本校数据" in " ".join(page.locator(".msg").all_inner_texts())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
