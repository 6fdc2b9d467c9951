"""Slowing down password guessing (tracker.accounts.throttle): decided before the password is
checked, per user name as typed and source address, the same for names that do not exist."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlmodel import Session, select

from tests.tracker.accounts.conftest import PASSWORD
from tracker.accounts import service as accounts
from tracker.accounts import throttle
from tracker.accounts.models import OVERALL, LoginThrottle
from tracker.db import session_scope

NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.timezone.utc)


class CountingHasher:
    """The real hasher, counting the password checks (the argon2 work a guess costs)."""

    def __init__(self, real):
        self.real = real
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, hashed, password):
        with self._lock:
            self.checks += 1
        return self.real.verify(hashed, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def counted(monkeypatch) -> CountingHasher:
    from argon2 import PasswordHasher

    # dearer than the other tests' hasher: a check takes long enough for the guesses to overlap
    hasher = CountingHasher(PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1))
    monkeypatch.setattr(accounts, "HASHER", hasher)
    monkeypatch.setattr(accounts, "_dummy_hash", None)
    return hasher


def attempt(engine, username, password, source="10.0.0.1", now=NOW):
    with session_scope(engine) as session:
        return accounts.authenticate(session, username, password, source=source, now=now)


@pytest.mark.parametrize("username", ["office", "no-such-user"])
def test_forty_concurrent_guesses_check_at_most_the_free_ones(engine, user, counted, username):
    """The attack of issue 11: a burst of concurrent guesses. Each guess has its own connection;
    they start together. Only FREE_FAILURES passwords may be checked, known name or not."""
    accounts._burn_time("warm")  # the dummy hash is made once, outside the count
    counted.checks = 0
    n = 40
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def guess(i: int) -> None:
        try:
            barrier.wait()
            results[i] = attempt(engine, username, f"guess-{i}")
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert counted.checks == throttle.FREE_FAILURES
    refused = [r for r in results if r.retry_after is not None and "过多" in r.message]
    assert len(refused) >= n - throttle.FREE_FAILURES
    assert not any(r.ok for r in results)
    with Session(engine) as s:
        assert s.get(LoginThrottle, (username, "10.0.0.1")).failed_count == throttle.FREE_FAILURES


def test_the_right_password_in_a_burst_is_refused_once_the_free_ones_are_spent(engine, user, counted):
    """The right password sent after the free guesses (11th or 16th, as in the report) is not
    even checked: the attempt is refused by the count, whatever it holds."""
    for i in range(throttle.FREE_FAILURES):
        attempt(engine, "office", f"guess-{i}")
    checks = counted.checks
    result = attempt(engine, "office", PASSWORD)
    assert not result.ok and result.retry_after == throttle.lock_seconds(throttle.FREE_FAILURES)
    assert counted.checks == checks


def test_unknown_and_known_names_get_the_same_answers_and_locks(engine, user):
    def answers(name):
        return [(r.ok, r.message, r.retry_after) for r in
                (attempt(engine, name, "wrong-guess", now=NOW + dt.timedelta(seconds=i)) for i in range(7))]

    known, unknown = answers("office"), answers("nobody-here")
    assert known == unknown
    assert known[0] == (False, accounts.WRONG_PASSWORD, None) and known[4][2] == 30 and known[6][2] == 28  # locked at +4 s for 30 s, asked at +6 s


def test_the_lock_is_per_name_and_address(engine, user):
    for _ in range(throttle.FREE_FAILURES):
        attempt(engine, "office", "wrong-guess", source="203.0.113.9")
    assert attempt(engine, "office", PASSWORD, source="203.0.113.9").retry_after is not None
    assert attempt(engine, "office", PASSWORD, source="10.1.2.3").ok  # the user at the office
    # and the success there took back the overall count, not the guesser's lock
    with Session(engine) as s:
        assert s.get(LoginThrottle, ("office", OVERALL)).failed_count == 0
        assert s.get(LoginThrottle, ("office", "203.0.113.9")).locked_until is not None


def test_the_lock_grows_and_passes(engine, user):
    for _ in range(throttle.FREE_FAILURES):
        last = attempt(engine, "office", "wrong-guess")
    assert last.retry_after == 30
    later = NOW + dt.timedelta(seconds=30)
    assert attempt(engine, "office", "wrong-guess", now=later).retry_after == 60  # the 6th failure
    assert attempt(engine, "office", PASSWORD, now=later + dt.timedelta(seconds=59)).retry_after == 1
    assert attempt(engine, "office", PASSWORD, now=later + dt.timedelta(seconds=60)).ok
    assert attempt(engine, "office", "wrong-guess", now=later + dt.timedelta(seconds=61)).retry_after is None


def test_many_addresses_slow_the_name_down_to_one_check_a_minute(engine, user, counted):
    """A guesser with many addresses: after OVERALL_FREE_FAILURES failures in all, one check a
    minute for the name, from anywhere (the real user waits a minute at most)."""
    for i in range(throttle.OVERALL_FREE_FAILURES):
        result = attempt(engine, "office", "wrong-guess", source=f"198.51.100.{i}")
    assert result.retry_after == throttle.OVERALL_SPACING_SECONDS
    checks = counted.checks
    fresh = attempt(engine, "office", PASSWORD, source="10.1.2.3", now=NOW + dt.timedelta(seconds=59))
    assert fresh.retry_after == 1 and counted.checks == checks  # refused unchecked, right password or not
    minute = NOW + dt.timedelta(seconds=60)
    assert attempt(engine, "office", "wrong-guess", source="198.51.100.200", now=minute).retry_after == 60
    assert attempt(engine, "office", PASSWORD, source="10.1.2.3", now=minute).retry_after == 60
    assert attempt(engine, "office", PASSWORD, source="10.1.2.3", now=minute + dt.timedelta(seconds=60)).ok


def test_a_disabled_user_with_the_right_password_keeps_the_count(engine, user):
    with session_scope(engine) as s:
        accounts.set_active(s, accounts.find_user(s, "office"), False)
    result = attempt(engine, "office", PASSWORD)
    assert not result.ok and "停用" in result.message
    with Session(engine) as s:
        assert s.get(LoginThrottle, ("office", "10.0.0.1")).failed_count == 1


def test_counters_are_forgotten_a_day_after_the_last_failure(engine, user):
    attempt(engine, "office", "wrong-guess")
    for _ in range(throttle.FREE_FAILURES):
        attempt(engine, "ghost", "wrong-guess", now=NOW + dt.timedelta(hours=23, minutes=50))
    with session_scope(engine) as s:
        purged = throttle.purge_stale(s, NOW + dt.timedelta(days=1))
    assert purged == 2  # office's two rows; ghost's are recent (and locked)
    with Session(engine) as s:
        assert {(r.username, r.source) for r in s.exec(select(LoginThrottle))} == {
            ("ghost", "10.0.0.1"), ("ghost", OVERALL)}


def test_user_list_shows_the_failures(engine, user, db_url):
    from typer.testing import CliRunner

    from junheng.cli import app

    for _ in range(3):
        attempt(engine, "office", "wrong-guess")
    r = CliRunner().invoke(app, ["user", "list"])
    assert r.exit_code == 0, r.output
    assert "连续失败 3 次" in r.output
