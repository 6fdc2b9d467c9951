"""The 总览's kept pages (api/pages/overview.py, issue 10): a page asked for again is the very bytes
rendered afresh would be; every write to what the page shows (task moves, events, phases, reviews
and their findings, the calendar, the next day) is seen by the next request; another viewer gets
their own page, and each session its own CSRF token. The clock is frozen (lights, days left and
this week's changes count from the Beijing date)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import update
from sqlmodel import Session

from api.pages import overview as overview_page
from tests.api.test_pages import CSRF, log_in
from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.events.models import Event
from tracker.org.models import Phase
from tracker.reviews.models import Review, ReviewFinding

from tests.api.conftest import KEPT_NOW as NOW  # the ``frozen`` fixture's now


def _page(client) -> str:
    r = client.get("/overview")
    assert r.status_code == 200, r.text
    return r.text


def _served_and_fresh(client) -> tuple[str, str]:
    served = _page(client)
    overview_page.pages.clear()
    return served, _page(client)


def test_a_kept_page_is_the_page_and_skips_the_figures(client, api_world, frozen, monkeypatch):
    log_in(client, "office")
    first = _page(client)
    assert len(overview_page.pages) == 1
    computed = []
    monkeypatch.setattr(overview_page, "campaign_overview",
                        lambda *a, **k: computed.append(1) or pytest.fail("a kept page is not computed"))
    assert _page(client) == first
    assert not computed


def test_every_write_to_what_the_page_shows_is_seen_by_the_next_request(client, engine, api_world, frozen):
    w = api_world.world
    cid = w.campaign.id
    review_id = api_world.finding.review_id if api_world.finding else None
    log_in(client, "office")
    _page(client)

    def store(change):
        with Session(engine) as session:
            session.execute(change)
            session.commit()

    writes = [
        ("a task assigned and moved", lambda: api_world.fresh_task(engine, "cache-1", state="办理中")),
        ("an event without a task", lambda: store(Event.__table__.insert().values(
            campaign_id=cid, at=NOW, actor="系统", type="task.created", payload={"title": "新的工作安排"}))),
        ("a phase's note", lambda: store(update(Phase).where(Phase.campaign_id == cid).values(note="关口前完成自查"))),
        ("a review opened", lambda: store(Review.__table__.insert().values(
            campaign_id=cid, phase_id=w.phases["review_city"].id, level="省级", recorded_by="", note="",
            round_name="", team="省督导组", scope=""))),
        ("a verdict recorded", lambda: store(update(Review).where(Review.campaign_id == cid, Review.level == "省级")
                                             .values(verdict="通过", verdict_at=NOW))),
        ("a finding deleted", lambda: store(ReviewFinding.__table__.delete().where(
            ReviewFinding.campaign_id == cid, ReviewFinding.review_id == review_id))),
        ("calendar imported: tomorrow a holiday", lambda: (store(CalendarYear.__table__.insert().values(
            year=2026, source="示例", illustrative=True, file_name="", entered_by="韩静", entered_at=NOW)),
            store(WorkdayOverride.__table__.insert().values(
                date=dt.date(2026, 12, 11), year=2026, is_working_day=False, name="示例假日", source="示例",
                entered_by="韩静", entered_at=NOW)))),
    ]
    before = _page(client)
    for name, write in writes:
        write()
        served, fresh = _served_and_fresh(client)
        assert served == fresh, name
        assert served != before, f"{name}: the page shows the write"
        before = served

    # the next day: the kept page of yesterday is not served (the date heads the page)
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        served, fresh = _served_and_fresh(client)
        assert served == fresh and served != before


def test_another_viewer_gets_their_own_page_and_each_session_its_token(client, db_url, api_world, frozen):
    from fastapi.testclient import TestClient

    from api.app import create_app

    office_token = log_in(client, "office")
    office = _page(client)
    assert CSRF.search(office).group(1) == office_token
    assert "<span>王主任 · " in office

    with TestClient(create_app()) as other:
        reviewer_token = log_in(other, "reviewer")
        reviewer = _page(other)
        assert "<span>市督导评估组 · " in reviewer and "<span>王主任 · " not in reviewer
        assert CSRF.search(reviewer).group(1) == reviewer_token != office_token
        second_token = log_in(other, "office")  # a second session of the office: its own token
        again = _page(other)
        assert CSRF.search(again).group(1) == second_token != office_token
        assert again.replace(second_token, office_token) == office
    assert len(overview_page.pages) == 2  # one per viewer, shared by the office's sessions


def test_a_flash_message_is_shown_once_and_the_page_not_kept_with_it(client, api_world, frozen):
    token = log_in(client, "office")
    _page(client)  # kept
    r = client.post("/tasks/new", data={"csrf_token": token, "title": "迎检路线踏勘", "lead": "财政局",
                                        "due_on": "2027-01-15", "source": "会议决定"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    flashed = _page(client)  # the office goes to the 总览 instead of the new task
    assert "已交办任务" in flashed and "迎检路线踏勘" in flashed
    after = _page(client)
    assert "已交办任务" not in after  # shown once
    served, fresh = _served_and_fresh(client)
    assert served == fresh == after


def _counted(client) -> tuple[object, int]:
    from tests.api.test_task_list_statements import Statements
    from tracker.db import get_engine

    with Statements(get_engine()) as counted:
        r = client.get("/overview", follow_redirects=False)
    return r, len(counted.seen)


def test_a_kept_page_goes_out_before_routing_in_one_statement(client, api_world, frozen):
    # ``KeptOverviews``: the session, its user and the campaign's revision in one statement; the
    # bytes and headers are the app's very answer
    log_in(client, "office")
    first, made = _counted(client)
    again, kept = _counted(client)
    assert first.status_code == again.status_code == 200
    assert made > 2 and kept == 1
    assert again.content == first.content and again.headers.raw == first.headers.raw
    # with the fast path gone the app sends the same bytes and headers
    client.app.middleware_stack = None  # rebuilt on the next request
    client.app.user_middleware[:] = [m for m in client.app.user_middleware if m.cls is not overview_page.KeptOverviews]
    by_app, costs = _counted(client)
    assert costs > 1 and by_app.content == again.content and by_app.headers.raw == again.headers.raw


def test_the_fast_path_serves_no_one_else_and_no_ended_session(client, api_world, frozen):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tracker.accounts.sessions import TOUCH_EVERY

    token = log_in(client, "office")
    _counted(client)
    assert _counted(client)[1] == 1
    with TestClient(create_app()) as other:
        log_in(other, "reviewer")
        page, costs = _counted(other)
        assert costs > 1 and "<span>市督导评估组 · " in page.text and token not in page.text
    frozen.shift(TOUCH_EVERY)  # the idle clock is to move on: the app does it, then the fast path again
    assert _counted(client)[1] > 1
    assert _counted(client)[1] == 1
    cookie = dict(client.cookies)
    client.post("/logout", data={"csrf_token": token})
    client.cookies.clear()
    for name, value in cookie.items():  # a copy of the ended session's cookie
        client.cookies.set(name, value)
    ended, _ = _counted(client)
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
