"""补短板测算 over a campaign (issue 14 §1): the API answer, the indicators page's section and its
page, on the example county's self-check (its junior CV of indicator 6 is over the limit)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from tests.api.conftest import PASSWORD, bearer
from tests.api.test_pages import log_in
from tracker.accounts.service import create_user
from tracker.campaigns import selfcheck
from tracker.campaigns.service import apply_plan
from tracker.clock import zone
from tracker.db import session_scope
from tracker.gaps.campaign import NoAssessmentYet, campaign_gap_plan
from tracker.gaps.costs import read_costs
from tracker.org.models import Campaign
from tracker.plans import load_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHECKED_AT = dt.datetime(2026, 12, 2, 9, 0, tzinfo=zone("Asia/Shanghai"))


@pytest.fixture
def campaign_world(engine):
    with time_machine.travel(CHECKED_AT, tick=False):
        with session_scope(engine) as session:
            campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
            selfcheck.run_self_check(session, campaign, EXAMPLES / "schools.xlsx", "韩静")
            user = create_user(session, campaign, {"username": "office", "password": PASSWORD, "role": "office",
                                                   "person": "韩静"})
            return campaign.id, campaign.code, user


def test_the_api_plans_the_latest_assessment(engine, client, campaign_world):
    _, code, user = campaign_world
    r = client.get(f"/api/v1/campaigns/{code}/gap-plan", headers=bearer(engine, user))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["feasible"] is True and data["after"]["ok"] is True
    assert data["naive"]["ok"] is False and data["costs_illustrative"] is True
    # per responsible unit: the plan's 牵头单位 of each indicator, not only the standard's departments
    assert data["totals"]["by_unit"] and sum(u["cost"] for u in data["totals"]["by_unit"]) == pytest.approx(
        data["total_cost"], abs=1e-3)
    r = client.get(f"/api/v1/campaigns/{code}/gap-plan", params={"margin": 0.9}, headers=bearer(engine, user))
    assert r.status_code == 422


def test_the_indicators_page_leads_to_the_plan(client, campaign_world):
    log_in(client, "office")
    assert "/indicators/gap-plan" in client.get("/indicators").text
    page = client.get("/indicators/gap-plan")
    assert page.status_code == 200
    assert "测算方案费用" in page.text and "朴素方案" in page.text and "示意单价" in page.text


def test_a_campaign_without_an_assessment_says_so(engine):
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        with pytest.raises(NoAssessmentYet, match="还没有评估结果"):
            campaign_gap_plan(session, session.get(Campaign, campaign.id), read_costs())


def test_a_stored_plan_gives_each_shortfall_task_its_amount(engine, client, campaign_world):
    from sqlmodel import Session, select

    from tracker.assessment.models import ShortfallRecord
    from tracker.gaps.queries import latest_gap_plan, planned_for_shortfall
    from tracker.tasks.models import Task

    campaign_id, code, user = campaign_world
    data = client.get(f"/api/v1/campaigns/{code}/gap-plan", headers=bearer(engine, user)).json()
    with Session(engine) as session:
        shortfalls = list(session.exec(select(ShortfallRecord).where(ShortfallRecord.campaign_id == campaign_id)))
        assert latest_gap_plan(session, shortfalls[0].assessment_id).total_cost == pytest.approx(data["total_cost"])
        texts = {(s.kind, s.indicator, s.stage): planned_for_shortfall(session, s) for s in shortfalls
                 if s.kind in ("school_value", "cv")}
        # the junior CV of indicator 6 names the additions that bring it under, with the CV after
        cv = texts[("cv", "6", "junior")]
        assert cv.startswith("补充后差异系数 0.4300") and "万元" in cv
        blocking = next(s for s in shortfalls if s.kind == "school_value" and s.blocking)
        text = planned_for_shortfall(session, blocking)
        assert text.startswith("测算补充 ")
        task = session.exec(select(Task).where(Task.shortfall_id == blocking.id)).first()
    assert task is not None
    log_in(client, "office")
    assert "测算补充量" in client.get(f"/tasks/{task.id}").text


def test_the_breakdown_carries_the_planned_amounts(engine, client, campaign_world):
    from sqlmodel import Session

    from tracker.campaigns import breakdown

    campaign_id, code, user = campaign_world
    with Session(engine) as session:
        before = breakdown.breakdown_table(session, session.get(Campaign, campaign_id))
    assert not any("补短板测算" in r.measures for s in before.sections for r in s.rows)
    client.get(f"/api/v1/campaigns/{code}/gap-plan", headers=bearer(engine, user))
    with Session(engine) as session:
        table = breakdown.breakdown_table(session, session.get(Campaign, campaign_id))
    rows = {r.code: r for s in table.sections for r in s.rows}
    assert "补短板测算" in rows["6"].measures and "初中差异系数 0.5760 → 0.4300" in rows["6"].measures
    assert "补短板测算" not in rows["1"].measures  # nothing planned for it
