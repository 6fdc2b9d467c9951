"""Page sessions in the store (tracker.accounts.sessions): ended by logout, a new password,
disabling the user, idleness and age; one indexed lookup a request."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event
from sqlmodel import Session, select

from tracker.accounts import service as accounts
from tracker.accounts.models import WebSession
from tracker.accounts.sessions import (
    end_session,
    purge_expired_sessions,
    session_user,
    start_session,
    touch_session,
)
from tracker.db import session_scope

NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.timezone.utc)
IDLE, LIFETIME = dt.timedelta(hours=8), dt.timedelta(days=7)


def new_session(engine, user, now=NOW) -> str:
    with session_scope(engine) as s:
        return start_session(s, user, now)


def who(engine, token, now):
    with Session(engine) as s:
        found = session_user(s, token, now, idle=IDLE, lifetime=LIFETIME)
        return found.user.username if found else None


def test_a_session_is_a_row_and_logout_deletes_it(engine, user):
    token = new_session(engine, user)
    with Session(engine) as s:
        row = s.exec(select(WebSession)).one()
        assert token not in row.token_hash and len(row.token_hash) == 64  # only the hash is kept
    assert who(engine, token, NOW) == "office"
    with session_scope(engine) as s:
        end_session(s, token)
    assert who(engine, token, NOW) is None
    assert who(engine, "made-up", NOW) is None and who(engine, "x" * 500, NOW) is None


def test_idle_and_absolute_limits(engine, user):
    token = new_session(engine, user)
    assert who(engine, token, NOW + IDLE - dt.timedelta(seconds=1)) == "office"
    assert who(engine, token, NOW + IDLE) is None  # idle too long
    # a request every few hours keeps it alive, up to the absolute limit
    t = NOW
    while t + dt.timedelta(hours=6) < NOW + LIFETIME:
        t += dt.timedelta(hours=6)
        assert who(engine, token, t) == "office"
        with session_scope(engine) as s:
            touch_session(s, token, t)
    assert who(engine, token, NOW + LIFETIME) is None


def test_the_idle_clock_is_written_every_few_minutes_not_every_request(engine, user):
    token = new_session(engine, user)
    with Session(engine) as s:
        assert not session_user(s, token, NOW + dt.timedelta(minutes=4), idle=IDLE, lifetime=LIFETIME).stale
        assert session_user(s, token, NOW + dt.timedelta(minutes=5), idle=IDLE, lifetime=LIFETIME).stale


def test_one_statement_a_request(engine, user):
    token = new_session(engine, user)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with Session(engine) as s:
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert session_user(s, token, NOW, idle=IDLE, lifetime=LIFETIME).user.username == "office"
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements


def test_a_new_password_and_disabling_end_every_session(engine, user):
    first, second = new_session(engine, user), new_session(engine, user)
    with session_scope(engine) as s:
        accounts.set_password(s, accounts.find_user(s, "office"), "another-pass-1")
    assert who(engine, first, NOW) is None and who(engine, second, NOW) is None
    third = new_session(engine, user)
    with session_scope(engine) as s:
        accounts.set_active(s, accounts.find_user(s, "office"), True)
    assert who(engine, third, NOW) == "office"  # enabling ends nothing
    with session_scope(engine) as s:
        accounts.set_active(s, accounts.find_user(s, "office"), False)
    assert who(engine, third, NOW) is None
    with Session(engine) as s:
        assert s.exec(select(WebSession)).all() == []


def test_expired_sessions_are_purged_with_the_tokens(engine, user, monkeypatch):
    old = new_session(engine, user, NOW - dt.timedelta(days=8))
    idle = new_session(engine, user, NOW - dt.timedelta(hours=9))
    live = new_session(engine, user, NOW - dt.timedelta(hours=1))
    with session_scope(engine) as s:
        assert purge_expired_sessions(s, NOW) == 2
        assert accounts.purge_expired_tokens(s, NOW) == 0
    assert [who(engine, t, NOW) for t in (old, idle, live)] == [None, None, "office"]


def test_an_api_token_costs_one_statement_too(engine, user):
    from tracker.accounts.service import issue_token, verify_token

    with session_scope(engine) as s:
        token, _ = issue_token(s, user, now=NOW)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with Session(engine) as s:
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert verify_token(s, token, now=NOW).username == "office"
            assert verify_token(s, token, now=NOW + dt.timedelta(hours=12)) is None  # expired
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements


def test_a_token_and_its_campaign_cost_one_statement(engine, user):
    """verify_token_in (api.deps.current_user on a campaign's path): the token's user and the
    path's campaign, its 提醒 section kept, in one statement; an unknown code gives no campaign."""
    from tracker.accounts.service import issue_token, verify_token_in
    from tracker.org.models import Campaign
    from tracker.org.queries import reminders_section

    with session_scope(engine) as s:
        token, _ = issue_token(s, user, now=NOW)
        code = s.get(Campaign, user.campaign_id).code
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with Session(engine) as s:
        event.listen(engine, "before_cursor_execute", count)
        try:
            found, campaign = verify_token_in(s, token, code, now=NOW)
            assert (found.username, campaign.id) == ("office", user.campaign_id)
            reminders_section(s, campaign.id)  # kept with the campaign: no statement
            assert len(statements) == 1, statements
            found, campaign = verify_token_in(s, token, "no-such-code", now=NOW)
            assert found.username == "office" and campaign is None
            assert verify_token_in(s, token, code, now=NOW + dt.timedelta(hours=12)) == (None, None)  # expired
            assert verify_token_in(s, "x" * 200, code, now=NOW) == (None, None)
        finally:
            event.remove(engine, "before_cursor_execute", count)
