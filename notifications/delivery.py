"""Delivering queued messages: claim, send in batches, record each outcome, retry, give up loudly.

``deliver_due(session_factory, now)`` is what the scheduler runs on a clock (and ``junheng mail
deliver`` by hand):

1. compose: owed notice items whose window has opened become queued messages (compose.py);
2. claim, batch by batch: the next batch (``JUNHENG_MAIL_BATCH_SIZE``) of messages queued or
   failed whose ``next_attempt_at <= now`` is leased to this run — ``next_attempt_at`` moved a
   lease ahead and ``attempts + 1`` — in one UPDATE that checks state and time again (and
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), committed before anything is sent. Only what one
   connection sends next is leased, and for as long as that takes (``lease_for``: the SMTP timeout
   and ``JUNHENG_MAIL_LEASE_SECONDS_PER_MESSAGE`` per message); a deliverer still sending when its
   lease is nearly over stops and hands the rest back, so no second deliverer sends them meanwhile;
   one that dies mid-batch leaves its batch to be picked up when the lease ends;
3. send the batch per channel, one SMTP connection (or one HTTP client); a plain reminder is
   written straight as bytes (``email_bytes``), anything with files through EmailMessage;
4. record: the batch's outcomes are committed together as soon as the batch is done (or broke
   off). Sent → ``sent`` + ``sent_at``. Failed → ``last_error`` and a retry after 1, 2, 4, 8 …
   minutes (capped); after ``JUNHENG_MAIL_MAX_ATTEMPTS`` attempts since it was last queued (or at
   once on a permanent 5xx refusal) → ``dead`` with its cause, and a 投递失败通知 is owed to every
   office person of the campaign. Nothing is dropped silently: a dead message stays in the log
   (``junheng mail list``);
5. recover: a message given up because its channel was away (``dead_cause = outage``: connection
   refused, timeouts, a dropped connection, 4xx for the whole batch) is re-queued, its retry
   ladder starting over, as soon as the channel works again — the first message it accepts in a
   run, or, when nothing else is due, a probe (connect, EHLO, QUIT) that finds the server back.
   A message refused for itself (5xx, 4xx for its recipient) waits for ``junheng mail retry``
   (one, or ``--all-dead [--since DATE]``).

At least once, not exactly once: a message accepted by the server whose ``sent`` commit is lost
(a crash before its batch was recorded) is sent again after its lease; it carries the same
Message-ID.

Messages for a channel that is not configured (no SMTP server and no sink directory; a robot name
missing from ``JUNHENG_WEBHOOKS``) are not claimed: they wait, queued, and the report says so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import aiosmtplib
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tracker.clock import zone
from tracker.notices import queries as notice_queries
from tracker.org.models import Campaign
from tracker.org import queries as org_queries
from tracker.org.service import office_robot
from tracker.plans import mobile_of
from tracker.notices.models import (
    DeadCause,
    MessageState,
    NoticeItem,
    OutboundMessage,
    Rung,
)
from tracker.settings import Settings, get_settings
from tracker.tasks.queries import task_titles

from notifications.channels import email as email_channel
from notifications.channels import webhook as webhook_channel
from notifications.channels.email import MailConfigError, MailPart, SendResult, SmtpConfig
from notifications.compose import ROBOT_CHANNELS, compose_pending
from notifications.sink import MailSink

logger = logging.getLogger(__name__)

RETRYABLE = notice_queries.RETRYABLE

SessionFactory = Callable[[], Session]


@dataclass
class DeliveryReport:
    composed: int = 0  # messages composed from owed notice items in this run
    sent: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (message id, error): will be retried
    dead: list[int] = field(default_factory=list)  # gave up: the office is told
    revived: int = 0  # messages given up in an outage, re-queued because their channel works again
    office_told: int = 0  # 投递失败通知 items owed to office people
    waiting: list[str] = field(default_factory=list)  # messages left queued: their channel is not configured
    # group robots whose minute was full (JUNHENG_WEBHOOK_PER_MINUTE): Chinese, one line per robot
    held: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # configuration or data problems, in Chinese

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.failed) + len(self.dead)


def retry_delay(attempts: int, settings: Settings) -> dt.timedelta:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd … failed attempt, capped."""
    minutes = settings.mail_retry_base_minutes * (2 ** max(attempts - 1, 0))
    return dt.timedelta(minutes=min(minutes, settings.mail_retry_max_minutes))


