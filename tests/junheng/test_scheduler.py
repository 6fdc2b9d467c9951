"""The scheduler: its jobs (ids, triggers, stored in the tracker database), the weekly briefing
slot, and leadership between real processes — one works, the other waits, and takes over when
the first is killed or frozen; a frozen leader that comes back steps down and runs no job."""

from __future__ import annotations

import datetime as dt
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import time_machine
import sqlalchemy as sa
from sqlmodel import Session, func, select

from junheng.scheduler import (
    WAITING_MESSAGE,
    Cadence,
    build_scheduler,
    SchedulerLease,
    deadline_sweep,
    purge_tokens,
    record_briefings_due,
)
from tests.factories_db import build_world
from tracker.calendar import CHINA, reset_active_calendar
from tracker.db import get_engine
from tracker.events.models import Event
from tracker.leadership import service as leadership
from tests.tracker.reminders.test_sweep import expand_all
from tracker.notices.models import NoticeItem, OwedNotice
from tracker.tasks.models import TaskOrigin
from tracker.tasks.service import create_task

ROOT = Path(__file__).resolve().parents[2]
JOB_IDS = {"deadline_sweep", "deliver_messages", "dispatch_events", "weekly_briefing", "purge_tokens",
           "follow_flow_runs", "check_gates"}


@pytest.fixture(autouse=True)
def _library_calendar():
    reset_active_calendar()
    yield
    reset_active_calendar()


def stored_jobs(url: str) -> list[str]:
    with get_engine(url).connect() as conn:
        return sorted(conn.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars())


async def test_jobs_have_fixed_ids_are_stored_in_the_database_and_are_never_duplicated(db_url):
    scheduler = build_scheduler(db_url, Cadence(sweep=300, deliver=60, dispatch=30))
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == JOB_IDS
        assert str(scheduler.timezone) == "Asia/Shanghai"
        assert jobs["deadline_sweep"].trigger.interval == dt.timedelta(minutes=5)
        assert jobs["deliver_messages"].trigger.interval == dt.timedelta(minutes=1)
        assert jobs["dispatch_events"].trigger.interval == dt.timedelta(seconds=30)
        monday = jobs["weekly_briefing"].next_run_time.astimezone(CHINA)
        assert (monday.weekday(), monday.hour, monday.minute) == (0, 8, 30)
        nightly = jobs["purge_tokens"].next_run_time.astimezone(CHINA)
        assert (nightly.hour, nightly.minute) == (3, 15)
    finally:
        scheduler.shutdown(wait=False)
    assert stored_jobs(db_url) == sorted(JOB_IDS)

    again = build_scheduler(db_url, Cadence(sweep=120))  # a restart with another cadence replaces, never adds
    again.start(paused=True)
    try:
        assert again.get_job("deadline_sweep").trigger.interval == dt.timedelta(minutes=2)
    finally:
        again.shutdown(wait=False)
    assert stored_jobs(db_url) == sorted(JOB_IDS)


def test_weekly_briefing_slot_records_one_event_per_campaign_and_week(engine):
    """The Monday job's first half: ``briefing.due`` once per campaign and week, naming the week
    before (the one the briefing covers); a retried run of the same slot records nothing; a campaign
    created this week has no week before and waits for next Monday."""
    monday = dt.datetime(2026, 11, 23, 8, 30, tzinfo=CHINA)
    for code, created in (("a", monday - dt.timedelta(days=10)), ("b", monday - dt.timedelta(days=10)),
                          ("c", monday - dt.timedelta(minutes=30))):  # c: created this week, no week before
        with time_machine.travel(created, tick=False):
            with Session(engine) as session:
                build_world(session, code)
                session.commit()
    assert record_briefings_due(monday) == 2
    assert record_briefings_due(monday + dt.timedelta(hours=3)) == 0
    assert record_briefings_due(monday + dt.timedelta(days=7)) == 3
    with Session(engine) as session:
        events = session.exec(select(Event).where(Event.type == "briefing.due").order_by(Event.id)).all()
    assert [e.payload["week"] for e in events] == ["2026-W47", "2026-W47", "2026-W48", "2026-W48", "2026-W48"]


