"""The rooms' named reads that the pages, API, CLI and flows call instead of building queries
(issue 10): they answer what the callers asked before, and the lists that asked once per row ask
once for all, so their statements do not grow with the rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlmodel import Session

from tests.factories_db import build_world
from tracker.accounts.access import submission_clause
from tracker.accounts.models import User, UserRole
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.assessment.queries import latest_by_submission
from tracker.briefings.queries import campaigns_owing_briefing_due
from tracker.calendar import CHINA
from tracker.events.service import record_event
from tracker.notices.models import MessageState, OutboundMessage
from tracker.notices.queries import message_counts, waiting_messages
from tracker.org.models import Department
from tracker.org.queries import active_counts, department_names
from tracker.reviews.models import Review, ReviewFinding
from tracker.reviews.queries import finding_counts
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.schooldata.queries import submissions
from tracker.tasks.queries import light_rows

MONDAY = dt.datetime(2026, 12, 14, 0, 0, tzinfo=CHINA)


@contextmanager
def counted(engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _submissions_with_assessments(session: Session, world, n: int) -> dict[int, tuple[int, int]]:
    """``n`` submissions, each assessed twice (the second finding one shortfall more); one more
    never assessed. Returns what ``latest_by_submission`` should say: {submission: (snapshot, shortfalls)}."""
    c = world.campaign
    expected = {}
    for i in range(n):
        sub = DataSubmission(campaign_id=c.id, label=f"第{i}批", source_filename="s.xlsx", submitted_by="王主任",
                             school_count=1)
        session.add(sub)
        session.flush()
        for found in (i, i + 1):
            snap = AssessmentSnapshot(campaign_id=c.id, submission_id=sub.id, standard_id=c.standard_id,
                                      ok=found == 0, result={})
            session.add(snap)
            session.flush()
            session.add_all(ShortfallRecord(campaign_id=c.id, assessment_id=snap.id, key=f"k{snap.id}-{k}",
                                            kind="cv", indicator="6", text="差异系数超标") for k in range(found))
        expected[sub.id] = (snap.id, i + 1)
    never = DataSubmission(campaign_id=c.id, label="未评估", source_filename="s.xlsx", submitted_by="王主任",
                           school_count=1)
    session.add(never)
    session.flush()
    return expected


def test_each_submissions_latest_assessment_and_its_shortfalls_in_two_statements(engine):
    with Session(engine) as session:
        world = build_world(session)
        expected = _submissions_with_assessments(session, world, 6)
        session.commit()
        ids = [*expected, max(expected) + 1]
        with counted(engine) as few:
            small = latest_by_submission(session, ids[:2])
        with counted(engine) as many:
            found = latest_by_submission(session, ids)
        assert {s: (snap.id, n) for s, (snap, n) in found.items()} == expected  # the unassessed one left out
        assert {s: (snap.id, n) for s, (snap, n) in small.items()} == {s: expected[s] for s in ids[:2]}
        assert len(few) == len(many) == 2
        assert latest_by_submission(session, []) == {}


def test_finding_counts_per_review_in_one_statement(engine):
    with Session(engine) as session:
        world = build_world(session)
        reviews = [Review(campaign_id=world.campaign.id, phase_id=world.phases["review_city"].id, level="市级")
                   for _ in range(3)]
        session.add_all(reviews)
        session.flush()
        for review, n in zip(reviews, (2, 0, 3)):
            session.add_all(ReviewFinding(campaign_id=world.campaign.id, review_id=review.id, seq=k + 1, text="问题",
                                          due_on=dt.date(2027, 3, 1))
                            for k in range(n))
        session.commit()
        ids = [r.id for r in reviews]
        with counted(engine) as statements:
            counts = finding_counts(session, ids)
        assert counts == {ids[0]: 2, ids[2]: 3} and len(statements) == 1


def test_active_units_and_people_per_campaign(engine):
    with Session(engine) as session:
        world = build_world(session)
        other = build_world(session, code="other")
        world.departments["住建局"].active = False
        world.people["张局长"].active = False
        session.add(Department(campaign_id=other.campaign.id, name="水利局", kind="county_department"))
        session.commit()
        assert active_counts(session) == {world.campaign.id: (3, 3), other.campaign.id: (5, 4)}
        assert department_names(session, world.campaign.id, short=True)[world.departments["财政局"].id] == "财政"


def test_the_campaigns_still_owed_this_weeks_briefing_due(engine):
    with Session(engine) as session:
        recorded = build_world(session, code="recorded")
        owed = build_world(session, code="owed")
        new = build_world(session, code="new")
        last_week = build_world(session, code="last-week")
        for world in (recorded, owed, last_week):
            world.campaign.created_at = MONDAY - dt.timedelta(days=30)
        new.campaign.created_at = MONDAY + dt.timedelta(hours=1)  # created this week: no week before
        record_event(session, type="briefing.due", actor="调度器", campaign_id=recorded.campaign.id,
                     at=MONDAY + dt.timedelta(hours=8, minutes=30))
        record_event(session, type="briefing.due", actor="调度器", campaign_id=last_week.campaign.id,
                     at=MONDAY - dt.timedelta(days=7) + dt.timedelta(hours=8, minutes=30))
        record_event(session, type="task.created", actor="调度器", campaign_id=owed.campaign.id,
                     at=MONDAY + dt.timedelta(hours=9))
        session.commit()
        owing = campaigns_owing_briefing_due(session, MONDAY)
        assert [c.code for c in owing] == ["owed", "last-week"]


def test_the_messages_waiting_and_the_first_to_go(engine):
    with Session(engine) as session:
        world = build_world(session)
        other = build_world(session, code="other")
        at = dt.datetime(2026, 12, 14, 1, 30, tzinfo=dt.UTC)
        for n, (campaign, state, minutes) in enumerate([
            (world.campaign, MessageState.queued, 30), (world.campaign, MessageState.failed, 10),
            (world.campaign, MessageState.sent, 0), (other.campaign, MessageState.queued, 0),
        ]):
            session.add(OutboundMessage(campaign_id=campaign.id, recipient_address=f"r{n}@example.cn",
                                        message_id_header=f"<{n}@junheng>", state=state.value,
                                        next_attempt_at=at + dt.timedelta(minutes=minutes)))
        session.commit()
        assert waiting_messages(session, world.campaign.id) == (2, at + dt.timedelta(minutes=10))
        assert message_counts(session, world.campaign.id) == {"queued": 1, "failed": 1, "sent": 1}
        assert waiting_messages(session, build_world(session, code="quiet").campaign.id) == (0, None)


def test_a_school_sees_what_it_sent_and_the_batches_holding_its_row(engine):
    with Session(engine) as session:
        world = build_world(session)
        c, school = world.campaign, world.schools["城关一小"]

        def batch(label: str, keys: list[str], school_id: int | None = None) -> int:
            sub = DataSubmission(campaign_id=c.id, label=label, source_filename="s.csv", submitted_by="王主任",
                                 school_count=len(keys), school_id=school_id)
            session.add(sub)
            session.flush()
            session.add_all(SchoolDataRow(submission_id=sub.id, school_key=k, row=i + 2, data={})
                            for i, k in enumerate(keys))
            return sub.id

        county = batch("全县", [school.key, "4101002"])
        others = batch("补报", ["4101002"])
        sent = batch("本校报送", [school.key], school_id=school.id)
        session.commit()

        def seen(role: UserRole, **unit) -> set[int]:
            user = User(username="u", name="u", role=role.value, campaign_id=c.id, password_hash="", **unit)
            return {s.id for s in submissions(session, c.id, submission_clause(user))}

        assert seen(UserRole.office) == seen(UserRole.reviewer) == {county, others, sent}
        assert seen(UserRole.school, school_id=school.id) == {county, sent}
        assert seen(UserRole.school) == set()  # a school log-in bound to no school sees nothing
        assert seen(UserRole.department, department_id=world.departments["财政局"].id) == set()


def test_a_units_lights_never_widen_to_every_task(engine):
    """A unit log-in bound to no unit matches the tasks with no such unit, as before: not all."""
    with Session(engine) as session:
        world = build_world(session)
        finance = world.departments["财政局"]
        mine = world.task(session, "a", unit="财政局")
        school_task = world.task(session, "b", unit="城关一小")
        session.commit()
        assert {r.department_id for r in light_rows(session, world.campaign.id, department_id=finance.id)} \
            == {finance.id}
        rows = light_rows(session, world.campaign.id, department_id=None)
        assert [r.responsible_school_id for r in rows] == [school_task.responsible_school_id]
        assert len(light_rows(session, world.campaign.id)) == 2 and mine.id != school_task.id