def as_session_factory(source: SessionFactory | Engine) -> SessionFactory:
    if isinstance(source, Engine):
        return lambda: Session(source, expire_on_commit=False)
    return source


def lease_for(count: int, settings: Settings) -> dt.timedelta:
    """How long a batch of ``count`` messages is leased: the connection's timeout, and an allowance
    per message. A deliverer killed mid-batch holds its batch back this long at most; one still
    sending when it ends stops and hands the rest back (``send_batch(stop_at=…)``)."""
    return dt.timedelta(seconds=settings.smtp_timeout + count * settings.mail_lease_seconds_per_message)


def _claim(factory: SessionFactory, now: dt.datetime, ready, limit: int, settings: Settings,
           after_id: int = 0) -> list[OutboundMessage]:
    """Lease up to ``limit`` due messages after ``after_id`` to this run (what one connection sends
    next), counting the attempt; committed before anything is sent."""
    with factory() as session:
        claimed = notice_queries.lease_due(session, now, ready, limit, lease_for(limit, settings), after_id)
        session.commit()
        if not claimed:
            return []
        messages = notice_queries.messages_by_id(session, claimed)
        session.expunge_all()
        return messages


def tell_office(session: Session, message: OutboundMessage, now: dt.datetime,
                settings: Settings | None = None) -> int:
    """Owe a 投递失败通知 about ``message`` to each office person of its campaign with an e-mail
    address, and to the office's group robot when the plan names one (@-mentioning the office people
    with a mobile number; not when the dead message was that robot's); returns how many.

    A dead message that itself only carried 投递失败通知 does not start another one (that could
    go on for ever): it is logged as an error and stays in the delivery log as dead.
    """
    items = notice_queries.message_items(session, message.id)
    if items and all(item.rung == Rung.dead_letter for item in items):
        logger.error("投递失败通知 #%s 也未能送达（%s）：请查看 junheng mail list --state dead",
                     message.id, message.last_error)
        return 0
    office_people = org_queries.office_people(session, message.campaign_id)
    office = [p for p in office_people if p.email.strip()]
    robot = _office_robot(session, message, settings or get_settings())
    if not office and robot is None:
        logger.error("消息 #%s 投递失败，但创建工作中没有留有邮箱的办公室人员，也没有办公室群机器人可通知", message.id)
        return 0
    task_ids = sorted({i.task_id for i in items if i.task_id is not None})
    tasks = [{"id": i, "title": t} for i, t in sorted(task_titles(session, task_ids).items())]
    prefix = f"message:{message.id}:dead_letter:"
    occurrence = notice_queries.next_occurrence(session, prefix)
    payload = {"failed": {
        "message_id": message.id, "recipient_name": message.recipient_name,
        "recipient_address": message.recipient_address, "subject": message.subject,
        "attempts": message.attempts, "last_error": message.last_error, "cause": message.dead_cause,
        "created_at": message.created_at.isoformat(), "tasks": tasks,
    }}
    for person in office:
        session.add(NoticeItem(
            campaign_id=message.campaign_id, task_id=None, rung=Rung.dead_letter.value, occurrence=occurrence,
            idempotency_key=f"{prefix}{occurrence}:{person.email.strip().lower()}",
            recipient_person_id=person.id, recipient_name=person.name, recipient_address=person.email.strip(),
            urgent=True, payload=payload, not_before=now))
    if robot is not None:
        mentions = list(dict.fromkeys(m for m in (mobile_of(p.phone) for p in office_people) if m))
        session.add(NoticeItem(
            campaign_id=message.campaign_id, task_id=None, rung=Rung.dead_letter.value, occurrence=occurrence,
            idempotency_key=f"{prefix}{occurrence}:{robot.lower()}", recipient_person_id=None,
            recipient_name="办公室（群）", recipient_address=robot, urgent=True,
            payload={**payload, **({"mention": mentions} if mentions else {})}, not_before=now))
    return len(office) + (robot is not None)