def test_deadline_sweep_job_queues_what_is_owed(engine):
    with Session(engine) as session:
        world = build_world(session)
        create_task(session, campaign=world.campaign, phase=world.phases["self_check"], title="落实经费",
                    measures="", origin=TaskOrigin.plan, origin_key="P1", due_on=dt.date(2026, 12, 30),
                    department=world.departments["财政局"])
        session.commit()
    deadline_sweep()
    with Session(engine) as session:
        expand_all(session)  # as the composer does when the window opens
        items = session.exec(select(NoticeItem)).all()
    assert [(i.rung, i.recipient_name) for i in items] == [("assigned", "李科长")]


def test_purge_tokens_job_deletes_only_expired_tokens(engine):
    from tracker.accounts.models import ApiToken
    from tracker.accounts.service import create_user, issue_token

    now = dt.datetime(2026, 12, 7, 3, 15, tzinfo=CHINA)
    with Session(engine) as session:
        world = build_world(session)
        user = create_user(session, world.campaign, {"username": "wang", "password": "secret-12345",
                                                     "role": "office", "person": "王主任"})
        issue_token(session, user, now=now - dt.timedelta(days=40), lifetime=dt.timedelta(days=30))  # expired
        issue_token(session, user, now=now - dt.timedelta(hours=1), lifetime=dt.timedelta(hours=1))  # just now
        _, kept = issue_token(session, user, now=now, lifetime=dt.timedelta(days=30))
        session.commit()
        kept_id = kept.id
    with time_machine.travel(now, tick=False):
        purge_tokens()
        purge_tokens()  # nothing left to purge: changes nothing
    with Session(engine) as session:
        assert [t.id for t in session.exec(select(ApiToken))] == [kept_id]


LEASE_T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.timezone.utc)

def test_a_leader_rides_out_a_database_hiccup_only_while_its_lease_lasts(db_url, monkeypatch):
    """The heartbeat failing with a database error: the leader keeps leading until the end of the
    lease it last set (nobody else can take it before), then gives up; a waiting process never
    counts an error as success."""
    leader, waiting = SchedulerLease(db_url, lease_seconds=40), SchedulerLease(db_url, lease_seconds=40)
    with time_machine.travel(LEASE_T0, tick=False):
        assert leader.acquire()

    def down(*args, **kwargs):
        raise ConnectionError("数据库连接中断")

    monkeypatch.setattr(leadership, "acquire", down)
    with time_machine.travel(LEASE_T0 + dt.timedelta(seconds=10), tick=False):
        assert leader.acquire()  # within the lease: still leading
        assert not waiting.acquire()
    with time_machine.travel(LEASE_T0 + dt.timedelta(seconds=41), tick=False):
        assert not leader.acquire()  # past it: stops


# ---------------------------------------------------------------------------------------------
# two real scheduler processes


# short lease settings for the real-process tests (production: a 40 s lease, renewed every 10 s)
LEASE_ENV = {"JUNHENG_SCHEDULER_LEASE_SECONDS": "3", "JUNHENG_SCHEDULER_HEARTBEAT_SECONDS": "0.5"}
JOB_RAN = "JOB-RAN"
# the child process marks every real start of the sweep job on stderr (after the lease check)
TRACED_CLI = (
    "import sys, junheng.scheduler as s\n"
    "real = s.deadline_sweep\n"
    "def traced():\n"
    f"    print('{JOB_RAN}', file=sys.stderr, flush=True)\n"
    "    real()\n"
    "s.deadline_sweep = traced\n"
    "from junheng.cli import app; app()\n"
)


