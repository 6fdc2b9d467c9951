"""The scheduler process: the clock that runs the sweep, the delivery, the dispatcher and the
weekly briefing slot. Exactly one runs per database.

APScheduler 3.11 (``AsyncIOScheduler``, time zone Asia/Shanghai), jobs stored in the tracker's own
database (``SQLAlchemyJobStore``, table ``apscheduler_jobs``, created by APScheduler on first
start), each job with a fixed id and ``replace_existing`` so a restart never duplicates one:

    deadline_sweep    every 5 minutes   tracker.reminders.sweep: queue the notices now owed
    deliver_messages  every minute      notifications.delivery.deliver_due: compose and send
    dispatch_events   every 30 seconds  flows.dispatcher.dispatch_pending: start reacting flows
    weekly_briefing   Monday 08:30      flows.briefing: last week's 调度通报, per campaign
    follow_flow_runs  every minute      flows.followup: start again a flow run that failed, crashed
                                        or did not start within its bound (issue 16 §2)
    check_gates       every 10 minutes  flows.followup.check_gates: the gate of every active phase
                                        whose tasks are all closed (a safety net), then a dispatch

Every job runs in a worker thread (async work with its own event loop there): a job that blocks —
Prefect starting its embedded server, a slow SMTP server — never stalls the clock, the other
jobs or the lease's heartbeat. Jobs only claim due work and enqueue it; the work itself is
idempotent (unique notice keys, conditional claims), so a job run twice, or cut short by a
crash, costs nothing. The weekly job records ``briefing.due`` (one per campaign and calendar
week, naming the week before) in the event log, then runs a dispatch pass that starts
``flows.briefing.weekly_briefing_flow`` for each (in this process, or as a deployment run for the
workers). Should the process die in between, the event waits undispatched and the next dispatch
pass starts the flow: no week is lost, and none is briefed twice (the flow keeps a week's number
and queues its mail once per recipient).

Leadership is a lease in the database (``leader_lease``, tracker.leadership), the same on
PostgreSQL and SQLite: the leader renews it every heartbeat (``JUNHENG_SCHEDULER_HEARTBEAT_SECONDS``,
10 s) for the lease's length (``JUNHENG_SCHEDULER_LEASE_SECONDS``, 40 s) with one conditional
UPDATE (``… WHERE expires_at < now OR holder = me``). A second process logs "另一个调度进程正在
运行，等待中" and tries again every poll; it takes over once the lease has run out — a leader
killed, frozen (SIGSTOP) or cut off from the database is replaced within lease + poll (≤ 45 s by
default); a clean stop frees the lease at once. A leader frozen and replaced that comes back
finds its renewal refused and steps down; and since every job first confirms the lease
(``run_job``: holder = me and not expired, one UPDATE that also records the job), a job that
fires before that heartbeat does nothing either.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlmodel import Session

from tracker.calendar import load_calendar
from tracker.clock import zone
from tracker.db import get_engine, session_scope, utcnow
from tracker.events.service import record_event
from tracker.leadership import service as leadership
from tracker.settings import get_settings
from tracker.errors import ErrorKind, JunhengError

log = logging.getLogger("junheng.scheduler")

SCHEDULER_ACTOR = "调度器"
JOB_TABLE = "apscheduler_jobs"
WAITING_MESSAGE = "另一个调度进程正在运行，等待中"
# the jobs by id (also the names of the module-level functions run_job calls) and their Chinese names
JOB_NAMES = {"deadline_sweep": "提醒扫描", "deliver_messages": "邮件投递", "dispatch_events": "事件分发",
             "weekly_briefing": "周报时间", "purge_tokens": "清理过期令牌", "follow_flow_runs": "流程运行跟踪",
             "check_gates": "阶段验收巡检"}


@dataclass(frozen=True)
class Cadence:
    """How often the interval jobs run (seconds); the briefing is Monday 08:30."""

    sweep: float = 300.0
    deliver: float = 60.0
    dispatch: float = 30.0
    follow: float = 60.0
    gates: float = 600.0


# ---------------------------------------------------------------------------------------------
# the jobs (module-level functions: the job store keeps them by their import path)


def _url() -> str:
    return get_settings().database_url_resolved


def deadline_sweep() -> None:
    """Queue the notices the ladder owes now (runs in a worker thread: the sweep is synchronous)."""
    from tracker.clock import local_date
    from tracker.reminders.sweep import sweep
    from tracker.tasks.recurrence import roll_recurring

    engine = get_engine(_url())
    with Session(engine, expire_on_commit=False) as session:
        # a recurring task's next occurrence, once its period has started (issue 12)
        rolled = roll_recurring(session, local_date(utcnow()))
        session.commit()
        if rolled:
            log.info("重复任务：交办下一期 %d 项", len(rolled))
        calendar = load_calendar(session)  # holiday notices imported since the last run count at once
        report = sweep(session, utcnow(), calendar=calendar)
        from tracker.materials.notices import queue_materials_notices  # issue 13 §4

        materials = queue_materials_notices(session, utcnow(), calendar=calendar)
        session.commit()
    if materials:
        log.info("迎检资料缺项提醒：新排队 %d 条", materials)
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


def follow_flow_runs() -> None:
    """Start again the flow runs that failed, crashed or did not start in time (flows.followup)."""
    from flows.followup import follow_flow_runs as follow

    report = asyncio.run(follow(get_engine(_url())))
    if report.retried or report.given_up:
        log.info("流程运行跟踪：重新派发 %d 次，放弃 %d 次", len(report.retried), len(report.given_up))


def check_gates() -> None:
    """The safety net: check the gate of every active phase whose tasks are all closed, then run a
    dispatch pass (the phases it activated start their flows)."""
    from flows.dispatcher import dispatch_pending
    from flows.followup import check_gates as sweep_gates

    engine = get_engine(_url())
    sweep = sweep_gates(engine)
    passed = [r for r in sweep.results if r["newly_passed"]]
    if passed or sweep.started:
        log.info("阶段验收巡检：检查 %d 个阶段，通过 %d 个，按日期启动 %d 个", len(sweep.results), len(passed),
                 len(sweep.started))
        asyncio.run(dispatch_pending(engine))


def record_briefings_due(now: dt.datetime | None = None) -> int:
    """Record ``briefing.due`` for every campaign once per calendar week, naming the week before
    (the one its briefing covers); returns how many were recorded. A campaign created this week
    has no week before (its 第1期 is this week, issued next Monday) and is left out."""
    from tracker.briefings.compute import previous_week
    from tracker.briefings.queries import campaigns_owing_briefing_due

    now = now or utcnow()
    local = now.astimezone(zone())
    monday = local.date() - dt.timedelta(days=local.weekday())
    week_start = dt.datetime.combine(monday, dt.time(0, 0), tzinfo=zone())
    recorded = 0
    with session_scope(get_engine(_url())) as session:
        calendar = load_calendar(session)
        for campaign in campaigns_owing_briefing_due(session, week_start):
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
    in a thread: a leader must let its jobs finish before it gives up the lease, or for a moment
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
    """The scheduler with its seven jobs, stored in the tracker database (not started).
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
        timezone=zone(),
    )
    triggers = {
        "deadline_sweep": IntervalTrigger(seconds=cadence.sweep, timezone=zone()),
        "deliver_messages": IntervalTrigger(seconds=cadence.deliver, timezone=zone()),
        "dispatch_events": IntervalTrigger(seconds=cadence.dispatch, timezone=zone()),
        "weekly_briefing": CronTrigger(day_of_week="mon", hour=8, minute=30, timezone=zone()),
        "purge_tokens": CronTrigger(hour=3, minute=15, timezone=zone()),
        "follow_flow_runs": IntervalTrigger(seconds=cadence.follow, timezone=zone()),
        "check_gates": IntervalTrigger(seconds=cadence.gates, timezone=zone()),
    }
    # every job goes through run_job, which confirms the lease before the job does anything
    for job_id, trigger in triggers.items():
        scheduler.add_job(run_job, trigger, args=[job_id], id=job_id, name=JOB_NAMES[job_id], replace_existing=True)
    return scheduler



