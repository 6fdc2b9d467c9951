"""Logging in: tokens for the API, the session cookie and CSRF for pages, slowing down guessers,
and ``junheng user``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter, Form
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import select
from typer.testing import CliRunner

from api.deps import CsrfChecked, PageUser
from tests.api.conftest import PASSWORD, build_api_world
from tracker.accounts import service as accounts
from tracker.accounts.models import OVERALL, ApiToken, LoginThrottle, User, WebSession
from tracker.accounts.service import LOCK_MAX_SECONDS, lock_seconds
from tracker.db import session_scope, utcnow
from tracker.org.models import Campaign
from tracker.settings import get_settings
from tracker.tasks.models import Task

TOKEN = "/api/v1/auth/token"


def token_for(client, username, password=PASSWORD):
    return client.post(TOKEN, data={"username": username, "password": password})


# ---------------------------------------------------------------------------------------------
# the API


def test_a_token_for_the_right_password_and_the_user_behind_it(client, api_world, session):
    r = token_for(client, "dept_a")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert (me["username"], me["role"], me["campaign_code"]) == ("dept_a", "department", api_world.code)
    assert me["department_id"] == api_world.world.departments["财政局"].id

    stored = session.exec(select(ApiToken)).all()
    assert body["access_token"] not in {t.token_hash for t in stored}  # only its hash is kept
    user = session.exec(select(User).where(User.username == "dept_a")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert user.last_login_at is not None


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client, api_world):
    wrong = token_for(client, "dept_a", "not-the-password")
    unknown = token_for(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "用户名或密码错误", "problems": []}
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_no_token_a_bad_token_an_expired_token_and_a_disabled_user(client, api_world, engine):
    assert client.get("/api/v1/auth/me").status_code == 401
    assert "请先登录" in client.get("/api/v1/auth/me").json()["detail"]
    r = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer made-up"})
    assert r.status_code == 401 and "令牌无效" in r.json()["detail"]

    token = token_for(client, "office").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=auth).status_code == 200
    with session_scope(engine) as s:
        s.execute(update(ApiToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert client.get("/api/v1/auth/me", headers=auth).status_code == 401

    token = token_for(client, "office").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    with session_scope(engine) as s:
        accounts.set_active(s, s.exec(select(User).where(User.username == "office")).one(), False)
    assert client.get("/api/v1/auth/me", headers=auth).status_code == 401
    r = token_for(client, "office")
    assert r.status_code == 401 and "停用" in r.json()["detail"]


def test_a_revoked_token_stops_working(client, api_world):
    auth = {"Authorization": f"Bearer {token_for(client, 'reviewer').json()['access_token']}"}
    assert client.delete(TOKEN, headers=auth).status_code == 204
    assert client.get("/api/v1/auth/me", headers=auth).status_code == 401


def unlock(engine, username="school"):
    """The lock window passes (for every address)."""
    with session_scope(engine) as s:
        s.execute(update(LoginThrottle).where(LoginThrottle.username == username)
                  .values(locked_until=utcnow() - dt.timedelta(seconds=1)))


def test_repeated_failures_slow_logging_in_down(client, api_world, engine, session):
    for _ in range(accounts.FREE_FAILURES - 1):
        assert token_for(client, "school", "guess").status_code == 401
    r = token_for(client, "school", "guess")  # the fifth failure locks
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == lock_seconds(accounts.FREE_FAILURES)
    assert "登录失败次数过多" in r.json()["detail"]

    # while locked, even the right password is not checked
    r = token_for(client, "school")
    assert r.status_code == 429
    pair = session.get(LoginThrottle, ("school", "testclient"))
    assert pair.failed_count == accounts.FREE_FAILURES
    assert pair.locked_until is not None and pair.last_failed_at is not None

    # the lock window passes; one more wrong guess locks for twice as long
    unlock(engine)
    r = token_for(client, "school", "guess")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == 2 * lock_seconds(accounts.FREE_FAILURES)

    # after the window, the right password works and the count starts again
    unlock(engine)
    assert token_for(client, "school").status_code == 200
    session.expire_all()
    for source in ("testclient", OVERALL):
        row = session.get(LoginThrottle, ("school", source))
        assert (row.failed_count, row.locked_until) == (0, None)

    # other users were never slowed down
    assert token_for(client, "dept_b").status_code == 200


def test_an_unknown_name_is_slowed_down_like_a_known_one(client, api_world):
    """The lock must not tell which names exist: same answers, same statuses, same lock."""
    known = [token_for(client, "school", "guess") for _ in range(accounts.FREE_FAILURES + 1)]
    unknown = [token_for(client, "no-such-user", "guess") for _ in range(accounts.FREE_FAILURES + 1)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 4 + [429, 429]
    assert [r.json() for r in known] == [r.json() for r in unknown]
    assert [r.headers.get("retry-after") for r in known] == [r.headers.get("retry-after") for r in unknown]


@pytest.fixture
def behind_proxy(monkeypatch):
    """The app trusts its test client as a proxy, as it trusts nginx on 127.0.0.1 by default."""
    monkeypatch.setenv("JUNHENG_TRUSTED_PROXIES", "127.0.0.1,testclient")
    get_settings.cache_clear()


def test_a_guesser_locks_the_name_from_its_own_address_only(behind_proxy, client, api_world):
    """A lock per name and address: the guesser cannot lock the user out of the office."""
    guesser, office = {"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "10.1.2.3"}
    for _ in range(accounts.FREE_FAILURES):
        r = client.post(TOKEN, data={"username": "school", "password": "guess"}, headers=guesser)
    assert r.status_code == 429
    r = client.post(TOKEN, data={"username": "school", "password": PASSWORD}, headers=guesser)
    assert r.status_code == 429  # locked from there, even with the right password
    r = client.post(TOKEN, data={"username": "school", "password": PASSWORD}, headers=office)
    assert r.status_code == 200  # the user at the office logs in
    # the proxy's own hop is not the client: the address nginx appends (the right-most) counts
    r = client.post(TOKEN, data={"username": "school", "password": PASSWORD},
                    headers={"X-Forwarded-For": "10.1.2.3, 203.0.113.9"})
    assert r.status_code == 429


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(client, api_world):
    """By default only 127.0.0.1 is a proxy: a client naming a new address in the header each
    time gets no fresh counter."""
    statuses = [client.post(TOKEN, data={"username": "school", "password": "guess"},
                            headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                for i in range(accounts.FREE_FAILURES + 1)]
    assert statuses == [401] * (accounts.FREE_FAILURES - 1) + [429, 429]


def test_the_lock_doubles_up_to_a_ceiling():
    assert [lock_seconds(n) for n in range(1, accounts.FREE_FAILURES)] == [0] * (accounts.FREE_FAILURES - 1)
    first = lock_seconds(accounts.FREE_FAILURES)
    assert first > 0
    assert lock_seconds(accounts.FREE_FAILURES + 1) == 2 * first
    assert lock_seconds(accounts.FREE_FAILURES + 30) == LOCK_MAX_SECONDS


# ---------------------------------------------------------------------------------------------
# pages: session cookie and CSRF

probe = APIRouter()


@probe.get("/_probe")
def probe_page(user: PageUser) -> dict:
    return {"user": user.username}


@probe.post("/_probe")
def probe_form(user: PageUser, _csrf: CsrfChecked, note: Annotated[str, Form()] = "") -> dict:
    return {"user": user.username, "note": note}


@pytest.fixture
def pages(db_url):
    """The app with a page and a form of its own, guarded like H-pages' pages."""
    from api.app import create_app

    app = create_app()
    app.include_router(probe)
    with TestClient(app) as c:
        yield c


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries a csrf_token field"
    return found.group(1)


