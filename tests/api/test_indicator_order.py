"""One indicator order per standard (issue 10): the 任务分解表, the indicator board and its page, the
调度通报 and a school's page list indicators in the order of the standard's file, whatever order
the stored assessment hands its keys back in (PostgreSQL's jsonb sorts them by length)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from tests.api.conftest import PASSWORD
from tests.api.test_pages import log_in
from tracker.accounts.service import create_user
from tracker.assessment import county_inputs
from tracker.assessment.models import ShortfallRecord
from tracker.briefings.compute import compute_briefing
from tracker.campaigns import breakdown, selfcheck
from tracker.campaigns.board import indicator_board, latest_snapshot
from tracker.campaigns.service import apply_plan
from tracker.clock import zone
from tracker.db import session_scope
from tracker.org.models import Campaign
from tracker.plans import load_plan
from tracker.standards import indicator_sort_key, load_standard

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHECKED_AT = dt.datetime(2026, 12, 2, 9, 0, tzinfo=zone("Asia/Shanghai"))  # Wednesday of 2026-W49
STANDARD = load_standard("national-2017")
ORDER = STANDARD.indicator_order()


def _reversed(mapping: dict) -> dict:
    return dict(reversed(list(mapping.items())))


@pytest.fixture
def campaign_id(engine) -> int:
    with time_machine.travel(CHECKED_AT, tick=False):
        with session_scope(engine) as session:
            campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
            selfcheck.run_self_check(session, campaign, EXAMPLES / "schools.xlsx", "韩静")
            for code, value in (("23", "96.2"), ("24", "90"), ("8", "不通过"), ("V2", "未发生")):
                county_inputs.set_county_input(session, campaign, code, value, "韩静")
            selfcheck.reassess(session, campaign)
            create_user(session, campaign, {"username": "office", "password": PASSWORD, "role": "office",
                                            "person": "韩静"})
            campaign_id = campaign.id
    # the stored result as a store may hand it back: every mapping and list in the other order
    with session_scope(engine) as session:
        snapshot = latest_snapshot(session, session.get(Campaign, campaign_id))
        result = copy.deepcopy(snapshot.result)
        for block in result["stages"].values():
            block["indicators"] = _reversed(block["indicators"])
            for school in block["schools"]:
                school["values"] = _reversed(school["values"])
        result["county"] = result["county"][::-1]
        result["shortfalls"] = result["shortfalls"][::-1]
        result["checks"] = result["checks"][::-1]
        snapshot.result = result
    return campaign_id


def _in_standard_order(codes: list[str]) -> list[str]:
    """The codes with repeats removed, checked to follow the standard's order."""
    distinct = list(dict.fromkeys(codes))
    assert distinct, "nothing listed"
    assert distinct == sorted(distinct, key=ORDER.index), distinct
    return distinct


def test_the_standard_orders_its_own_codes_then_others_then_none():
    codes = ["V1", "10", "E2", None, "2", "X9", "E1", "zz", "32"]
    assert sorted(codes, key=STANDARD.indicator_sort_key) == ["2", "10", "32", "E1", "E2", "V1", "X9", "zz", None]
    # without the standard (its file gone): by number, then by text
    assert sorted(["10", "9", "V1", "E1"], key=lambda c: indicator_sort_key(None, c)) == ["E1", "V1", "9", "10"]


def test_breakdown_board_briefing_and_pages_list_indicators_in_one_order(engine, client, campaign_id):
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        table = breakdown.breakdown_table(session, campaign)
        board = indicator_board(session, campaign, latest_snapshot(session, campaign))
        with time_machine.travel(CHECKED_AT + dt.timedelta(days=6), tick=False):
            briefing = compute_briefing(session, campaign, "2026-W49")
        # a primary school with shortfalls of several indicators, for its own page
        school_id, _ = max(
            ((r.school_id, r.indicator) for r in session.exec(select(ShortfallRecord).where(
                ShortfallRecord.assessment_id == board.snapshot.id, ShortfallRecord.school_id.is_not(None),
                ShortfallRecord.stage == "primary"))),
            key=lambda pair: 0)

    # every indicator, condition and veto of the 任务分解表 (then rows of tasks without one: no code)
    listed = _in_standard_order([row.code for row in table.rows if row.indicator.startswith(f"{row.code}. ")])
    assert listed == STANDARD.indicator_order()
    for stage in board.stages:
        assert _in_standard_order([line.code for line in stage.indicators]) == [str(n) for n in range(1, 8)]
        if stage.shortfalls:
            _in_standard_order([s.indicator for s in stage.shortfalls])
    county = _in_standard_order([line.code for line in board.county])
    assert "8" in county and "V2" in county
    briefing_codes = _in_standard_order([row.code for row in briefing.indicators])
    assert briefing_codes == [str(n) for n in range(1, 8)]

    log_in(client, "office")
    page = client.get("/indicators").text
    chart = json.loads(re.search(r'<script type="application/json" id="indicator-data">(.*?)</script>',
                                 page, re.S).group(1))
    assert set(chart) == {"primary", "junior"}
    for stage in chart.values():
        assert stage["labels"] == [str(n) for n in range(1, 8)]
    county_rows = re.findall(r"<td>((?:\d+|[EV]\d+))</td>", page)
    assert _in_standard_order(county_rows) == county

    school_page = client.get(f"/schools/{school_id}")
    assert school_page.status_code == 200
    assert re.findall(r"<td>(\d+)\. ", school_page.text) == [str(n) for n in range(1, 8)]
    _in_standard_order(re.findall(r'<div class="msg error">指标 (\w+)', school_page.text))
