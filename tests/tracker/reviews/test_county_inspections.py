"""The county's own 县级督查 (issue 12 §5): rounds opened in the current phase, findings that become
tasks of the phase current when they are entered, no verdict gate; and a city check held inside
a phase of another kind (seed 001's 市督导室复核 inside 自评申报)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session, func, select

from tests.factories_db import build_world, with_evidence
from tracker.campaigns.gates import check_gate, gate_status
from tracker.campaigns.overview import campaign_overview
from tracker.events.models import Event
from tracker.org.models import Phase, PhaseStatus
from tracker.reviews import service as reviews
from tracker.reviews.models import Review, ReviewFinding
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskCooperator

TODAY = dt.date(2026, 12, 7)  # the world's 自查自评 phase is active


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def world(session):
    return build_world(session)


def count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def finding(seq: int, text: str, *units: str, due: str = "2026-12-20", indicator: str | None = None):
    return reviews.finding_from_fields(text=text, units=list(units), due=due, indicator=indicator, seq=seq)


def close(session, world, task):
    office = world.people["王主任"]
    lifecycle.accept(session, task, office)
    with_evidence(session, task)  # a finding's rectification needs evidence to be submitted (issue 12 §4)
    lifecycle.submit(session, task, office)
    lifecycle.verify(session, task, office)


def open_round(session, world, **kwargs) -> Review:
    phase = reviews.phase_for_level(session, world.campaign, "县级督查", TODAY)
    return reviews.open_review(session, world.campaign, phase, "县级督查", dt.date(2026, 12, 10), actor="王主任",
                               **kwargs)


def test_rounds_open_in_the_current_phase_numbered_in_order(session, world):
    first = open_round(session, world, team="督查小组：刘局长（组长）、陈督学", scope="城关镇各校")
    assert first.phase_id == world.phases["self_check"].id  # no phase of its own: the current one
    assert (first.level, first.round_name, first.team, first.scope) == ("县级督查", "第一轮", "督查小组：刘局长（组长）、陈督学",
                                                                         "城关镇各校")
    second = open_round(session, world)
    assert second.round_name == "第二轮" and reviews.review_label(second) == "县级督查第二轮"
    named = open_round(session, world, round_name="专项督查（校舍）")
    assert named.round_name == "专项督查（校舍）"
    assert open_round(session, world).round_name == "第四轮"
    opened = session.exec(select(Event).where(Event.type == "review.opened").order_by(Event.id)).first()
    assert opened.payload == {"review_id": first.id, "phase_id": world.phases["self_check"].id, "phase": "self_check",
                              "level": "县级督查", "held_on": "2026-12-10", "round": "第一轮",
                              "team": "督查小组：刘局长（组长）、陈督学", "scope": "城关镇各校"}
    # the aliases people type
    assert reviews.normalize_level("县级") == reviews.normalize_level("督查") == "县级督查"


@pytest.mark.parametrize("kwargs, field, words", [
    ({"round_name": "第一轮"}, "round_name", "已登记"),
    ({"team": "组" * 501}, "team", "过长"),
    ({"scope": "范围" * 251}, "scope", "过长"),
    ({"round_name": "第\x07轮"}, "round_name", "控制字符"),
])
def test_a_bad_round_is_refused_and_nothing_stored(session, world, kwargs, field, words):
    open_round(session, world)
    reviews_before, events_before = count(session, Review), count(session, Event)
    with pytest.raises(reviews.ReviewError) as caught:
        open_round(session, world, **kwargs)
    assert caught.value.field == field and words in caught.value.message
    assert count(session, Review) == reviews_before and count(session, Event) == events_before


def test_a_round_cannot_open_in_a_passed_phase_nor_after_every_phase(session, world):
    phase = world.phases["self_check"]
    phase.status = PhaseStatus.passed.value
    with pytest.raises(reviews.ReviewError, match="已通过关口") as caught:
        reviews.open_review(session, world.campaign, phase, "县级督查", None)
    assert caught.value.field == "phase"
    for p in world.phases.values():
        p.status = PhaseStatus.passed.value
    session.flush()
    with pytest.raises(reviews.ReviewError, match="所有阶段均已通过关口"):
        reviews.phase_for_level(session, world.campaign, "县级督查", TODAY)
    assert count(session, Review) == 0


def test_findings_become_tasks_of_the_phase_current_when_entered(session, world):
    review = open_round(session, world)
    tasks = reviews.add_findings(session, review, [
        finding(1, "城关一小功能室台账不全", "城关一小"),
        finding(2, "教师交流轮岗比例未达 10%", "财政局", "住建局", indicator="18", due="2027-01-29"),
    ], world.people["王主任"])
    assert [t.phase_id for t in tasks] == [world.phases["self_check"].id] * 2
    assert [t.origin for t in tasks] == ["finding", "finding"]
    assert tasks[0].title == "【县级督查第一轮问题1】城关一小功能室台账不全"
    assert tasks[0].responsible_school_id == world.schools["城关一小"].id and tasks[0].due_on == dt.date(2026, 12, 20)
    assert tasks[1].department_id == world.departments["财政局"].id and tasks[1].indicator == "18"
    coop = session.exec(select(TaskCooperator.department_id).where(TaskCooperator.task_id == tasks[1].id)).all()
    assert coop == [world.departments["住建局"].id]
    assert session.exec(select(func.count()).select_from(Event).where(Event.type == "task.created")).one() == 2

    # the phase moves on; the same round's next finding goes into the phase current now
    world.phases["self_check"].status = PhaseStatus.passed.value
    world.phases["rectification"].status = PhaseStatus.active.value
    session.flush()
    later = reviews.add_findings(session, review, [finding(reviews.next_seq(session, review), "住建局校舍改造滞后",
                                                           "住建局", due="2027-03-31")], "王主任")
    assert later[0].phase_id == world.phases["rectification"].id and later[0].title.startswith("【县级督查第一轮问题3】")
    assert review.phase_id == world.phases["self_check"].id  # the round itself stays where it was opened
    # entered again: nothing twice, and the task keeps its phase
    again = reviews.add_findings(session, review, [finding(1, "城关一小功能室台账不全", "城关一小")], "王主任")
    assert again[0].id == tasks[0].id and count(session, ReviewFinding) == 3


def test_one_finding_typed_with_bad_fields_names_each_field(session, world):
    with pytest.raises(reviews.FindingsError) as caught:
        reviews.finding_from_fields(text=" ", units=[], due="2027-02-30", seq=1, where="findings[0]")
    assert caught.value.problems == ["findings[0]「问题」：不能为空", "findings[0]「责任单位」：不能为空",
                                     "findings[0]「整改时限」：「2027-02-30」不是日期，应写作 2027-06-30"]
    review = open_round(session, world)
    with pytest.raises(reviews.FindingsError) as caught:
        reviews.add_findings(session, review, [finding(1, "问题一", "财政局"), finding(2, "问题二", "教育局")], "王主任")
    assert caught.value.problems == ["序号 2「责任单位」：未知单位「教育局」（须是方案中的责任单位或本县学校的名称）"]
    assert count(session, ReviewFinding) == 0 and count(session, Task) == 0


def test_a_county_inspection_never_holds_a_gate_by_itself(session, world):
    phase = world.phases["self_check"]
    close(session, world, world.task(session, "plan-1"))
    review = open_round(session, world)
    reviews.record_verdict(session, review, "不通过", world.people["王主任"], note="问题较多")  # kept on record
    assert review.verdict == "不通过"
    assert not gate_status(session, phase, TODAY).verdict_needed
    (task,) = reviews.add_findings(session, review, [finding(1, "台账不全", "财政局")], "王主任")
    result = check_gate(session, phase)
    assert not result.passed and result.reasons == ["阶段「自查自评」还有 1 项任务未销号"]  # its task, as any task
    close(session, world, task)
    result = check_gate(session, phase)
    assert result.passed and result.newly_passed
    passed = session.exec(select(Event).where(Event.type == "phase.gate_passed")).one()
    assert "verdict" not in passed.payload  # the 督查's verdict is not the gate's


def test_the_county_verdict_does_not_stand_for_the_city_verdict(session, world):
    """A 县级督查 opened in the 市级复评 phase: its 通过 is not the city's."""
    phase = world.phases["review_city"]
    phase.status = PhaseStatus.active.value
    world.phases["self_check"].status = PhaseStatus.passed.value
    session.flush()
    review = reviews.open_review(session, world.campaign, phase, "县级督查", None)
    reviews.record_verdict(session, review, "通过", "王主任")
    result = check_gate(session, phase)
    assert not result.passed and "阶段「市级复评」尚未录入评估结论" in result.reasons
    assert reviews.decided_phase_ids(session, world.campaign.id) == set()


