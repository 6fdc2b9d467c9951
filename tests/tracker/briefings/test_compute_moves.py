"""The briefing replays moved due dates (issue 12 §2): a task approved for extension is judged
against its new date from the approval on, and a week before the approval against the old one;
each unit's row says how many extensions it asked for and was granted."""

from __future__ import annotations

import datetime as dt

import time_machine
from sqlmodel import Session

from tests.factories_db import build_world
from tracker.briefings.compute import compute_briefing
from tracker.db import session_scope
from tracker.org.models import Campaign
from tracker.tasks import lifecycle, moves
from tracker.tasks.service import change_due_date

UTC = dt.timezone.utc


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock Beijing time on ``day``, as UTC."""
    return dt.datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=UTC)


def test_extensions_move_the_due_date_in_the_replay_and_are_counted_per_unit(engine):
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False):
        with session_scope(engine) as session:
            world = build_world(session)
            early = world.task(session, "early", due_on=dt.date(2026, 12, 4), assigned_on=dt.date(2026, 12, 1))
            late = world.task(session, "late", due_on=dt.date(2026, 12, 4), assigned_on=dt.date(2026, 12, 1))
            plain = world.task(session, "plain", unit="住建局", due_on=dt.date(2026, 12, 4),
                               assigned_on=dt.date(2026, 12, 1))
            redated = world.task(session, "redated", unit="住建局", due_on=dt.date(2026, 12, 4),
                                 assigned_on=dt.date(2026, 12, 1))
            li, wang = world.people["李科长"], world.people["王主任"]
            for t in (early, late):
                lifecycle.accept(session, t, li, at=at(dt.date(2026, 12, 1), 11))
            # approved within week 49 (Nov 30 – Dec 6): never overdue
            ext = moves.request_extension(session, early, li, dt.date(2026, 12, 31), "资金下达推迟",
                                          at=at(dt.date(2026, 12, 2)))
            moves.approve_extension(session, ext, wang, at=at(dt.date(2026, 12, 3)))
            # asked in week 49, approved in week 50 (Dec 7 – 13): overdue at the end of week 49 only
            ext = moves.request_extension(session, late, li, dt.date(2026, 12, 31), "施工延误",
                                          at=at(dt.date(2026, 12, 3)))
            moves.approve_extension(session, ext, wang, at=at(dt.date(2026, 12, 8)))
            # the office's own re-dating is replayed the same way
            change_due_date(session, redated, dt.date(2026, 12, 30), actor=wang, reason="上级调整",
                            at=at(dt.date(2026, 12, 9)))
            campaign_id = world.campaign.id
            ids = {"early": early.id, "late": late.id, "plain": plain.id, "redated": redated.id}

    with time_machine.travel(at(dt.date(2026, 12, 21)), tick=False):
        with Session(engine) as session:
            campaign = session.get(Campaign, campaign_id)
            w49 = compute_briefing(session, campaign, "2026-W49")
            w50 = compute_briefing(session, campaign, "2026-W50")

    assert {r.task_id for r in w49.overdue} == {ids["late"], ids["plain"], ids["redated"]}
    assert {r.task_id for r in w50.overdue} == {ids["plain"]}
    assert [r.due_on for r in w49.overdue if r.task_id == ids["late"]] == [dt.date(2026, 12, 4)]

    def row(data, name):
        return next(u for u in data.units if u.name == name)

    assert (row(w49, "财政局").extensions_requested, row(w49, "财政局").extensions_granted) == (2, 1)
    assert (row(w50, "财政局").extensions_requested, row(w50, "财政局").extensions_granted) == (2, 2)
    assert (row(w50, "住建局").extensions_requested, row(w50, "住建局").extensions_granted) == (0, 0)
    assert row(w49, "财政局").figures.overdue == 1 and row(w50, "财政局").figures.overdue == 0
    # the briefing says who asked for more time (issue 12 §2): in its text and in the document
    from notifications.briefing.text import extensions_sentence

    sentence = extensions_sentence(w50)
    short = row(w50, "财政局").short_name
    assert sentence is not None and f"{short}2项（同意2项）" in sentence and "共申请延期2项，同意2项" in sentence
    assert row(w50, "住建局").short_name + "0项" not in sentence