def _office_robot(session: Session, message: OutboundMessage, settings: Settings) -> str | None:
    """The office's group robot as a notice address, if the plan names one that is configured and
    the dead message was not addressed to it."""
    campaign = session.get(Campaign, message.campaign_id) if message.campaign_id is not None else None
    name = office_robot(campaign.plan) if campaign is not None else None
    robot = settings.webhooks.get(name) if name else None
    if robot is None or robot.address(name) == message.recipient_address:
        return None
    return robot.address(name)


def _recorder(outcomes: list[SendResult]):
    """What ``send_batch`` calls with each server answer: kept until the batch's outcomes are
    committed together (``_commit_outcomes``)."""
    return outcomes.append


def _commit_outcomes(factory: SessionFactory, outcomes: list[SendResult], now: dt.datetime, settings: Settings,
                     report: DeliveryReport) -> None:
    """Store a batch's outcomes in one transaction. Sent → ``sent`` + ``sent_at``, in one UPDATE
    per distinct note (almost always none). Failed → ``last_error`` and a retry after the back-off,
    or ``dead`` and the office told. Never tried (the lease ran short) → handed back, due at once.
    (The attempt itself was counted when the message was leased.) A message meanwhile recorded as
    sent by another deliverer is left alone.

    Why a message is given up is kept: a failure of the channel (connection refused, timeouts, a
    dropped connection, 421, or another 4xx while the server accepted nothing of the batch) makes it
    ``outage``, re-queued when the channel next works; a refusal of this message (5xx, a 4xx for its
    recipient such as 452 mailbox full, or a 4xx while the server accepted others) makes it
    ``refused``, re-queued only by hand (it would otherwise go round the ladder for ever).

    A crash before this commit loses no message: the batch's messages are still leased, and go
    again when the lease ends, under the same Message-ID."""
    if not outcomes:
        return
    with factory() as session:
        sent_by_note: dict[str, list[int]] = {}
        failures = []
        released = []
        throttled = []
        for result in outcomes:
            if result.ok:
                sent_by_note.setdefault(result.error, []).append(result.message_id)
            elif result.released:
                released.append(result.message_id)
            elif result.throttled:
                throttled.append(result.message_id)
            else:
                failures.append(result)
        accepted_any = bool(sent_by_note)
        for note, ids in sent_by_note.items():
            # recipients refused while others accepted, if any, are the note
            report.sent.extend(notice_queries.mark_sent(session, ids, now, note))
        notice_queries.release(session, released, now)
        if throttled:
            # the robot said "too many": its minute counts as full, its messages wait a minute
            notice_queries.defer(session, throttled, now + notice_queries.ROBOT_WINDOW)
            for name in {webhook_channel.robot_name(m.recipient_address)
                         for m in notice_queries.messages_by_id(session, throttled)}:
                notice_queries.robot_full(session, name, now, settings.webhook_per_minute)
        for result in failures:
            message = session.get(OutboundMessage, result.message_id)
            if message is None or message.state == MessageState.sent:
                continue
            message.last_error = result.error
            tries = message.attempts - message.ladder_start  # since it was last re-queued
            if result.permanent or tries >= settings.mail_max_attempts:
                message.state = MessageState.dead.value
                message.dead_at = now
                outage = not result.permanent and (
                    result.channel_down or not (result.recipient_refused or accepted_any))
                message.dead_cause = (DeadCause.outage if outage else DeadCause.refused).value
                report.dead.append(message.id)
                told = tell_office(session, message, now, settings)
                report.office_told += told
                if not told:
                    report.problems.append(f"消息 #{message.id} 已放弃投递，未能通知办公室：请查看投递记录")
            else:
                message.state = MessageState.failed.value
                message.next_attempt_at = now + retry_delay(tries, settings)
                report.failed.append((message.id, result.error))
            session.add(message)
            session.flush()  # tell_office of the next one sees this one's items
        session.commit()
    outcomes.clear()