# ---------------------------------------------------------------------------------------------
# leadership: a lease in the database (tracker.leadership)


class SchedulerSetupError(JunhengError, kind=ErrorKind.unsupported):
    """A database the scheduler cannot lead (Chinese message)."""


# asyncio's signal handlers (the clean stop on SIGTERM/Ctrl-C) exist on POSIX systems only
SIGNALS_SUPPORTED = os.name == "posix"


def check_setup(url: str) -> None:
    """Refuse, before doing anything, a system without POSIX signals or a database that processes
    cannot share. (Leadership itself no longer depends on the system: it is a row in the database.)"""
    if not SIGNALS_SUPPORTED:
        raise SchedulerSetupError("调度进程需要 Linux 等 POSIX 系统（靠 POSIX 信号平稳停止）：本系统不支持 Windows，"
                                  "请在 Linux 上运行。")
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SchedulerSetupError("调度进程需要数据库文件：内存中的 SQLite 数据库无法在进程之间共享。")
    elif backend != "postgresql":
        raise SchedulerSetupError(f"调度进程不支持数据库「{backend}」：请使用 PostgreSQL 或 SQLite。")


def _me() -> str:
    # the random tail tells apart two processes with the same pid (containers, a reused pid)
    return f"进程 {os.getpid()}@{socket.gethostname()}/{secrets.token_hex(3)}"


