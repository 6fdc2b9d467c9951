"""修改密码 on a page (issue 12 §8): the current password, the new one twice, the CLI's rules; the
change ends the user's other sessions and API tokens, and keeps this browser logged in."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, bearer
from tests.api.test_pages import CSRF, log_in

NEW = "a-new-password-2027"


def change(client, token: str, current: str, new: str, again: str | None = None):
    return client.post("/account/password", data={"csrf_token": token, "current_password": current,
                                                  "new_password": new, "new_password_again": again or new},
                       follow_redirects=False)


def password_hash(engine, username: str) -> str:
    from sqlmodel import Session, select

    from tracker.accounts.models import User

    with Session(engine) as s:
        return s.exec(select(User.password_hash).where(User.username == username)).one()


def test_every_role_has_the_page(client, api_world):
    for username in ("office", "dept_a", "school", "reviewer"):
        log_in(client, username)
        page = client.get("/account/password")
        assert page.status_code == 200 and "修改密码" in page.text and 'name="new_password_again"' in page.text
        assert 'href="/account/password"' in client.get("/tasks").text  # linked from every page's top bar
    client.cookies.clear()
    r = client.get("/account/password", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_a_wrong_or_weak_password_changes_nothing(client, api_world, engine):
    token = log_in(client, "dept_a")
    before = password_hash(engine, "dept_a")
    for current, new, again, message in [
        ("wrong-password", NEW, NEW, "当前密码不正确"),
        (PASSWORD, NEW, NEW + "x", "两次输入的新密码不一致"),
        (PASSWORD, "short", "short", "密码至少需要 8 个字符"),
        (PASSWORD, "with\x07bell", "with\x07bell", "密码不能含控制字符"),
        (PASSWORD, PASSWORD, PASSWORD, "新密码不能与当前密码相同"),
        ("", NEW, NEW, "请填写当前密码"),
    ]:
        r = change(client, token, current, new, again)
        assert r.status_code == 400 and message in r.text, (message, r.text[:500])
    assert password_hash(engine, "dept_a") == before
    assert client.get("/tasks", follow_redirects=False).status_code == 200  # still logged in


def test_guessing_the_current_password_is_slowed_down_like_a_login(client, api_world):
    token = log_in(client, "dept_a")
    answers = [change(client, token, f"guess-{n}", NEW).status_code for n in range(6)]
    assert answers == [400] * 4 + [429] * 2  # as a login: the 5th failure in a row locks
    r = change(client, token, PASSWORD, NEW)
    assert r.status_code == 429 and "Retry-After" in r.headers  # refused unchecked while locked


def test_the_change_ends_the_other_sessions_and_tokens(client, api_world, engine):
    other = TestClient(client.app)
    log_in(other, "dept_a")  # a second browser
    api_headers = bearer(engine, api_world.users["dept_a"])
    assert client.get("/api/v1/auth/me", headers=api_headers).status_code == 200
    token = log_in(client, "dept_a")

    r = change(client, token, PASSWORD, NEW)
    assert r.status_code == 303 and r.headers["location"] == f"/departments/{api_world.users['dept_a'].department_id}"
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "密码已修改" in page.text  # this browser stays logged in
    assert CSRF.search(page.text).group(1) != token  # with a new session and CSRF token

    gone = other.get("/tasks", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert client.get("/api/v1/auth/me", headers=api_headers).status_code == 401
    # the old password no longer logs in, the new one does
    form = other.get("/login")
    old = other.post("/login", data={"username": "dept_a", "password": PASSWORD, "next": "/",
                                     "csrf_token": CSRF.search(form.text).group(1)}, follow_redirects=False)
    assert old.status_code == 400
    new = other.post("/login", data={"username": "dept_a", "password": NEW, "next": "/",
                                     "csrf_token": CSRF.search(form.text).group(1)}, follow_redirects=False)
    assert new.status_code == 303
