"""The scheduler process: the clock that runs the sweep, the delivery, the dispatcher and the
weekly briefing slot. Exactly one runs per database.

APScheduler 3.11 (``AsyncIOScheduler``, time zone Asia/Shanghai), jobs stored in the tracker's own
database (``SQLAlchemyJobStore``, table ``apscheduler_jobs``, created by APScheduler on first
start), each job with a fixed id and ``replace_existing`` so a restart never duplicates one:

    deadline_sweep    every 5 minutes   tracker.reminders.sweep: queue the notices now owed
    deliver_messages  every minute      notifications.delivery.deliver_due: compose and send
    dispatch_events   every 30 seconds  flows.dispatcher.dispatch_pending: start reacting flows
    weekly_briefing   Monday 08:30      flows.briefing: last week's 调度通报, per campaign

Every job runs in a worker thread (async work with its own event loop there): a job that blocks —
Prefect starting its embedded server, a slow SMTP server — never stalls the clock, the other
jobs or the leader lock's checks. Jobs only claim due work and enqueue it; the work itself is
idempotent (unique notice keys, conditional claims), so a job run twice, or cut short by a
crash, costs nothing. The weekly job records ``briefing.due`` (one per campaign and calendar
week, naming the week before) in the event log, then runs a dispatch pass that starts
``flows.briefing.weekly_briefing_flow`` for each (in this process, or as a deployment run for the
workers). Should the process die in between, the event waits undispatched and the next dispatch
pass starts the flow: no week is lost, and none is briefed twice (the flow keeps a week's number
and queues its mail once per recipient).

Leadership. Before starting, the process takes the leader lock: on PostgreSQL an advisory lock
(``pg_try_advisory_lock``) held by a dedicated connection, on SQLite an ``fcntl`` lock on a file
next to the database file. Both vanish with the process that holds them, however it dies
(SIGKILL included), so there is no lease to expire. A second process logs "另一个调度进程正在运行，
等待中" and polls until the lock is free, then takes over. A leader that loses its lock (the
PostgreSQL connection dropped) stops its jobs and goes back to waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

from tracker.calendar import CHINA, load_calendar
from tracker.org.models import Campaign
from tracker.db import get_engine, session_scope, utcnow
from tracker.events.models import Event
from tracker.events.service import record_event
from tracker.settings import get_settings
from tracker.errors import ErrorKind, JunhengError

try:  # POSIX only (Linux is what we run and test on); Windows has no fcntl and is not supported
    import fcntl
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    fcntl = None

log = logging.getLogger("junheng.scheduler")

SCHEDULER_ACTOR = "调度器"
JOB_TABLE = "apscheduler_jobs"
WAITING_MESSAGE = "另一个调度进程正在运行，等待中"
# one advisory lock key for the whole application (PostgreSQL advisory locks are per database)
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"junheng.scheduler.leader").digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class Cadence:
    """How often the interval jobs run (seconds); the briefing is Monday 08:30."""

    sweep: float = 300.0
    deliver: float = 60.0
    dispatch: float = 30.0


# ---------------------------------------------------------------------------------------------
# the jobs (module-level functions: the job store keeps them by their import path)


def _url() -> str:
    return get_settings().database_url_resolved


def deadline_sweep() -> None:
    """Queue the notices the ladder owes now (runs in a worker thread: the sweep is synchronous)."""
    from tracker.reminders.sweep import sweep

    engine = get_engine(_url())
    with Session(engine, expire_on_commit=False) as session:
        calendar = load_calendar(session)  # holiday notices imported since the last run count at once
        report = sweep(session, utcnow(), calendar=calendar)
    if report.tasks:
        log.info("提醒扫描：%d 项任务到了提醒时间，新排队通知 %d 条", report.tasks, report.queued)
    for problem in report.problems:
        log.warning(problem)


def deliver_messages() -> None:
    """Compose owed notices into messages and send what is due."""
    from notifications.delivery import deliver_due

    report = asyncio.run(deliver_due(get_engine(_url()), utcnow()))
    if report.attempted or report.composed:
        log.info("邮件投递：新组成 %d 封，发出 %d 封，失败 %d 封，放弃 %d 封",
                 report.composed, len(report.sent), len(report.failed), len(report.dead))


def dispatch_events() -> None:
    """Start the flows that react to recorded events (flows.dispatcher)."""
    from flows.dispatcher import dispatch_pending

    report = asyncio.run(dispatch_pending(get_engine(_url())))
    if report.claimed:
        log.info("事件分发：处理事件 %d 条，启动流程 %d 次，失败 %d 次",
                 len(report.claimed), report.started, report.failed)


def record_briefings_due(now: dt.datetime | None = None) -> int:
    """Record ``briefing.due`` for every campaign once per calendar week, naming the week before
    (the one its briefing covers); returns how many were recorded. A campaign created this week
    has no week before (its 第1期 is this week, issued next Monday) and is left out."""
    from tracker.briefings.compute import previous_week

    now = now or utcnow()
    local = now.astimezone(CHINA)
    monday = local.date() - dt.timedelta(days=local.weekday())
    week_start = dt.datetime.combine(monday, dt.time(0, 0), tzinfo=CHINA)
    recorded = 0
    with session_scope(get_engine(_url())) as session:
        calendar = load_calendar(session)
        for campaign in session.exec(select(Campaign).order_by(Campaign.id)):
            already = session.exec(select(Event.id).where(
                Event.campaign_id == campaign.id, Event.type == "briefing.due", Event.at >= week_start)).first()
            if already is not None or campaign.created_at >= week_start:
                continue
            record_event(session, type="briefing.due", actor=SCHEDULER_ACTOR, campaign_id=campaign.id, payload={
                "week": previous_week(now), "monday": monday.isoformat(),
                "working_day": calendar.is_working_day(local.date()),
            }, at=now)
            recorded += 1
    if recorded:
        log.info("周报时间：已为 %d 个创建工作登记上周调度通报（briefing.due）", recorded)
    return recorded


def weekly_briefing(now: dt.datetime | None = None) -> int:
    """Monday 08:30: start the briefing flow for last week in every campaign — through the
    ``briefing.due`` events and a dispatch pass; returns how many briefings were recorded due."""
    from flows.dispatcher import dispatch_pending

    recorded = record_briefings_due(now)
    report = asyncio.run(dispatch_pending(get_engine(_url())))
    if report.claimed:
        log.info("调度通报：处理事件 %d 条，启动流程 %d 次，失败 %d 次",
                 len(report.claimed), report.started, report.failed)
    return recorded


def purge_tokens() -> None:
    """Daily: delete expired API tokens (refused anyway, but their rows would stay for ever)."""
    from tracker.accounts.service import purge_expired_tokens

    with session_scope(get_engine(_url())) as session:
        purged = purge_expired_tokens(session, utcnow())
    if purged:
        log.info("清理过期的接口令牌 %d 个", purged)


def _draining_executor():
    """APScheduler's asyncio executor (sync jobs in the loop's thread pool) that can also wait for
    the jobs still running. Its own ``shutdown`` only cancels their futures, which stops nothing
    in a thread: a leader must let its jobs finish before it gives up the lock, or for a moment
    two processes would be working."""
    from apscheduler.executors.asyncio import AsyncIOExecutor

    class DrainingExecutor(AsyncIOExecutor):
        async def drain(self, timeout: float) -> bool:
            """Wait up to ``timeout`` seconds for the running jobs; True when none is left."""
            pending = [f for f in getattr(self, "_pending_futures", ()) if not f.done()]
            if not pending:
                return True
            log.info("等待正在运行的 %d 个调度任务结束……", len(pending))
            _, still = await asyncio.wait(pending, timeout=timeout)
            return not still

    return DrainingExecutor()


def build_scheduler(url: str, cadence: Cadence = Cadence(), executor=None):
    """The scheduler with its five jobs, stored in the tracker database (not started).
    ``executor``: the default executor, e.g. ``_draining_executor()`` (the process keeps it to
    wait for running jobs)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=get_engine(url), tablename=JOB_TABLE)},
        executors={"default": executor if executor is not None else _draining_executor()},
        # a run missed while the process was down runs once when it is back (coalesce), however late
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=CHINA,
    )
    jobs = [
        ("deadline_sweep", deadline_sweep, IntervalTrigger(seconds=cadence.sweep, timezone=CHINA), "提醒扫描"),
        ("deliver_messages", deliver_messages, IntervalTrigger(seconds=cadence.deliver, timezone=CHINA), "邮件投递"),
        ("dispatch_events", dispatch_events, IntervalTrigger(seconds=cadence.dispatch, timezone=CHINA), "事件分发"),
        ("weekly_briefing", weekly_briefing, CronTrigger(day_of_week="mon", hour=8, minute=30, timezone=CHINA),
         "周报时间"),
        ("purge_tokens", purge_tokens, CronTrigger(hour=3, minute=15, timezone=CHINA), "清理过期令牌"),
    ]
    for job_id, func, trigger, name in jobs:
        scheduler.add_job(func, trigger, id=job_id, name=name, replace_existing=True)
    return scheduler