def test_a_city_check_inside_another_phase_holds_that_phase_for_its_verdict(session, world):
    """Seed 001: 市督导室复核 inside the 自评申报 phase; this plan has no 市级复评 phase."""
    session.delete(world.phases.pop("review_city"))
    session.flush()
    phase = reviews.phase_for_level(session, world.campaign, "市级", TODAY)
    assert phase.id == world.phases["self_check"].id  # none of its kind: the current phase
    assert reviews.find_phase(session, world.campaign, "自查自评") is phase  # by name …
    assert reviews.find_phase(session, world.campaign, "self_check") is phase  # … or by code
    with pytest.raises(reviews.ReviewError, match="没有编号或名称为「市级复评」的阶段") as caught:
        reviews.find_phase(session, world.campaign, "市级复评")
    assert caught.value.field == "phase"
    review = reviews.open_review(session, world.campaign, phase, "市督导室复核", dt.date(2026, 12, 15))
    assert review.level == "市级"
    close(session, world, world.task(session, "plan-1"))
    assert gate_status(session, phase, TODAY).verdict_needed
    lines = {line.phase.code: line for line in campaign_overview(session, world.campaign, TODAY).phases}
    assert lines["self_check"].verdict_needed
    result = check_gate(session, phase)
    assert not result.passed and result.reasons == ["阶段「自查自评」尚未录入评估结论"]
    reviews.record_verdict(session, review, "不通过", "王主任")
    assert not check_gate(session, phase).passed
    later = reviews.open_review(session, world.campaign, phase, "市级", None)
    reviews.record_verdict(session, later, "通过", "王主任")
    result = check_gate(session, phase)
    assert result.passed and result.activated is world.phases["rectification"]