class SchedulerProcess:
    """``junheng scheduler`` in a subprocess, its log lines collected as they come."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TRACED_CLI, "scheduler", "--poll", "0.3",
             "--sweep-every", "1", "--deliver-every", "3600", "--dispatch-every", "3600"],
            cwd=ROOT, env={**os.environ, **LEASE_ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line.rstrip())

    def wait_for(self, text: str, timeout: float = 90.0, after: int = 0) -> str:
        """The first line (from line number ``after`` on) that contains ``text``."""
        deadline = time.monotonic() + timeout
        for line in self.seen[after:]:
            if text in line:
                return line
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no「{text}」in the scheduler's output: {self.seen}")

    def drain(self) -> list[str]:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


def add_task(engine, key: str) -> int:
    with Session(engine) as session:
        world = build_world(session, code=key)
        task = create_task(session, campaign=world.campaign, phase=world.phases["self_check"], title=f"任务 {key}",
                           measures="", origin=TaskOrigin.plan, origin_key=key, due_on=dt.date(2027, 3, 1),
                           department=world.departments["财政局"])
        session.commit()
        return task.id


def wait_for_notice(engine, task_id: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if session.exec(select(func.count()).select_from(OwedNotice).where(OwedNotice.task_id == task_id)).one():
                return
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} was not swept")


def test_two_schedulers_one_works_the_other_waits_and_takes_over(db_url, engine):
    first = SchedulerProcess()
    second = None
    try:
        first.wait_for("已获得调度租约")
        second = SchedulerProcess()
        second.wait_for(WAITING_MESSAGE)

        wait_for_notice(engine, add_task(engine, "A"))  # the leader sweeps
        assert not any("已获得调度租约" in line for line in second.drain())
        assert not any(JOB_RAN in line for line in second.drain())

        first.proc.send_signal(signal.SIGKILL)  # the leader dies without a word
        first.proc.wait(timeout=30)
        second.wait_for("已获得调度租约")  # once the lease has run out
        wait_for_notice(engine, add_task(engine, "B"))  # the new leader sweeps

        second.proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        second.wait_for("调度进程已停止")
        assert second.proc.wait(timeout=30) == 0
        assert SchedulerLease(db_url).acquire()  # and the lease is free again at once
    finally:
        first.stop()
        if second is not None:
            second.stop()


_JOB_STARTED = threading.Event()
_JOB_FINISHED = threading.Event()


def _slow_sweep() -> None:
    """Stands in for the deadline sweep: a job still running when the stop comes."""
    _JOB_STARTED.set()
    time.sleep(1.5)
    _JOB_FINISHED.set()


async def test_a_stopping_leader_lets_its_running_job_finish_before_it_gives_up_the_lease(db_url, monkeypatch):
    """Ctrl-C while a job runs in its thread: the lease goes only after the job has finished, so
    the next leader's jobs never overlap it (and no cancelled-job error is logged)."""
    import asyncio

    import junheng.scheduler as scheduler_module

    _JOB_STARTED.clear()
    _JOB_FINISHED.clear()
    released_after_job: list[bool] = []

    class WatchedLease(SchedulerLease):
        def release(self) -> None:
            if not released_after_job:
                released_after_job.append(_JOB_FINISHED.is_set())
            super().release()

    monkeypatch.setattr(scheduler_module, "SchedulerLease", WatchedLease)
    monkeypatch.setattr(scheduler_module, "deadline_sweep", _slow_sweep)
    stop = asyncio.Event()
    runner_task = asyncio.create_task(scheduler_module.run_scheduler(
        stop, url=db_url, cadence=Cadence(sweep=0.5, deliver=3600, dispatch=3600), heartbeat_seconds=0.2))
    for _ in range(200):
        if _JOB_STARTED.is_set():
            break
        await asyncio.sleep(0.05)
    assert _JOB_STARTED.is_set(), "the job never ran"
    assert not _JOB_FINISHED.is_set()
    stop.set()
    await asyncio.wait_for(runner_task, timeout=30)
    assert released_after_job == [True]
    assert SchedulerLease(db_url).acquire()  # free again