# ---------------------------------------------------------------------------------------------
# the leader lock


class LeaderLock(Protocol):
    def acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...
    def holder(self) -> str: ...


def _me() -> str:
    return f"进程 {os.getpid()}@{socket.gethostname()}"


class PostgresLeaderLock:
    """``pg_try_advisory_lock`` on a connection of its own, outside any pool: the lock lives
    exactly as long as that connection (the server frees it when the process dies).
    pg_locks shows a bigint key as classid (high 32 bits) and objid (low 32 bits); shifting
    classid back wraps like the signed key does, so the two compare equal."""

    def __init__(self, url: str, key: int = ADVISORY_KEY) -> None:
        self.key = key
        self.engine = create_engine(url, poolclass=NullPool,
                                    connect_args={"application_name": f"junheng-scheduler {_me()}"[:63]})
        self.conn: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self.conn is None:
                self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception as exc:  # noqa: BLE001 — the database is unreachable: keep waiting
            log.warning("无法连接数据库以获取调度锁：%s", exc)
            self._drop()
            return False

    def still_held(self) -> bool:
        if self.conn is None:
            return False
        try:
            return bool(self.conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :k"),
                {"k": self.key}).scalar())
        except Exception:  # noqa: BLE001 — connection lost: so is the lock
            self._drop()
            return False

    def holder(self) -> str:
        try:
            with self.engine.connect() as conn:
                name = conn.execute(text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k LIMIT 1"),
                    {"k": self.key}).scalar()
            return name or "未知进程"
        except Exception:  # noqa: BLE001
            return "未知进程"

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except Exception:  # noqa: BLE001 — closing the connection frees it anyway
                pass
        self._drop()

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001
                pass
        self.conn = None


