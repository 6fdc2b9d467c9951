"""满意度调查 on the web (issue 13 §3): the answer page /s/{code} without an account, refusals in
Chinese, guessing slowed per address; the results page, .xlsx and API; closing the round."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import Session, func, select

from tests.api.test_pages import log_in
from tracker.db import session_scope
from tracker.org.models import Campaign, School
from tracker.surveys.models import SurveyResponse
from tracker.surveys.service import issue_codes, open_survey

PARENT = {f"P{i}": "满意" for i in range(1, 8)}


def _codes(engine, count: int = 2) -> list[str]:
    with session_scope(engine) as session:
        campaign = session.exec(select(Campaign).where(Campaign.code == "demo")).one()
        school = session.exec(select(School).where(School.campaign_id == campaign.id)).first()
        survey = open_survey(session, campaign, "王主任")
        return issue_codes(session, survey, "家长", count, school)


def _responses(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(SurveyResponse)).one()


def test_a_respondent_answers_once_without_an_account(client, api_world, engine):
    code = _codes(engine)[0]
    page = client.get(f"/s/{code}")
    assert page.status_code == 200 and "家长问卷" in page.text and "城关一小" in page.text
    assert "您对孩子就近入学、公平入学的情况满意吗？" in page.text and 'name="P7"' in page.text
    assert "示例调查" in page.text  # the shipped questionnaire is illustrative and says so
    missing = client.post(f"/s/{code}", data={k: v for k, v in PARENT.items() if k != "P3"})
    assert missing.status_code == 422 and "第 3 题" in missing.text and _responses(engine) == 0
    done = client.post(f"/s/{code}", data=PARENT)
    assert done.status_code == 200 and "提交成功" in done.text
    again = client.post(f"/s/{code}", data=PARENT)
    assert again.status_code == 409 and "已经使用过" in again.text
    assert client.get(f"/s/{code}").status_code == 409
    assert _responses(engine) == 1


def test_unknown_codes_are_refused_and_guessing_locks_the_address(client, api_world, engine):
    code = _codes(engine)[1]
    for i in range(5):
        r = client.get(f"/s/WRONGCODE{i:03d}")
        assert r.status_code == 404 and "答卷码无效" in r.text
    locked = client.get(f"/s/{code}")  # even a good code waits while the address is locked
    assert locked.status_code == 429 and "请在" in locked.text and int(locked.headers["Retry-After"]) > 0
    assert client.post(f"/s/{code}", data=PARENT).status_code == 429
    assert _responses(engine) == 0


def test_the_office_sees_results_downloads_them_and_closes_the_survey(client, api_world, engine, headers):
    codes = _codes(engine, 2)
    client.post(f"/s/{codes[0]}", data=PARENT)
    token = log_in(client, "office")
    page = client.get("/survey")
    assert page.status_code == 200 and "100.0%" in page.text and "满意、比较满意" in page.text
    wb = load_workbook(io.BytesIO(client.get("/survey/results.xlsx").content))
    assert wb["总体与群体"]["B5"].value == "100.0%"
    api = client.get("/api/v1/campaigns/demo/survey/results", headers=headers["reviewer"]).json()
    assert api["overall"]["rate"] == 1.0 and api["overall"]["answers"] == 7 and api["groups"]["家长"]["rate"] == 1.0
    assert client.get("/api/v1/campaigns/demo/survey/results", headers=headers["dept_a"]).status_code == 403
    assert client.post("/api/v1/campaigns/demo/survey/close", headers=headers["reviewer"]).status_code == 403
    r = client.post("/survey/close", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    closed = client.get(f"/s/{codes[1]}")
    assert closed.status_code == 410 and "调查已经结束" in closed.text
    again = client.post("/api/v1/campaigns/demo/survey/close", headers=headers["office"])
    assert again.status_code == 404 and "没有正在进行的满意度调查" in again.json()["detail"]