def test_a_job_confirms_the_lease_first_and_does_nothing_once_another_process_holds_it(db_url, monkeypatch):
    """The guard every job goes through: while this process holds the lease the job runs (and the
    lease row records it); once another process has taken the lease over (this one was frozen
    past its expiry), the job returns before doing anything."""
    import junheng.scheduler as scheduler_module

    ran: list[str] = []
    monkeypatch.setattr(scheduler_module, "deadline_sweep", lambda: ran.append("sweep"))
    mine = SchedulerLease(db_url, lease_seconds=30)
    assert mine.acquire()
    monkeypatch.setattr(scheduler_module, "_LEADING", mine)
    scheduler_module.run_job("deadline_sweep")
    assert ran == ["sweep"]
    state = leadership.current(mine.engine, leadership.SCHEDULER)
    assert (state.holder, state.last_job) == (mine.me, "deadline_sweep")

    # the lease runs out while we are frozen, and another process takes it
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=31)
    assert leadership.acquire(mine.engine, leadership.SCHEDULER, "另一进程", later - dt.timedelta(seconds=1),
                              dt.timedelta(seconds=60))
    scheduler_module.run_job("deadline_sweep")
    assert ran == ["sweep"]  # not run again
    assert not mine.acquire()  # and the heartbeat fails: the process steps down
    scheduler_module.run_job("no_such_job")  # an unknown id in the job store is refused, not run
    assert ran == ["sweep"]


def test_a_frozen_leader_is_replaced_and_when_resumed_steps_down_without_running_a_job(db_url, engine):
    """Two real schedulers (lease 3 s, heartbeat 0.5 s). SIGSTOP the leader: the other takes over
    once the lease has run out (within a minute; here seconds). SIGCONT the old one: it finds its
    lease taken, steps down and goes back to waiting, and its sweep job never starts again."""
    first = SchedulerProcess()
    second = None
    try:
        first.wait_for("已获得调度租约")
        first.wait_for(JOB_RAN)
        second = SchedulerProcess()
        second.wait_for(WAITING_MESSAGE)
        first_holder = leadership.current(engine, leadership.SCHEDULER).holder
        assert f"进程 {first.proc.pid}@" in first_holder

        first.proc.send_signal(signal.SIGSTOP)  # frozen: alive, holding everything it held
        frozen_at = len(first.drain())
        second.wait_for("已获得调度租约", timeout=60)
        taken_at = len(second.drain())
        state = leadership.current(engine, leadership.SCHEDULER)
        assert f"进程 {second.proc.pid}@" in state.holder
        second.wait_for(JOB_RAN, after=taken_at)
        wait_for_notice(engine, add_task(engine, "F"))  # the new leader works
        assert len(first.drain()) == frozen_at  # (the frozen one said nothing meanwhile)

        first.proc.send_signal(signal.SIGCONT)
        first.wait_for("已由另一进程接管", timeout=30, after=frozen_at)
        first.wait_for(WAITING_MESSAGE, timeout=30, after=frozen_at)  # back to waiting
        # let a few more sweeps pass on the new leader: the old one still starts none
        ran_before = sum(JOB_RAN in line for line in second.drain())
        deadline = time.monotonic() + 60
        while sum(JOB_RAN in line for line in second.drain()) < ran_before + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        after_resume = first.drain()[frozen_at:]
        assert not any(JOB_RAN in line for line in after_resume), after_resume
        assert first.proc.poll() is None and second.proc.poll() is None
        assert f"进程 {second.proc.pid}@" in leadership.current(engine, leadership.SCHEDULER).holder
    finally:
        if first.proc.poll() is None:
            first.proc.send_signal(signal.SIGCONT)
        first.stop()
        if second is not None:
            second.stop()
