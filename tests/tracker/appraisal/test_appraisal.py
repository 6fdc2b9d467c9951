"""考核 figures against a hand count (tests/tracker/appraisal/scenario.py), on SQLite and
PostgreSQL; the rule, the ranking, the period, the statement count and the 通报."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import event
from sqlmodel import select

from tests.tracker.appraisal.scenario import END, EXPECTED, NOW, START, build_appraisal_world, figures
from tracker.appraisal.service import AppraisalError, appraise, issue_notice, parse_day, unit_rows
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign
from tracker.plans import AppraisalRule


@pytest.fixture
def world(engine):
    return build_appraisal_world(engine)


def _appraise(engine, start=START, end=END, **kwargs):
    with time_machine.travel(NOW, tick=False), session_scope(engine) as session:
        campaign = session.exec(select(Campaign)).one()
        return appraise(session, campaign, start, end, **kwargs)


def test_each_figure_matches_the_hand_count(engine, world):
    result = _appraise(engine)
    got = {u.name: figures(u) for u in result.units}
    assert got == EXPECTED
    # departments first by rank, the unit without tasks last; schools after
    assert [u.name for u in result.units] == ["住建局", "财政局", "城关镇", "城关一小"]
    assert [u.name for u in result.schools()] == ["城关一小"]


def test_a_period_counts_only_its_due_dates_events_and_escalations(engine, world):
    # 12-05 … 12-09: the due dates 12-07 (F) and 12-08 (H) fall in it
    result = _appraise(engine, dt.date(2026, 12, 5), dt.date(2026, 12, 9))
    by_name = {u.name: u for u in result.units}
    assert (by_name["住建局"].due, by_name["住建局"].on_time) == (1, 1)
    assert (by_name["城关一小"].due, by_name["城关一小"].overdue) == (1, 1)
    finance = by_name["财政局"]
    assert (finance.due, finance.returned, finance.extensions_requested, finance.extensions_granted,
            finance.escalations) == (0, 0, 1, 0, 0)  # 申请延期 on 12-09; 同意延期 and 退回 on 12-10
    # the default period is the campaign so far: H's 督办单 of 11-30 counts then, and E is not due yet
    whole = {u.name: u for u in _appraise(engine, None, None).units}
    assert whole["城关一小"].escalations == 1 and whole["财政局"].due == 4
    assert _appraise(engine, None, None).start == dt.date(2026, 11, 30)


def test_the_plan_rule_scores_and_may_rank_by_score(engine, world):
    rule = AppraisalRule.model_validate({"满分": 100, "按时完成": 5, "逾期完成每项扣": 0, "逾期每项扣": 1,
                                         "退回每次扣": 0, "督办单每份扣": 0, "排名依据": "得分"})
    by_name = {u.name: u for u in _appraise(engine, rule=rule).units}
    # 财政局: 100 + 2 × 5 − 1 = 109, kept at 满分; 住建局: 100 + 5 → 100: equal score, then on-time rate
    assert by_name["财政局"].score == 100 and by_name["住建局"].score == 100
    assert (by_name["住建局"].rank, by_name["财政局"].rank) == (1, 2)
    harsh = AppraisalRule.model_validate({"逾期每项扣": 60, "督办单每份扣": 60, "排名依据": "得分"})
    assert {u.name: u.score for u in _appraise(engine, rule=harsh).units}["财政局"] == 0  # never below 0


def test_the_table_is_a_handful_of_queries_whatever_the_number_of_tasks(engine, world):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        _appraise(engine)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 6, selects  # campaign, departments, tasks, events, 督办单, schools


def test_a_period_ending_before_it_starts_is_refused(engine, world):
    with pytest.raises(AppraisalError, match="晚于结束日期"):
        _appraise(engine, dt.date(2026, 12, 9), dt.date(2026, 12, 1))
    with pytest.raises(AppraisalError, match="--from「2026-13-01」不是有效日期"):
        parse_day("2026-13-01", "--from")
    assert parse_day("2026年12月1日", "--from") == dt.date(2026, 12, 1)


def test_a_unit_sees_its_own_row_only(engine, world):
    result = _appraise(engine)
    dept = next(u for u in result.units if u.name == "财政局")
    assert [r.name for r in unit_rows(result.units, department_id=dept.unit_id)] == ["财政局"]
    assert unit_rows(result.units) == []


def test_a_notice_is_recorded_with_its_units_and_reason(engine, world):
    with time_machine.travel(NOW, tick=False), session_scope(engine) as session:
        campaign = session.exec(select(Campaign)).one()
        notice = issue_notice(session, campaign, "批评", ["财政", "4101001"], "多项任务逾期未办结。", actor="王主任")
    assert notice.units == ["财政局", "城关一小"] and notice.issued_on == dt.date(2026, 12, 21)
    assert [f.name for f in notice.figures] == ["财政局", "城关一小"]
    with session_scope(engine) as session:
        recorded = session.exec(select(Event).where(Event.type == "appraisal.notice_issued")).one()
        assert recorded.payload["kind"] == "批评" and recorded.payload["reason"] == "多项任务逾期未办结。"
        assert [u["name"] for u in recorded.payload["units"]] == ["财政局", "城关一小"]


@pytest.mark.parametrize(("kind", "units", "reason", "message"), [
    ("奖励", ["财政局"], "好", "只能是 表扬 或 批评"),
    ("表扬", ["不存在的局"], "好", "没有单位或学校「不存在的局」"),
    ("表扬", [], "好", "至少指定一个"),
    ("表扬", ["财政局"], "  ", "请写明通报事由"),
    ("表扬", ["财政局"], "很" * 501, "不超过 500 字"),
])
def test_a_wrong_notice_stores_nothing(engine, world, kind, units, reason, message):
    with session_scope(engine) as session:
        campaign = session.exec(select(Campaign)).one()
        with pytest.raises(AppraisalError, match=message):
            issue_notice(session, campaign, kind, units, reason, actor="王主任")
    with session_scope(engine) as session:
        assert session.exec(select(Event).where(Event.type == "appraisal.notice_issued")).first() is None