class FileLeaderLock:
    """An exclusive ``flock`` on ``<database file>.scheduler.lock``. The kernel drops it when the
    holder dies. The file also names the holder, for the waiting process's message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{_me()}，自 {dt.datetime.now(CHINA):%Y-%m-%d %H:%M:%S}\n".encode())
        self.fd = fd
        return True

    def still_held(self) -> bool:
        # someone deleting the file would let a second process lock a new one: then we yield
        if self.fd is None:
            return False
        try:
            return os.stat(self.path).st_ino == os.fstat(self.fd).st_ino
        except FileNotFoundError:
            return False

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "未知进程"
        except OSError:
            return "未知进程"

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class SchedulerSetupError(JunhengError, kind=ErrorKind.unsupported):
    """A database the scheduler cannot lead (Chinese message)."""


def leader_lock_for(url: str) -> LeaderLock:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLeaderLock(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SchedulerSetupError("调度进程需要数据库文件：内存中的 SQLite 数据库无法在进程之间共享。")
        if fcntl is None:
            raise SchedulerSetupError("调度进程的文件锁需要 Linux 等 POSIX 系统（fcntl）：本系统不支持 Windows，"
                                      "请在 Linux 上运行。")
        return FileLeaderLock(Path(parsed.database + ".scheduler.lock"))
    raise SchedulerSetupError(f"调度进程不支持数据库「{parsed.get_backend_name()}」：请使用 PostgreSQL 或 SQLite。")


# ---------------------------------------------------------------------------------------------
# the process


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def run_scheduler(stop: asyncio.Event, *, url: str | None = None, cadence: Cadence = Cadence(),
                        poll_seconds: float = 5.0, check_seconds: float = 15.0,
                        drain_seconds: float = 120.0) -> None:
    """Wait for the leader lock, then run the jobs until ``stop`` is set (or the lock is lost,
    then wait again). On the way out, also when cancelled, it lets running jobs finish (up to
    ``drain_seconds``) before it releases the lock."""
    url = url or _url()
    lock = leader_lock_for(url)
    waiting_said = False
    try:
        while not stop.is_set():
            if not lock.acquire():
                if not waiting_said:
                    log.warning("%s（持有调度锁的是：%s）", WAITING_MESSAGE, lock.holder())
                    waiting_said = True
                await _wait(stop, poll_seconds)
                continue
            waiting_said = False
            log.info("已获得调度锁，开始调度（%s）", _me())
            executor = _draining_executor()
            scheduler = build_scheduler(url, cadence, executor)
            scheduler.start()
            try:
                while not stop.is_set():
                    await _wait(stop, check_seconds)
                    if not stop.is_set() and not lock.still_held():
                        log.error("调度锁已丢失（数据库连接中断？），停止调度，重新等待")
                        break
            finally:
                await _stop_jobs(scheduler, executor, drain_seconds)
                lock.release()
    finally:
        lock.release()


async def _stop_jobs(scheduler, executor, drain_seconds: float) -> None:
    """Start no new job, let the running ones finish (up to ``drain_seconds``), then shut down.
    Only then may the lock go: a job still running after it would overlap the next leader's."""
    scheduler.pause()
    try:
        finished = await asyncio.shield(executor.drain(drain_seconds))
    except asyncio.CancelledError:  # cancelled while waiting: shut down all the same
        finished = False
    if not finished:
        log.error("调度任务在 %.0f 秒内未结束，仍然停止调度（任务本身可重复执行，不会重复发送）", drain_seconds)
    scheduler.shutdown(wait=False)


def run_forever(*, url: str | None = None, cadence: Cadence = Cadence(), poll_seconds: float = 5.0,
                check_seconds: float = 15.0) -> None:
    """Run in the foreground until Ctrl-C or SIGTERM; both shut down cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_scheduler(stop, url=url, cadence=cadence, poll_seconds=poll_seconds, check_seconds=check_seconds)

    asyncio.run(main())
