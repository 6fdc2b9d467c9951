"""The scheduler lease (tracker.leadership), on SQLite and PostgreSQL, with explicit times: one
holder at a time, renewals by the holder only, takeover once it has run out, and a replaced
holder's renewals and job confirmations refused."""

from __future__ import annotations

import datetime as dt
import threading

from tracker.leadership import service as leadership

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.timezone.utc)
LEASE = dt.timedelta(seconds=40)
NAME = leadership.SCHEDULER


def test_one_holder_until_the_lease_runs_out_then_the_other_takes_over(engine):
    assert leadership.current(engine, NAME) is None
    assert leadership.acquire(engine, NAME, "A", T0, LEASE)  # the first ever: creates the row
    assert not leadership.acquire(engine, NAME, "B", T0 + dt.timedelta(seconds=5), LEASE)
    assert leadership.acquire(engine, NAME, "A", T0 + dt.timedelta(seconds=10), LEASE)  # the heartbeat
    # A's last renewal ran to T0+50 s: B waits until then
    assert not leadership.acquire(engine, NAME, "B", T0 + dt.timedelta(seconds=49), LEASE)
    assert leadership.acquire(engine, NAME, "B", T0 + dt.timedelta(seconds=51), LEASE)
    state = leadership.current(engine, NAME)
    assert (state.holder, state.expires_at) == ("B", T0 + dt.timedelta(seconds=91))
    # A comes back (it was frozen): its renewal and its job confirmation are refused
    assert not leadership.acquire(engine, NAME, "A", T0 + dt.timedelta(seconds=52), LEASE)
    assert not leadership.confirm(engine, NAME, "A", T0 + dt.timedelta(seconds=52), "deadline_sweep")
    assert leadership.confirm(engine, NAME, "B", T0 + dt.timedelta(seconds=52), "deadline_sweep")
    state = leadership.current(engine, NAME)
    assert (state.holder, state.last_job, state.last_job_at) == ("B", "deadline_sweep", T0 + dt.timedelta(seconds=52))


def test_an_expired_lease_confirms_no_job_and_a_release_frees_it_at_once(engine):
    assert leadership.acquire(engine, NAME, "A", T0, LEASE)
    assert not leadership.confirm(engine, NAME, "A", T0 + LEASE, "deliver_messages")  # ran out: no job
    assert leadership.acquire(engine, NAME, "A", T0 + LEASE, LEASE)  # nobody took it: A renews
    assert not leadership.release(engine, NAME, "B")  # not B's to release
    assert leadership.release(engine, NAME, "A")
    assert leadership.acquire(engine, NAME, "B", T0 + LEASE + dt.timedelta(seconds=1), LEASE)
    assert leadership.current(engine, NAME).holder == "B"


def test_concurrent_takers_of_a_free_lease_one_wins(engine):
    """Eight threads try to take a free (and, the first time, missing) lease at the same moment."""
    for round_, now in enumerate((T0, T0 + dt.timedelta(minutes=5))):
        barrier = threading.Barrier(8)
        won: list[str] = []

        def take(who: str) -> None:
            barrier.wait()
            if leadership.acquire(engine, NAME, who, now, LEASE):
                won.append(who)

        threads = [threading.Thread(target=take, args=(f"P{round_}{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1
        assert leadership.current(engine, NAME).holder == won[0]