def _beijing(moment: dt.datetime) -> str:
    return f"{moment.astimezone(zone()):%H:%M:%S}"


class SchedulerLease:
    """This process's claim on the ``scheduler`` lease row. Every call is one short statement on
    the tracker database; a database error counts as "not held" (the lease then runs out and a
    process that can reach the database takes over)."""

    def __init__(self, url: str, *, lease_seconds: float | None = None) -> None:
        settings = get_settings()
        self.engine = get_engine(url)
        self.lease = dt.timedelta(seconds=lease_seconds or settings.scheduler_lease_seconds)
        self.me = _me()
        self.valid_until: dt.datetime | None = None  # the end of the lease as we last set it

    def acquire(self) -> bool:
        """Take the lease if it is free, or renew it if it is ours (the heartbeat)."""
        now = utcnow()
        try:
            held = leadership.acquire(self.engine, leadership.SCHEDULER, self.me, now, self.lease)
        except Exception as exc:  # noqa: BLE001 — the database is out of reach for now
            log.warning("无法访问数据库以获取或续期调度租约：%s", exc)
            # a leader rides out a hiccup while the lease it last set lasts (nobody can take it
            # before then; its jobs cannot confirm it meanwhile and so do nothing); then it stops
            return self.valid_until is not None and utcnow() < self.valid_until
        self.valid_until = now + self.lease if held else None
        return held

    def confirm(self, job_id: str) -> bool:
        """Before each job: do we still hold an unexpired lease? (Records the job in the row.)"""
        try:
            return leadership.confirm(self.engine, leadership.SCHEDULER, self.me, utcnow(), job_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("无法确认调度租约：%s", exc)
            return False

    def holder(self) -> str:
        try:
            state = leadership.current(self.engine, leadership.SCHEDULER)
        except Exception:  # noqa: BLE001
            return "未知进程"
        if state is None or not state.held_at(utcnow()):
            return "无（租约已到期）"
        return f"{state.holder}，租约到 {_beijing(state.expires_at)}"

    def release(self) -> None:
        """A clean stop: free the lease at once (a no-op when another process holds it by now)."""
        self.valid_until = None
        try:
            leadership.release(self.engine, leadership.SCHEDULER, self.me)
        except Exception:  # noqa: BLE001 — it expires by itself
            pass


# the lease of this process while it leads; each job confirms it before doing anything
_LEADING: SchedulerLease | None = None


def run_job(job_id: str) -> None:
    """What the job store calls for every job: run ``job_id`` only while this process still holds
    the lease. A leader frozen (SIGSTOP, a VM paused) past its lease and replaced meanwhile finds
    this out here, before the job does any work, even when a job fires before its heartbeat."""
    lease = _LEADING
    if job_id not in JOB_NAMES:
        log.error("未知的调度任务「%s」，不执行", job_id)
        return
    if lease is None or not lease.confirm(job_id):
        log.warning("本进程已不再持有调度租约，不执行「%s」", JOB_NAMES[job_id])
        return
    log.debug("执行调度任务「%s」", JOB_NAMES[job_id])
    getattr(sys.modules[__name__], job_id)()  # looked up now: tests stand a job in for another


# ---------------------------------------------------------------------------------------------
# the process


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


async def run_scheduler(stop: asyncio.Event, *, url: str | None = None, cadence: Cadence = Cadence(),
                        poll_seconds: float = 5.0, heartbeat_seconds: float | None = None,
                        lease_seconds: float | None = None, drain_seconds: float = 120.0) -> None:
    """Wait for the lease, then run the jobs, renewing it every heartbeat, until ``stop`` is set
    (or a renewal fails: another process took over while we were frozen, or the database is out
    of reach; then stop the jobs and wait again). On the way out, also when cancelled, it lets
    running jobs finish (up to ``drain_seconds``) before it releases the lease."""
    global _LEADING
    url = url or _url()
    heartbeat = heartbeat_seconds or get_settings().scheduler_heartbeat_seconds
    lease = SchedulerLease(url, lease_seconds=lease_seconds)
    # a thread of its own for the lease's statements: the jobs share the loop's default pool, and a
    # heartbeat queued behind long jobs would let the lease run out under a working leader
    lease_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="junheng-lease")
    loop = asyncio.get_running_loop()

    def on_lease_thread(call):
        return loop.run_in_executor(lease_thread, call)

    waiting_said = False
    try:
        while not stop.is_set():
            if not await on_lease_thread(lease.acquire):
                if not waiting_said:
                    holder = await on_lease_thread(lease.holder)
                    log.warning("%s（持有调度租约的是：%s）", WAITING_MESSAGE, holder)
                    waiting_said = True
                await _wait(stop, poll_seconds)
                continue
            waiting_said = False
            log.info("已获得调度租约，开始调度（%s，租约 %.0f 秒，每 %.0f 秒续期）",
                     lease.me, lease.lease.total_seconds(), heartbeat)
            _LEADING = lease
            executor = _draining_executor()
            scheduler = build_scheduler(url, cadence, executor)
            scheduler.start()
            try:
                while not stop.is_set():
                    await _wait(stop, heartbeat)
                    if stop.is_set():
                        break
                    if not await on_lease_thread(lease.acquire):
                        _LEADING = None  # no job starts from here on
                        log.error("调度租约已失效或已由另一进程接管（%s），本进程停止调度，重新等待",
                                  await on_lease_thread(lease.holder))
                        break
            finally:
                _LEADING = None
                await _stop_jobs(scheduler, executor, drain_seconds)
                lease.release()
    finally:
        _LEADING = None
        lease.release()
        lease_thread.shutdown(wait=False)


async def _stop_jobs(scheduler, executor, drain_seconds: float) -> None:
    """Start no new job, let the running ones finish (up to ``drain_seconds``), then shut down.
    Only then may the lease go: a job still running after it would overlap the next leader's."""
    scheduler.pause()
    try:
        finished = await asyncio.shield(executor.drain(drain_seconds))
    except asyncio.CancelledError:  # cancelled while waiting: shut down all the same
        finished = False
    if not finished:
        log.error("调度任务在 %.0f 秒内未结束，仍然停止调度（任务本身可重复执行，不会重复发送）", drain_seconds)
    scheduler.shutdown(wait=False)


def run_forever(*, url: str | None = None, cadence: Cadence = Cadence(), poll_seconds: float = 5.0) -> None:
    """Run in the foreground until Ctrl-C or SIGTERM; both shut down cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_scheduler(stop, url=url, cadence=cadence, poll_seconds=poll_seconds)

    asyncio.run(main())
