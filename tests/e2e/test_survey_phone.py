"""A respondent answers the satisfaction survey on a phone (issue 13 §6): the QR slip's address
opened in Chromium at 390×844, each answer tapped, submitted once; the same code again is refused."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.e2e.test_browser import (  # noqa: F401  (fixtures)
    PHONE,
    browser,
    campaign_db,
    server,
    shot,
)

pytestmark = [pytest.mark.browser]


def _code(db_url) -> str:
    from tracker.db import get_engine, session_scope
    from tracker.org.models import Campaign, School
    from tracker.surveys.service import issue_codes, open_survey

    with session_scope(get_engine(db_url)) as session:
        campaign = session.exec(select(Campaign)).first()
        school = session.exec(select(School).where(School.campaign_id == campaign.id).order_by(School.id)).first()
        survey = open_survey(session, campaign, "韩静")
        return issue_codes(session, survey, "家长", 1, school)[0]


def test_a_parent_answers_the_questionnaire_on_a_phone(server, browser, campaign_db, db_url):  # noqa: F811
    from tracker.db import get_engine, session_scope
    from tracker.surveys.models import SurveyResponse

    code = _code(db_url)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{server}/s/{code}")
    assert "家长问卷" in page.inner_text("main")
    fits = page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert fits, "the questionnaire is wider than the phone"
    questions = page.locator("fieldset")
    assert questions.count() == 7
    # a tap target a thumb can hit
    assert page.locator("fieldset label").first.bounding_box()["height"] >= 36
    page.click("button[type=submit]")  # nothing chosen: the browser keeps the form (required radios)
    assert page.locator("fieldset").count() == 7
    answers = ["满意", "比较满意", "满意", "一般", "满意", "不了解", "满意"]
    for index, answer in enumerate(answers):
        questions.nth(index).get_by_text(answer, exact=True).tap()
    shot(page, "survey-phone")
    page.click("button[type=submit]")
    page.wait_for_selector("text=提交成功")
    assert "感谢您的参与" in page.inner_text("main")

    page.goto(f"{server}/s/{code}")
    assert "已经使用过" in page.inner_text("main")
    context.close()
    with session_scope(get_engine(db_url)) as session:
        stored = session.exec(select(SurveyResponse)).all()
    assert len(stored) == 1 and stored[0].answers == {f"P{i}": a for i, a in enumerate(answers, start=1)}