async def probe_smtp(config: SmtpConfig) -> bool:
    """Does the mail server answer now (connect, EHLO, login if configured, QUIT)? Sends nothing."""
    smtp = aiosmtplib.SMTP(
        hostname=config.host, port=config.port, username=config.username, password=config.password,
        use_tls=config.tls == "tls", start_tls=config.tls == "starttls", tls_context=config.tls_context(),
        timeout=config.timeout, local_hostname=config.local_hostname)
    try:
        await smtp.connect()
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError):
        return False
    await email_channel.close_connection(smtp)
    return True


def _channel_of(message: OutboundMessage) -> tuple[str, str | None]:
    """Where an outage is tracked: e-mail as a whole (one server), each robot by its address."""
    return ("email", None) if message.channel == "email" else (message.channel, message.recipient_address)


def _revive(factory: SessionFactory, channels: set[tuple[str, str | None]], now: dt.datetime,
            report: DeliveryReport) -> int:
    """The channel works again: its messages given up in an outage are due again at once."""
    if not channels:
        return 0
    with factory() as session:
        revived = sum(notice_queries.revive_outage_dead(session, notice_queries.channel_clause(channel, address), now)
                      for channel, address in channels)
        session.commit()
    if revived:
        report.revived += revived
        logger.info("通道恢复：%s 条因中断而放弃的消息已重新排队", revived)
    return revived


