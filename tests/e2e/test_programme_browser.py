"""End to end in a real browser (Debian's Chromium, as tests/e2e/test_browser.py): a school's
application to the 示范校 programme walks through 复核, 公示, a panel member's scoring and the
award the office confirms; the school sees its score only once the results' 公示 has begun.

The server runs in a subprocess on the wall clock, so the programme's dates are derived from the
day the test starts: every phase spans it (the scoring window is open), and the 公示 the office
opens ended yesterday (awards may be computed)."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from tests.e2e.test_browser import ARGS, CHROMIUM, DESKTOP, PASSWORD, ROOT, flash_text, log_in, running_server, shot  # noqa: F401
from tests.e2e.test_browser import browser  # noqa: F401,F811  (fixture)
from tests.tracker.programmes.world import PLAN
from tracker.accounts.service import create_user
from tracker.clock import local_today
from tracker.db import get_engine, session_scope
from tracker.plans.programme import parse_programme_plan
from tracker.programmes import service

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
]


@pytest.fixture
def programme_db(db_url):
    today = local_today()
    start, end = today - dt.timedelta(days=30), today + dt.timedelta(days=30)
    text = re.sub(r"开始: \d{4}-\d{2}-\d{2}, 结束: \d{4}-\d{2}-\d{2}", f"开始: {start}, 结束: {end}", PLAN)
    with session_scope(get_engine(db_url)) as session:
        campaign = service.create_programme(session, parse_programme_plan(text), actor="测试")
        for username, fields in (("office", {"role": "office", "person": "周主任"}),
                                 ("liuxiao", {"role": "school", "school": "六小"}),
                                 ("panel", {"role": "reviewer", "person": "乙"})):
            create_user(session, campaign, {"username": username, "password": PASSWORD, **fields})
    return {"url": db_url, "today": today}


@pytest.fixture
def programme_server(programme_db, tmp_path):
    with running_server(programme_db["url"], tmp_path) as base:
        yield base


def _row(page, school: str) -> str:
    return page.locator(f"#programme-schools tr[data-school='{school}']").inner_text()


def _submit(page, form: str) -> None:
    page.click(f"{form} button[type=submit]")
    page.wait_for_load_state()


def test_a_school_applies_and_is_reviewed_publicised_scored_and_awarded(programme_server, programme_db, browser,  # noqa: F811
                                                                         db_url):
    base, today = programme_server, programme_db["today"]
    suffix = "" if db_url.startswith("sqlite") else "-pg"
    week_ago, yesterday = (today - dt.timedelta(days=7)).isoformat(), (today - dt.timedelta(days=1)).isoformat()

    # the school applies with its self-assessment
    context, page = log_in(browser, base, "liuxiao", DESKTOP)
    assert page.url == f"{base}/programme"
    page.fill("#apply-form input[name=points_A]", "45")
    page.fill("#apply-form input[name=points_B]", "44")
    page.fill("#apply-form textarea[name=reasons]", "自评各项达到评选标准")
    shot(page, f"programme-apply{suffix}")
    _submit(page, "#apply-form")
    assert "申请已提交" in flash_text(page) and "待复核" in _row(page, "六小")
    assert page.locator("#apply-form").count() == 0  # once only
    context.close()

    # the office: 复核 passes it, the seed list is publicised
    context, page = log_in(browser, base, "office", DESKTOP)
    form = ".review-form[data-school='六小']"
    page.check(f"{form} input[value=pass]")
    page.fill(f"{form} input[name=reason]", "经复核达到评选标准")
    _submit(page, form)
    assert "复核达标" in _row(page, "六小")
    page.select_option("#publicity-form select[name=subject]", "seeds")
    page.fill("#publicity-form input[name=starts_on]", week_ago)
    page.fill("#publicity-form input[name=ends_on]", yesterday)
    _submit(page, "#publicity-form")
    assert "已公示标杆种子校名单" in flash_text(page)
    context.close()

    # a panel member scores it in the 导师型 round (the window is open today)
    context, page = log_in(browser, base, "panel", DESKTOP)
    form = ".score-form[data-round=mentor]"
    page.select_option(f"{form} select[name=school]", "六小")
    page.fill(f"{form} input[name=points_A]", "42")
    page.fill(f"{form} input[name=points_B]", "43.5")
    shot(page, f"programme-score{suffix}")
    _submit(page, form)
    assert "已为「六小」打分" in flash_text(page)
    context.close()

    # before the results' 公示 the school sees no score
    context, page = log_in(browser, base, "liuxiao", DESKTOP)
    assert "85.5" not in _row(page, "六小")
    context.close()

    # the office publicises the results (ended yesterday), computes and confirms the awards
    context, page = log_in(browser, base, "office", DESKTOP)
    page.select_option("#publicity-form select[name=subject]", "results")
    page.fill("#publicity-form input[name=starts_on]", week_ago)
    page.fill("#publicity-form input[name=ends_on]", yesterday)
    _submit(page, "#publicity-form")
    _submit(page, "#awards-form")
    assert "标兵校（待确认）" in _row(page, "六小")
    _submit(page, ".confirm-form[data-school='六小']")
    assert "标兵校（已确认）" in _row(page, "六小")
    shot(page, f"programme-office{suffix}")
    with page.expect_download() as download:
        page.click("a[href='/programme/certificates.xlsx']")
    assert download.value.suggested_filename.endswith("证书名单.xlsx")
    context.close()

    # the school now sees its score and its award
    context, page = log_in(browser, base, "liuxiao", DESKTOP)
    row = _row(page, "六小")
    assert "85.5" in row and "标兵校（已确认）" in row
    shot(page, f"programme-school-awarded{suffix}")
    context.close()
