"""The weekly briefing flow, run for real (Prefect's test harness), by hand, through the dispatcher
and from the scheduler's Monday job. The clock is the real one here (Prefect's server keeps real
time); the frozen-clock checks of the figures are in tests/tracker/briefings."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, func, select

from flows.briefing import weekly_briefing_flow
from flows.dispatcher import BRIEFING, DispatchMode, dispatch_pending
from tests.factories_db import build_world
from tracker.briefings.compute import iso_week_of, previous_week
from tracker.briefings.models import Briefing
from tracker.calendar import CHINA
from tracker.db import session_scope, utcnow
from tracker.events.models import Event
from tracker.events.service import record_event
from tracker.notices.models import NoticeItem, OutboundMessage


def _world(engine) -> str:
    """A campaign created a week ago (so last week is its 第1期 and this week its 第2期), and two tasks."""
    with session_scope(engine) as session:
        world = build_world(session)
        world.campaign.created_at = utcnow() - dt.timedelta(days=7)
        today = utcnow().astimezone(CHINA).date()
        world.task(session, "late", due_on=today - dt.timedelta(days=10), title="制定实施方案")
        world.task(session, "next", unit="住建局", due_on=today + dt.timedelta(days=5), title="改建音乐教室")
        return world.campaign.code


def _count(engine, model, *where) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


async def test_the_flow_computes_stores_renders_and_queues_the_mail(engine, prefect_harness):
    code = _world(engine)
    week = iso_week_of(utcnow().astimezone(CHINA).date())  # this week, so far: the tasks exist
    generated = await weekly_briefing_flow(code, week, pdf=False)  # by default: generated, not mailed
    assert generated["mail"]["queued"] == 0 and _count(engine, OutboundMessage) == 0
    result = await weekly_briefing_flow(code, week, send=True, pdf=False)
    assert result["briefing_id"] == generated["briefing_id"]
    assert result["docx_bytes"] > 10_000 and result["charts"] == []  # nothing verified: no chart of empty bars
    assert result["mail"]["queued"] == 3  # the office and the two departments' contacts
    with Session(engine) as session:
        briefing = session.exec(select(Briefing)).one()
        assert (briefing.number, briefing.iso_week, briefing.issues) == (2, week, 2)
        assert briefing.docx.startswith(b"PK") and briefing.pdf is None
        assert briefing.content["overall"]["total"] == 2

    again = await weekly_briefing_flow(code, week, send=True, pdf=False)
    assert again["briefing_id"] == result["briefing_id"] and again["mail"] == {
        "queued": 0, "already": 3, "unreachable": []}
    assert _count(engine, OutboundMessage) == 3
    assert _count(engine, NoticeItem, NoticeItem.rung == "briefing") == 3


async def test_a_briefing_due_event_starts_the_flow_through_the_dispatcher(engine, prefect_harness):
    code = _world(engine)
    week = previous_week()
    with session_scope(engine) as session:
        campaign_id = session.exec(select(Briefing.campaign_id)).first()  # none yet
        assert campaign_id is None
        from tracker.org.models import Campaign

        campaign = session.exec(select(Campaign).where(Campaign.code == code)).one()
        record_event(session, type="briefing.due", actor="调度器", campaign_id=campaign.id, payload={"week": week})
    report = await dispatch_pending(engine, mode=DispatchMode.embedded)
    assert [(o.start.flow_name, o.start.parameters, o.ok) for o in report.outcomes] == [
        (BRIEFING, {"campaign_code": code, "iso_week": week, "send": True}, True)]
    with Session(engine) as session:
        briefing = session.exec(select(Briefing)).one()
        assert briefing.iso_week == week and briefing.docx is not None and briefing.number == 1
    assert _count(engine, OutboundMessage) == 3  # the scheduler's weekly briefing is mailed
    assert (await dispatch_pending(engine, mode=DispatchMode.embedded)).claimed == []


def test_the_scheduler_monday_job_starts_last_weeks_briefing_once(engine, prefect_harness, monkeypatch):
    from junheng import scheduler

    monkeypatch.setenv("JUNHENG_PREFECT_MODE", "embedded")
    _world(engine)
    now = utcnow()
    assert scheduler.weekly_briefing(now) == 1
    with Session(engine) as session:
        briefing = session.exec(select(Briefing)).one()
        assert briefing.iso_week == previous_week(now) and briefing.number == 1
        due = session.exec(select(Event).where(Event.type == "briefing.due")).one()
        assert due.dispatched_at is not None and due.payload["week"] == previous_week(now)
    assert _count(engine, NoticeItem, NoticeItem.rung == "briefing") == 3  # and mailed
    # the job run again the same week (a restart that coalesced a missed run): nothing more
    assert scheduler.weekly_briefing(now + dt.timedelta(minutes=5)) == 0
    assert _count(engine, Briefing) == 1 and _count(engine, Event, Event.type == "briefing.due") == 1
