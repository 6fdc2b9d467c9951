"""The 示范校 page: each user sees its own part and the forms of its moves; refusals answer as
the API's do."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.api.conftest import PASSWORD
from tests.api.test_pages import log_in
from tests.factories_db import build_world
from tests.tracker.programmes.world import ACCEPTANCE_DAY, AWARD_DAY, MENTOR_DAY, SEED_DAY, at, create, walk
from tracker.accounts.service import create_user
from tracker.db import session_scope
from tracker.org.models import Campaign


@pytest.fixture
def programme_users(engine):
    campaign_id = create(engine)
    walk(engine, campaign_id, until="pairing")
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        build_world(session, "county")
        for name, fields in (("office", {"role": "office", "person": "周主任"}), ("liuxiao", {"role": "school", "school": "六小"}),
                             ("yi", {"role": "reviewer", "person": "乙"}), ("jia", {"role": "reviewer", "person": "甲"})):
            create_user(session, campaign, {"username": name, "password": PASSWORD, **fields})


def test_a_school_applies_on_the_page_and_the_office_reviews(client, programme_users):
    with at(SEED_DAY):
        token = log_in(client, "liuxiao")
        assert client.get("/", follow_redirects=False).headers["location"] == "/programme"
        page = client.get("/programme")
        assert "申请列入标杆种子校" in page.text and "一中" not in page.text
        form = {"csrf_token": token, "points_A": "40", "points_B": "41", "reasons": "自评达标"}
        assert client.post("/programme/apply", data=form, follow_redirects=False).status_code == 303
        again = client.post("/programme/apply", data=form)
        assert again.status_code == 409 and "等待复核" in again.text
        assert client.post("/programme/review", data={"csrf_token": token, "school": "六小", "verdict": "pass",
                                                      "reason": "达标"}).status_code == 403
        token = log_in(client, "office")
        assert "复核意见" in client.get("/programme").text
        r = client.post("/programme/review", data={"csrf_token": token, "school": "六小", "verdict": "pass",
                                                   "reason": "复核达标"}, follow_redirects=True)
        assert "复核达标（复核达标）" in r.text
        assert client.post("/programme/publicity", data={"csrf_token": token, "subject": "results",
                                                         "starts_on": "2027-04-01", "ends_on": "2027-03-01"}
                           ).status_code == 422


def test_a_member_scores_within_the_window_never_its_own_school(client, programme_users):
    with at(MENTOR_DAY):
        token = log_in(client, "jia")
        page = client.get("/programme")
        assert "评审打分（甲）" in page.text and "<option>一中</option>" not in page.text
        own = client.post("/programme/score", data={"csrf_token": token, "round": "mentor", "school": "一中",
                                                    "points_A": "1", "points_B": "1"})
        assert own.status_code == 403 and "不能为本校打分" in own.text
    with at(ACCEPTANCE_DAY):
        token = log_in(client, "yi")
        assert "<option>三小</option>" in client.get("/programme").text
        r = client.post("/programme/score", data={"csrf_token": token, "round": "presentation", "school": "三小",
                                                  "points_A": "44", "points_B": "43"}, follow_redirects=True)
        assert r.status_code == 200 and "已为「三小」打分" in r.text
    with at(AWARD_DAY):
        token = log_in(client, "yi")
        late = client.post("/programme/score", data={"csrf_token": token, "round": "presentation", "school": "三小",
                                                     "points_A": "1", "points_B": "1"})
        assert late.status_code == 409 and "不在评分时间内" in late.text


def test_the_office_pairs_and_tasks_and_the_school_reports_on_the_page(client, engine, programme_users):
    from tracker.programmes import queries
    from tracker.tasks.models import Task

    with at(ACCEPTANCE_DAY):
        token = log_in(client, "office")
        r = client.post("/programme/pair", data={"csrf_token": token, "mentor": "一中", "schools": "六小"},
                        follow_redirects=True)
        assert "已结对：一中 + 六小" in r.text and "帮扶组：一中 + 三小、四小、五小、六小" in r.text
        r = client.post("/programme/pairing-task", data={"csrf_token": token, "school": "六小", "title": "共建读书角",
                                                         "due_on": "2027-08-20"}, follow_redirects=True)
        assert "已建立帮扶任务" in r.text
        token = log_in(client, "liuxiao")
        assert "帮扶进展" in client.get("/programme").text
        r = client.post("/programme/pairing-report", data={"csrf_token": token, "text": "读书角已建成"},
                        follow_redirects=True)
        assert "已记录帮扶进展" in r.text
        listing = client.get("/tasks")
        assert listing.status_code == 200 and "共建读书角" in listing.text
        with session_scope(engine) as session:
            task = session.exec(select(Task).where(Task.title == "共建读书角")).one()
            reports = queries.pairing_reports(session, [p.id for p in queries.pairings(session, task.campaign_id)])
            assert [r.text for r in reports][-1] == "读书角已建成"
        detail = client.get(f"/tasks/{task.id}")
        assert detail.status_code == 200 and "共建读书角" in detail.text
