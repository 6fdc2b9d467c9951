"""Phase gates, the current phase, and the gate's status."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from tests.factories_db import build_world
from tracker.campaigns.gates import check_gate, gate_status
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.org.models import PhaseStatus
from tracker.org.service import current_phase
from tracker.reviews.models import Review
from tracker.tasks import lifecycle


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def world(session):
    return build_world(session)


def phase_events(session):
    return [(e.type, e.payload["phase"]) for e in
            session.exec(select(Event).where(Event.type.startswith("phase.")).order_by(Event.id))]


def close(session, world, task, how="verify"):
    office = world.people["王主任"]
    if how == "verify":
        lifecycle.accept(session, task, office)
        lifecycle.submit(session, task, office)
        lifecycle.verify(session, task, office)
    else:
        lifecycle.withdraw(session, task, office, "不再需要")


def test_gate_waits_for_open_tasks_then_passes_and_activates_next(session, world):
    phase = world.phases["self_check"]
    first, second = world.task(session, "a"), world.task(session, "b")
    world.task(session, "c", phase="rectification")  # another phase's open task does not count
    close(session, world, first)
    result = check_gate(session, phase)
    assert not result.passed and result.reasons == ["阶段「自查自评」还有 1 项任务未销号"]
    assert phase.status == PhaseStatus.active and phase_events(session) == []

    close(session, world, second, how="withdraw")
    result = check_gate(session, phase, actor="王主任")
    assert result.passed and result.newly_passed
    assert phase.status == PhaseStatus.passed and phase.passed_at is not None
    assert result.activated is world.phases["rectification"]
    assert world.phases["rectification"].status == PhaseStatus.active
    assert phase_events(session) == [("phase.gate_passed", "self_check"), ("phase.activated", "rectification")]
    passed = session.exec(select(Event).where(Event.type == "phase.gate_passed")).one()
    assert passed.actor == "王主任" and passed.campaign_id == world.campaign.id

    again = check_gate(session, phase)  # a second check (a second dispatcher) writes nothing
    assert again.passed and not again.newly_passed and again.activated is None
    assert len(phase_events(session)) == 2


def test_empty_work_phase_does_not_pass(session, world):
    result = check_gate(session, world.phases["self_check"])
    assert not result.passed and result.reasons == ["阶段「自查自评」还没有任务"]


def test_review_phase_needs_a_verdict(session, world):
    phase = world.phases["review_city"]
    finding_task = world.task(session, "f1", phase="review_city")
    result = check_gate(session, phase)
    assert not result.passed
    assert result.reasons == ["阶段「市级复评」尚未录入评估结论", "阶段「市级复评」还有 1 项任务未销号"]
    review = Review(campaign_id=world.campaign.id, phase_id=phase.id, level="市级")
    session.add(review)
    session.flush()
    assert not check_gate(session, phase).passed  # opened, no verdict yet
    review.verdict, review.verdict_at, review.recorded_by = "通过", utcnow(), "王主任"
    session.add(review)
    session.flush()
    assert check_gate(session, phase).reasons == ["阶段「市级复评」还有 1 项任务未销号"]
    close(session, world, finding_task)
    result = check_gate(session, phase)
    assert result.passed and result.activated is None  # the last phase: nothing follows
    passed = session.exec(select(Event).where(Event.type == "phase.gate_passed")).one()
    assert passed.payload["verdict"] == "通过" and passed.payload["review_id"] == review.id


def test_review_phase_with_verdict_and_no_findings_passes(session, world):
    phase = world.phases["review_city"]
    session.add(Review(campaign_id=world.campaign.id, phase_id=phase.id, level="市级", verdict="通过",
                       verdict_at=utcnow()))
    session.flush()
    assert check_gate(session, phase).passed


def test_next_phase_already_active_is_not_activated_again(session, world):
    world.phases["rectification"].status = PhaseStatus.active.value
    close(session, world, world.task(session, "a"))
    result = check_gate(session, world.phases["self_check"])
    assert result.passed and result.activated is None
    assert phase_events(session) == [("phase.gate_passed", "self_check")]


def test_current_phase(session, world):
    phases = world.phases
    assert current_phase(session, world.campaign, dt.date(2026, 12, 10)) is phases["self_check"]
    # no phase marked active: by dates; a phase past its gate but not passed is still current
    phases["self_check"].status = PhaseStatus.pending.value
    assert current_phase(session, world.campaign, dt.date(2026, 11, 1)) is phases["self_check"]  # next to come
    assert current_phase(session, world.campaign, dt.date(2027, 2, 1)) is phases["self_check"]
    phases["self_check"].status = PhaseStatus.passed.value
    assert current_phase(session, world.campaign, dt.date(2026, 12, 20)) is phases["rectification"]
    assert current_phase(session, world.campaign, dt.date(2027, 2, 1)) is phases["rectification"]
    phases["rectification"].status = PhaseStatus.passed.value
    assert current_phase(session, world.campaign, dt.date(2027, 8, 1)) is phases["review_city"]
    phases["review_city"].status = PhaseStatus.passed.value
    assert current_phase(session, world.campaign, dt.date(2027, 8, 1)) is None


def test_gate_status(session, world):
    phase = world.phases["self_check"]  # gate 2026-12-23, a Wednesday
    world.task(session, "a")
    close(session, world, world.task(session, "b"))
    status = gate_status(session, phase, dt.date(2026, 12, 18))
    assert (status.total_tasks, status.open_tasks, status.days_left, status.verdict_needed) == (2, 1, 3, False)
    assert gate_status(session, phase, dt.date(2026, 12, 24)).days_left == -1
    unknown = gate_status(session, world.phases["review_city"], dt.date(2026, 12, 18))
    assert unknown.days_left is None and unknown.verdict_needed
