"""The 示范校 programme's API: a school applies once, the office 复核s, a member scores within
the window and never its own school, a school sees its scores once the results' 公示 opens, and
another campaign's users find nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORD, bearer
from tests.factories_db import build_world
from tests.tracker.programmes.world import (
    ACCEPTANCE_DAY, AWARD_DAY, MENTOR_DAY, PAIRING_DAY, RESULTS_PUBLIC, SEED_DAY, at, create, walk,
)
from tracker.accounts.service import create_user
from tracker.db import session_scope
from tracker.org.models import Campaign

URL = "/api/v1/campaigns/sfx/programme"


@pytest.fixture
def users(engine):
    campaign_id = create(engine)
    walk(engine, campaign_id, until="pairing")
    made = {}
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        county = build_world(session, "county")
        for key, fields, where in (("office", {"role": "office", "person": "周主任"}, campaign),
                                   ("school", {"role": "school", "school": "六小"}, campaign),
                                   ("three", {"role": "school", "school": "三小"}, campaign),
                                   ("member", {"role": "reviewer", "person": "乙"}, campaign),
                                   ("jia", {"role": "reviewer", "person": "甲"}, campaign),
                                   ("outsider", {"role": "office"}, county.campaign)):
            made[key] = create_user(session, where, {"username": key, "password": PASSWORD, **fields})

    class Tokens(dict):
        # issued when asked for, under the test's frozen clock: a token made today has expired in 2027
        def __getitem__(self, key):
            return bearer(engine, made[key])
    return Tokens()


def test_the_programme_through_the_api(client, users):
    with at(SEED_DAY):
        seen = client.get(URL, headers=users["school"]).json()
        assert [s["school"] for s in seen["schools"]] == ["六小"] and seen["schools"][0]["entry"] is None
        body = {"scores": {"A": 40, "B": 40}, "reasons": "自评达标"}
        assert client.post(f"{URL}/applications", json=body, headers=users["school"]).status_code == 200
        twice = client.post(f"{URL}/applications", json=body, headers=users["school"])
        assert twice.status_code == 409 and "等待复核" in twice.json()["detail"]
        other = client.post(f"{URL}/applications", json={**body, "school": "四小"}, headers=users["school"])
        assert other.status_code == 403
        review = {"school": "六小", "passed": False, "reason": "生均占有值未达标"}
        assert client.post(f"{URL}/reviews", json=review, headers=users["school"]).status_code == 403
        done = client.post(f"{URL}/reviews", json=review, headers=users["office"]).json()
        six = next(s for s in done["schools"] if s["school"] == "六小")
        assert six["entry"]["status"] == "refused" and six["entry"]["review_reason"] == "生均占有值未达标"
        assert client.get(URL, headers=users["outsider"]).status_code == 404
        assert client.get("/api/v1/campaigns/county/programme", headers=users["outsider"]).status_code == 404
    score = {"round": "presentation", "school": "三小", "points": {"A": 40, "B": 40}}
    with at(PAIRING_DAY):
        assert client.post(f"{URL}/scores", json=score, headers=users["member"]).status_code == 409
    with at(MENTOR_DAY):
        own = client.post(f"{URL}/scores", json={"round": "mentor", "school": "一中", "points": {"A": 1, "B": 1}},
                          headers=users["jia"])
        assert own.status_code == 403 and "本校" in own.json()["detail"]
    with at(ACCEPTANCE_DAY):
        task = {"school": "三小", "title": "共建读书角", "due_on": "2027-08-20"}
        assert client.post(f"{URL}/pairing-tasks", json=task, headers=users["three"]).status_code == 403
        assert client.post(f"{URL}/pairing-tasks", json=task, headers=users["office"]).status_code == 200
        report = client.post(f"{URL}/pairing-reports", json={"text": "读书角已建成"}, headers=users["three"])
        assert report.status_code == 200
        assert client.post(f"{URL}/pairing-reports", json={"text": "无组"}, headers=users["school"]).status_code == 404
        assert client.post(f"{URL}/scores", json=score, headers=users["school"]).status_code == 403
        mine = client.post(f"{URL}/scores", json=score, headers=users["member"]).json()["my_scores"]
        assert {(s["round"], s["school"]) for s in mine} >= {("presentation", "三小")}
        publicity = {"subject": "results", "starts_on": RESULTS_PUBLIC[0].isoformat(),
                     "ends_on": RESULTS_PUBLIC[1].isoformat()}
        assert client.post(f"{URL}/publicity", json=publicity, headers=users["office"]).status_code == 200
        assert client.get(URL, headers=users["three"]).json()["schools"][0]["totals"] == {}
    with at(RESULTS_PUBLIC[0]):
        totals = client.get(URL, headers=users["three"]).json()["schools"][0]["totals"]
        assert set(totals) == {"presentation"}
    with at(AWARD_DAY):
        assert client.post(f"{URL}/awards", json={"action": "compute"}, headers=users["three"]).status_code == 403
        assert client.post(f"{URL}/awards", json={"action": "compute"}, headers=users["office"]).status_code == 200
        against = client.post(f"{URL}/awards", json={"action": "confirm", "school": "一中", "category": "贡献校"},
                              headers=users["office"])
        assert against.status_code == 409 and "只可评为 标兵校" in against.json()["detail"]
        assert client.get(f"{URL}/certificates", headers=users["office"]).status_code == 409
        ok = client.post(f"{URL}/awards", json={"action": "confirm", "school": "一中"}, headers=users["office"])
        assert ok.status_code == 200
        sheet = client.get(f"{URL}/certificates", headers=users["office"])
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
        assert client.get(f"{URL}/notice", headers=users["school"]).status_code == 403
        assert client.get(f"{URL}/notice", headers=users["office"]).status_code == 200
        revoke = {"action": "revoke", "school": "一中", "reason": "复核验收材料"}
        assert client.post(f"{URL}/awards", json=revoke, headers=users["three"]).status_code == 403
        assert client.post(f"{URL}/awards", json={**revoke, "reason": ""}, headers=users["office"]).status_code == 422
        assert client.post(f"{URL}/awards", json=revoke, headers=users["office"]).status_code == 200
        assert client.get(f"{URL}/certificates", headers=users["office"]).status_code == 409  # none confirmed now
