"""The 地区总览 page's kept bytes sent before routing (api/pages/region.py ``KeptRollups``): a
page asked for again costs one statement and is the app's very answer, bytes and headers; it is
the viewer's own (another account, a county account, an ended or expired session get the app's
answer), and a change (a renamed city, a new notice) or a new Beijing day is seen on the next
request. The clock is frozen (time-machine): the session's idle clock and the day count from it.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from api.pages import region as region_page
from tests.api.conftest import PASSWORD as PASSWORD_OF_TESTS
from tests.api.conftest import bearer
from tests.api.test_region_access import _csrf, _login, make_region_users
from tests.api.test_task_list_statements import Statements
from tracker.accounts.models import WebSession
from tracker.accounts.regional import create_region_user
from tracker.accounts.sessions import TOUCH_EVERY, session_limits
from tracker.db import get_engine, session_scope
from tracker.regions.notices import issue_notice
from tracker.regions.service import region_by_code

from tests.api.conftest import KEPT_NOW as NOW  # the ``frozen`` fixture's now


@pytest.fixture
def region_users(engine, api_world):
    return make_region_users(engine)


def _get(client, path="/region"):
    with Statements(get_engine()) as counted:
        r = client.get(path, follow_redirects=False)
    return r, len(counted.seen)


def test_a_kept_page_costs_one_statement_and_is_the_apps_answer(client, region_users, frozen):
    _login(client, "city")
    first, made = _get(client)
    again, kept = _get(client)
    assert first.status_code == again.status_code == 200
    assert made > 2 and kept == 1
    assert again.content == first.content
    assert again.headers.raw == first.headers.raw  # content-length, content-type, vary: Cookie, in order
    assert dict(first.headers)["vary"] == "Cookie" and "set-cookie" not in first.headers
    # with the fast path gone the app sends the same (its own kept page: two statements)
    client.app.middleware_stack = None  # rebuilt on the next request
    plain = [m for m in client.app.user_middleware if m.cls is not region_page.KeptRollups]
    client.app.user_middleware[:] = plain
    by_app, costs = _get(client)
    assert costs == 2 and by_app.content == again.content and by_app.headers.raw == again.headers.raw


def test_a_kept_page_is_only_its_viewers(client, engine, api_world, region_users, frozen):
    with session_scope(engine) as session:
        create_region_user(session, region_by_code(session, "wf"), username="city2", password=PASSWORD_OF_TESTS,
                           name="潍坊市第二督导")
    _login(client, "city")
    mine = _get(client)[0]
    assert _get(client)[1] == 1
    token = _csrf(mine)
    cookie = dict(client.cookies)
    client.post("/logout", data={"csrf_token": token})
    client.cookies.clear()
    for name, value in cookie.items():  # a copy of the ended session's cookie
        client.cookies.set(name, value)
    ended, _ = _get(client)
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    client.cookies.clear()
    _login(client, "city2")
    other, costs = _get(client)
    assert costs > 1 and "<span>潍坊市第二督导 · " in other.text and token not in other.text
    client.cookies.clear()
    _login(client, api_world.users["office"].username)
    assert _get(client)[0].status_code == 403  # a county account has no 地区总览


def test_an_idle_or_expired_session_goes_to_the_app(client, engine, region_users, frozen):
    _login(client, "city")
    page = _get(client)[0]
    assert _get(client)[1] == 1
    idle, _ = session_limits()
    frozen.shift(TOUCH_EVERY)  # the idle clock is to move on: the app does it
    moved, costs = _get(client)
    assert costs > 1 and moved.content == page.content
    with Session(engine) as session:
        assert set(session.exec(select(WebSession.last_seen_at))) == {NOW + TOUCH_EVERY}
    assert _get(client)[1] == 1
    frozen.shift(idle)
    expired, _ = _get(client)
    assert expired.status_code == 303 and expired.headers["location"].startswith("/login")


def test_a_change_or_a_new_day_is_seen_at_once(client, engine, region_users, frozen):
    _login(client, "city")
    _get(client)
    assert _get(client)[1] == 1
    with session_scope(engine) as session:
        city = region_by_code(session, "wf")
        city.name = "潍坊"
        session.add(city)
    renamed, costs = _get(client)
    assert costs > 1 and "潍坊 · 各县创建进展" in renamed.text
    assert _get(client)[1] == 1
    with session_scope(engine) as session:
        issue_notice(session, region_by_code(session, "wf"), "关于迎接市级复评的通知", "", "潍坊督导")
    noticed, costs = _get(client)
    assert costs > 1 and "关于迎接市级复评的通知" in noticed.text
    assert _get(client)[1] == 1
    for hours, minutes in ((7, 0), (6, 58)):  # to 23:58 in Beijing: the app moves the idle clock on
        frozen.shift(dt.timedelta(hours=hours, minutes=minutes))
        assert _get(client)[1] > 1 and _get(client)[1] == 1
    frozen.shift(dt.timedelta(minutes=3))  # Friday 00:01 in Beijing, the idle clock still fresh
    next_day, costs = _get(client)
    assert next_day.status_code == 200 and costs > 1
    assert _get(client)[1] == 1


def test_the_kept_roll_up_api_costs_one_statement_and_is_each_regions_own(frozen, client, engine, api_world,
                                                                        region_users):
    city, far = region_users["city"], region_users["far"]
    first, made = _get_api(client, city)
    again, kept = _get_api(client, city)
    assert first.status_code == again.status_code == 200 and made > 1 and kept == 1
    assert again.content == first.content and again.headers.raw == first.headers.raw
    assert "vary" not in again.headers and "set-cookie" not in again.headers
    other, costs = _get_api(client, far)
    assert costs > 1 and other.json()["region"] == "qd" and first.json()["region"] == "wf"
    assert _get_api(client, far)[1] == 1 and _get_api(client, far)[0].content == other.content
    with session_scope(engine) as session:
        city_row = region_by_code(session, "wf")
        city_row.name = "潍坊"
        session.add(city_row)
    renamed, costs = _get_api(client, city)
    assert costs > 1 and renamed.json()["region_name"] == "潍坊"
    assert _get_api(client, {"Authorization": "Bearer not-a-token"})[0].status_code == 401
    office = bearer(engine, api_world.users["office"])
    assert _get_api(client, office)[0].status_code == 403  # a county account has no roll-up
    frozen.shift(dt.timedelta(days=400))  # the tokens have expired
    assert _get_api(client, city)[0].status_code == 401


def _get_api(client, headers):
    with Statements(get_engine()) as counted:
        r = client.get("/api/v1/regions/mine/status", headers=headers)
    return r, len(counted.seen)