def test_a_verdict_twice_is_a_conflict(session, world):
    review = open_round(session, world)
    reviews.record_verdict(session, review, "通过", "王主任")
    with pytest.raises(reviews.ReviewConflict, match="不能重复录入"):
        reviews.record_verdict(session, review, "不通过", "王主任")
    with pytest.raises(reviews.ReviewError, match="评估结论「合格」无效") as caught:
        reviews.record_verdict(session, open_round(session, world), "合格", "王主任")
    assert caught.value.field == "verdict"


def test_review_lines_count_findings_and_open_tasks(session, world):
    city = reviews.open_review(session, world.campaign, world.phases["review_city"], "市级", None)
    county = open_round(session, world, team="督查组")
    tasks = reviews.add_findings(session, county, [finding(1, "一", "财政局"), finding(2, "二", "住建局")], "王主任")
    close(session, world, tasks[0])
    lines = reviews.review_lines(session, world.campaign)
    assert [(x.review.id, x.label, x.phase_code, x.findings, x.tasks, x.open_tasks) for x in lines] == [
        (city.id, "市级", "review_city", 0, 0, 0), (county.id, "县级督查第一轮", "self_check", 2, 2, 1)]
    assert [x.review.id for x in reviews.review_lines(session, world.campaign, "县级督查")] == [county.id]
    found = reviews.finding_reviews(session, [f.id for f in reviews.findings_of(session, county)])
    assert {r.id for r in found.values()} == {county.id}
    assert session.get(Phase, county.phase_id).code == "self_check"