def log_in(client, username="dept_a", password=PASSWORD, next_path="/_probe"):
    form = client.get("/login", params={"next": next_path})
    assert form.status_code == 200 and "登录均衡督办" in form.text
    return client.post("/login", data={"username": username, "password": password, "next": next_path,
                                       "csrf_token": csrf_from(form.text)}, follow_redirects=False)


def test_login_sets_a_signed_httponly_lax_session_cookie(pages, api_world):
    r = log_in(pages)
    assert r.status_code == 303 and r.headers["location"] == "/_probe"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("junheng_session=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert pages.get("/_probe").json() == {"user": "dept_a"}


def test_a_page_without_a_session_sends_to_the_login_page(pages, api_world):
    r = pages.get("/_probe", params={"x": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/_probe%3Fx%3D1"


def test_forms_without_the_csrf_token_are_refused(pages, api_world):
    # logging in itself needs the token of the login form
    r = pages.post("/login", data={"username": "dept_a", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "安全校验未通过" in r.text
    assert pages.get("/_probe", follow_redirects=False).status_code == 303  # not logged in

    assert log_in(pages).status_code == 303
    r = pages.get("/login", params={"next": "/_probe"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/_probe"  # logged in: /login goes on
    token = csrf_from(pages.get("/logout").text)
    r = pages.post("/_probe", data={"note": "无令牌"})
    assert r.status_code == 403 and "安全校验未通过" in r.text
    r = pages.post("/_probe", data={"note": "错令牌", "csrf_token": token[:-2] + "xx"})
    assert r.status_code == 403
    r = pages.post("/_probe", data={"note": "正常", "csrf_token": token})
    assert r.json() == {"user": "dept_a", "note": "正常"}  # the route still reads its own form fields
    r = pages.post("/_probe", files={"evidence": ("a.txt", b"x")}, data={"note": "附件", "csrf_token": token})
    assert r.json()["note"] == "附件"  # multipart forms too
    r = pages.post("/_probe", data={"note": "请求头"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200

    r = pages.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = pages.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert pages.get("/_probe", follow_redirects=False).status_code == 303


def test_the_login_page_says_what_went_wrong(pages, api_world):
    r = log_in(pages, password="wrong-password")
    assert r.status_code == 400 and "用户名或密码错误" in r.text
    for _ in range(accounts.FREE_FAILURES - 1):
        r = log_in(pages, password="wrong-password")
    assert r.status_code == 429 and "登录失败次数过多" in r.text


def test_only_local_paths_are_followed_after_login(pages, api_world):
    r = log_in(pages, next_path="https://evil.example/")
    assert r.headers["location"] == "/"
    pages.cookies.clear()
    r = log_in(pages, next_path="//evil.example/")
    assert r.headers["location"] == "/"


def test_a_password_change_and_disabling_end_the_sessions(pages, api_world, engine):
    assert log_in(pages).status_code == 303
    assert pages.get("/_probe").status_code == 200
    with session_scope(engine) as s:
        accounts.set_password(s, s.exec(select(User).where(User.username == "dept_a")).one(), "another-pass-1")
    assert pages.get("/_probe", follow_redirects=False).status_code == 303

    assert log_in(pages, password="another-pass-1").status_code == 303
    assert pages.get("/_probe").status_code == 200
    with session_scope(engine) as s:
        accounts.set_active(s, s.exec(select(User).where(User.username == "dept_a")).one(), False)
        assert s.exec(select(WebSession)).all() == []  # the rows went, not only the user's flag
    assert pages.get("/_probe", follow_redirects=False).status_code == 303


def test_a_cookie_copied_before_logout_is_worthless_after_it(pages, api_world, session):
    """The logout replay: copy the cookie, log out, send the copy to a page and to the 签收 form."""
    assert log_in(pages).status_code == 303
    token = csrf_from(pages.get("/logout").text)
    copied = dict(pages.cookies)
    assert pages.get("/_probe").json() == {"user": "dept_a"}
    r = pages.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303

    pages.cookies.clear()
    pages.cookies.update(copied)
    for page in ("/_probe", "/tasks"):
        r = pages.get(page, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), page
    a = api_world.tasks["a"].id
    r = pages.post(f"/tasks/{a}/actions/accept", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    session.expire_all()
    assert session.get(Task, a).status == "待签收"  # not signed
    assert session.exec(select(WebSession)).all() == []


def test_logging_in_again_ends_the_previous_session(pages, api_world, session):
    assert log_in(pages).status_code == 303
    first = dict(pages.cookies)
    token = csrf_from(pages.get("/logout").text)  # the login form itself would send us on: post it
    r = pages.post("/login", data={"username": "dept_b", "password": PASSWORD, "csrf_token": token},
                   follow_redirects=False)
    assert r.status_code == 303 and pages.get("/_probe").json() == {"user": "dept_b"}
    assert len(session.exec(select(WebSession)).all()) == 1
    pages.cookies.clear()
    pages.cookies.update(first)
    assert pages.get("/_probe", follow_redirects=False).status_code == 303


def test_sessions_are_rows_and_each_login_is_its_own(pages, api_world, db_url, session):
    """Two browsers, two sessions: logging out of one leaves the other."""
    from api.app import create_app

    assert log_in(pages).status_code == 303
    with TestClient(create_app()) as other:
        assert log_in(other).status_code == 303
        assert len(session.exec(select(WebSession)).all()) == 2
        token = csrf_from(pages.get("/logout").text)
        pages.post("/logout", data={"csrf_token": token})
        assert other.get("/tasks", follow_redirects=False).status_code == 200
    assert pages.get("/_probe", follow_redirects=False).status_code == 303
    assert len(session.exec(select(WebSession)).all()) == 1


# ---------------------------------------------------------------------------------------------
# junheng user


def run(*args, input=None):
    from junheng.cli import app

    return CliRunner().invoke(app, ["user", *args], input=input)


def test_user_add_reads_the_password_from_stdin(db_url, engine):
    build_api_world(engine)
    r = run("add", "caiwu2", "--role", "department", "--department", "财政", "--campaign", "demo",
            input="a-long-secret\n")
    assert r.exit_code == 0, r.output
    assert "已新建账号「caiwu2」" in r.output and "财政局" in r.output
    r = run("add", "school2", "--role", "school", "--school", "4101001", input="another-secret\n")
    assert r.exit_code == 2 and "2 个创建工作" in r.output  # two campaigns: --campaign needed
    r = run("add", "school2", "--role", "school", "--school", "4101001", "--campaign", "demo",
            input="another-secret\n")
    assert r.exit_code == 0, r.output

    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == "caiwu2")).one()
        assert accounts.authenticate(s, "caiwu2", "a-long-secret").ok
        assert s.get(Campaign, user.campaign_id).code == "demo"
    listed = run("list", "--campaign", "demo")
    assert listed.exit_code == 0 and "caiwu2" in listed.output and "school2" in listed.output


@pytest.mark.parametrize("args, password, message, code", [
    (["x1", "--role", "department", "--department", "税务局"], "a-long-secret", "没有单位「税务局」", 3),  # not found
    (["x2", "--role", "school", "--school", "不存在小学"], "a-long-secret", "没有学校「不存在小学」", 3),
    (["x3", "--role", "department"], "a-long-secret", "必须指定所属单位", 2),
    (["x4", "--role", "reviewer"], "short", "密码至少需要 8 个字符", 2),
    (["x5", "--role", "chief"], "a-long-secret", "角色「chief」无效", 2),
    (["office", "--role", "reviewer"], "a-long-secret", "用户名「office」已被使用", 2),
    (["bad name", "--role", "reviewer"], "a-long-secret", "用户名应为", 2),
])
def test_user_add_refuses_bad_input_in_chinese(db_url, engine, args, password, message, code):
    api = build_api_world(engine)
    r = run("add", *args, "--campaign", api.code, input=password + "\n")
    assert r.exit_code == code
    assert message in r.output
    assert "Traceback" not in r.output
    with session_scope(engine) as s:
        assert len(s.exec(select(User)).all()) == 6  # nothing stored


def test_user_passwd_and_disable(db_url, engine):
    build_api_world(engine)
    assert run("passwd", "reviewer", input="brand-new-pass\n").exit_code == 0
    with session_scope(engine) as s:
        assert accounts.authenticate(s, "reviewer", "brand-new-pass").ok
        assert not accounts.authenticate(s, "reviewer", PASSWORD).ok
    assert run("disable", "reviewer").exit_code == 0
    with session_scope(engine) as s:
        assert "停用" in accounts.authenticate(s, "reviewer", "brand-new-pass").message
    r = run("disable", "nobody")
    assert r.exit_code == 2 and "没有用户名为「nobody」的账号" in r.output


# ---------------------------------------------------------------------------------------------
# the burst over real HTTP


@pytest.fixture
def http_server(db_url, api_world):
    """The app served by uvicorn on a free port, in a thread of this process (its own workers'
    threads check passwords concurrently, as in production)."""
    import socket
    import threading
    import time

    import uvicorn

    from api.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_config=None,
                                           log_level="critical", proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_forty_concurrent_guesses_over_http_get_only_the_free_checks(http_server, engine, monkeypatch):
    """The attack of issue 11 over HTTP: 40 guesses at once. Only the free attempts are admitted
    (counted before their check); the rest are refused unchecked, and so is the right password
    sent after them (it came 11th or 16th in the report, and logged in)."""
    import concurrent.futures

    import httpx

    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1))

    def guess(password: str) -> int:
        return httpx.post(http_server + TOKEN, data={"username": "school", "password": password}, timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(guess, [f"guess-{i}" for i in range(40)]))
    assert statuses.count(401) == accounts.FREE_FAILURES - 1  # checked and wrong
    assert statuses.count(429) == 40 - (accounts.FREE_FAILURES - 1)  # the fifth check locked; the rest unchecked
    with session_scope(engine) as s:
        assert s.get(LoginThrottle, ("school", "127.0.0.1")).failed_count == accounts.FREE_FAILURES
    assert guess(PASSWORD) == 429


def test_a_page_session_ends_when_idle_as_the_setting_says(pages, api_world, monkeypatch, session):
    import time_machine

    monkeypatch.setenv("JUNHENG_SESSION_IDLE_HOURS", "2")
    get_settings.cache_clear()
    start = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.timezone.utc)
    with time_machine.travel(start, tick=False) as clock:
        assert log_in(pages).status_code == 303
        clock.move_to(start + dt.timedelta(hours=1, minutes=59))
        assert pages.get("/_probe").status_code == 200  # and the idle clock moves on
        assert session.exec(select(WebSession)).one().last_seen_at == start + dt.timedelta(hours=1, minutes=59)
        clock.move_to(start + dt.timedelta(hours=3, minutes=58))
        assert pages.get("/_probe").status_code == 200
        clock.move_to(start + dt.timedelta(hours=5, minutes=58))
        assert pages.get("/_probe", follow_redirects=False).status_code == 303