async def deliver_due(
    session_factory: SessionFactory | Engine,
    now: dt.datetime,
    *,
    settings: Settings | None = None,
    compose: bool = True,
    limit: int = 1000,
) -> DeliveryReport:
    """Compose what is owed, then send every message that is due at ``now``. Idempotent; safe to run
    from several processes at once. ``session_factory`` returns a new Session (or pass an Engine)."""
    settings = settings or get_settings()
    factory = as_session_factory(session_factory)
    report = DeliveryReport()
    if compose:
        with factory() as session:
            report.composed = len(compose_pending(session, now, settings=settings))
            session.commit()

    smtp: SmtpConfig | None = None
    try:
        smtp = SmtpConfig.from_settings(settings)
    except MailConfigError as exc:
        report.problems.append(str(exc))
        logger.error("%s", exc)
    sink = MailSink(settings.mail_sink_dir) if smtp is None and settings.mail_sink_dir and not report.problems \
        else None

    email_ready = notice_queries.channel_clause("email") if smtp is not None or sink is not None else None
    robot_addresses = [f"{kind}:{name}" for kind in ROBOT_CHANNELS for name in settings.webhooks]
    ready_clause = notice_queries.ready_clause(email=email_ready is not None,
                                               robot_channels=ROBOT_CHANNELS, robot_addresses=robot_addresses)
    _count_waiting(factory, now, ready_clause, report)
    if ready_clause is None:
        return report

    outcomes: list[SendResult] = []
    record = _recorder(outcomes)
    config = None
    claimed = 0
    tried: set[tuple[str, str | None]] = set()  # channels tried in this run
    revived: set[tuple[str, str | None]] = set()  # channels whose outage-dead messages were re-queued

    def after_batch(messages: list[OutboundMessage]) -> set[tuple[str, str | None]]:
        """Store a batch's outcomes; the channels that accepted a message (and were not yet revived)."""
        by_id = {m.id: _channel_of(m) for m in messages}
        tried.update(by_id[r.message_id] for r in outcomes if not (r.released or r.throttled))
        ok = {by_id[r.message_id] for r in outcomes if r.ok} - revived
        # what the server answered is stored even when the batch broke off (the rest
        # stays leased and goes again after the lease)
        _commit_outcomes(factory, outcomes, now, settings, report)
        return ok

    async def send_robots() -> None:
        """Robot by robot, within its rate limit: lease what its minute has room for, post it,
        commit the outcomes; the rest waits, queued, for the next free minute (never dropped)."""
        nonlocal claimed
        with factory() as session:
            due = notice_queries.robot_addresses_due(session, now, robot_addresses)
        for name in sorted({webhook_channel.robot_name(address) for address in due}):
            addresses = [f"{kind}:{name}" for kind in ROBOT_CHANNELS]
            while claimed < limit:
                size = min(max(settings.mail_batch_size, 1), limit - claimed)
                with factory() as session:
                    ids, free_at, put_off = notice_queries.lease_robot_due(
                        session, now, name, addresses, size, settings.webhook_per_minute,
                        dt.timedelta(seconds=settings.webhook_timeout * (size + 1)))
                    session.commit()
                    messages = notice_queries.messages_by_id(session, ids) if ids else []
                    session.expunge_all()
                if put_off:
                    report.held.append(f"群机器人「{name}」每分钟最多 {settings.webhook_per_minute} 条：{put_off} 条排队，"
                                       f"{free_at.astimezone(zone()):%H:%M:%S} 起再发")
                if not messages:
                    break
                claimed += len(messages)
                try:
                    await webhook_channel.send_batch(messages, settings.webhooks, timeout=settings.webhook_timeout,
                                                     on_result=record)
                finally:
                    throttled = any(r.throttled for r in outcomes)
                    ok = after_batch(messages)
                if ok:
                    revived.update(ok)
                    _revive(factory, ok, now, report)  # due at once: they go within the robot's minute
                if free_at is not None or throttled:
                    break

    async def send_due() -> None:
        """Batch by batch: lease what one connection sends next, send it, commit its outcomes; a
        channel that accepts a message brings back its messages given up in an outage."""
        nonlocal config, claimed
        last_id = 0
        while email_ready is not None and claimed < limit:
            # on from the last batch: a message that failed just now and is due again at once
            # (no back-off configured) waits for the next run, as before
            size = min(max(settings.mail_batch_size, 1), limit - claimed)
            messages = _claim(factory, now, email_ready, size, settings, after_id=last_id)
            if not messages:
                return
            stop_at = email_channel.clock() + lease_for(size, settings).total_seconds() - settings.smtp_timeout / 2
            claimed += len(messages)
            last_id = messages[-1].id
            try:
                config = config or smtp or SmtpConfig.from_settings(sink.settings(settings))
                await email_channel.send_batch(messages, config, now=now, on_result=record, stop_at=stop_at,
                                               parts=load_parts(factory, [m.id for m in messages]))
            finally:
                ok = after_batch(messages)
            if ok:
                # once per channel and run: an UPDATE that finds nothing costs little, but not per batch
                revived.update(ok)
                if _revive(factory, ok, now, report):
                    last_id = 0  # the revived messages have lower ids: go round once more

    with sink if sink is not None else nullcontext():
        await send_due()
        if robot_addresses:
            await send_robots()
        # nothing went by e-mail in this run, but messages wait from an outage: ask the server
        email = ("email", None)
        if ready_clause is not None and (smtp is not None or sink is not None) and email not in tried and claimed < limit:
            with factory() as session:
                waiting = notice_queries.has_outage_dead(session, notice_queries.channel_clause("email"))
            if waiting:
                config = config or smtp or SmtpConfig.from_settings(sink.settings(settings))
                if await probe_smtp(config) and _revive(factory, {email}, now, report):
                    revived.add(email)
                    await send_due()
    return report


def load_parts(factory: SessionFactory, message_ids: list[int]) -> dict[int, list[MailPart]]:
    """The files (inline images, attachments) of these messages, in their order; most messages
    have none, and the query then returns nothing."""
    out: dict[int, list[MailPart]] = {}
    if not message_ids:
        return out
    with factory() as session:
        rows = notice_queries.message_parts(session, message_ids)
    for attachment, data in rows:
        out.setdefault(attachment.message_id, []).append(MailPart(
            attachment.filename, attachment.content_type, bytes(data), attachment.content_id))
    return out


def _count_waiting(factory: SessionFactory, now: dt.datetime, ready_clause, report: DeliveryReport) -> None:
    with factory() as session:
        rows = notice_queries.waiting_by_address(session, now, ready_clause)
    emails = sum(count for channel, _addr, count in rows if channel == "email")
    if emails:
        report.waiting.append(f"{emails} 封邮件待发：未配置邮件服务器（JUNHENG_SMTP_HOST）")
    for channel, address, count in rows:
        if channel != "email":
            report.waiting.append(f"{count} 条群机器人消息待发：未配置群机器人「{address.partition(':')[2]}」"
                                  "（JUNHENG_WEBHOOKS）")
