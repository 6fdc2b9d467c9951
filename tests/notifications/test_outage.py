"""An SMTP outage longer than the retry ladder (issue 11): the messages given up while the server
was away go again when it answers, by a probe or by the next message it accepts; a refusal of one
message stays given up; the office's notice says in its subject that deliveries failed.

Time is derived from one frozen NOW: the ladder (1, 2, 4 … 60 minutes, 8 attempts, about 2 h)
is walked by calling the deliverer at each next attempt, no sleeping."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

import notifications.delivery as delivery_module
from notifications.delivery import deliver_due
from tests.notifications.conftest import NOW, SmtpServer, mail_settings, owe
from tests.notifications.test_delivery import _messages, _owe
from tracker.db import session_scope
from tracker.notices.models import DeadCause, MessageState, OutboundMessage


async def _walk_the_ladder(engine, settings, start: dt.datetime) -> dt.datetime:
    """Deliver at each next attempt until nothing is left to try; returns the last moment."""
    moment = start
    for _ in range(100):
        report = await deliver_due(engine, moment, settings=settings)
        waiting = [m.next_attempt_at for m in _messages(engine) if m.state in (MessageState.queued, MessageState.failed)]
        if not waiting and not report.dead:  # (a death owes the office a notice: one more round)
            return moment
        moment = max([moment, *waiting][:1] + ([min(waiting)] if waiting else []))
    raise AssertionError("the ladder never ended")


async def test_a_long_outage_then_the_server_back_every_message_goes_once(engine, world, smtp_port):
    _owe(engine, world)  # 李科长, 张局长, 赵校长
    settings = mail_settings(smtp_port)  # the defaults: 8 attempts, 1 … 60 minutes apart
    end = await _walk_the_ladder(engine, settings, NOW)  # nothing listens on the port
    assert end - NOW > dt.timedelta(hours=2)
    dead = _messages(engine)
    # three reminders and the office's 投递失败通知 about them, all given up in the outage
    assert len(dead) == 4 and {(m.state, m.dead_cause, m.attempts) for m in dead} == {
        (MessageState.dead, DeadCause.outage, 8)}

    still_down = await deliver_due(engine, end + dt.timedelta(hours=1), settings=settings)
    assert still_down.attempted == 0 and still_down.revived == 0  # the probe found nobody

    server = SmtpServer(smtp_port).start()
    try:
        back = await deliver_due(engine, end + dt.timedelta(hours=3), settings=settings)
        assert back.revived == 4 and sorted(back.sent) == [m.id for m in dead]
        assert sorted(server.handler.by_message_id().items()) == sorted((m.message_id_header, 1) for m in dead)
        again = await deliver_due(engine, end + dt.timedelta(hours=4), settings=settings)
        assert again.attempted == 0 and again.revived == 0
    finally:
        server.stop()
    stored = _messages(engine)
    assert {(m.state, m.attempts, m.dead_cause) for m in stored} == {(MessageState.sent, 9, "")}
    office = next(r.message for r in server.handler.received if r.rcpt_tos == ["wang@example.cn"])
    assert office["Subject"] == "【均衡督办】投递失败通知：3 条通知未能送达"


async def test_the_next_accepted_message_brings_the_others_back_without_a_probe(engine, world, smtp_port, monkeypatch):
    _owe(engine, world, recipients=("李科长",))
    settings = mail_settings(smtp_port, mail_max_attempts=2, mail_retry_base_minutes=1)
    end = await _walk_the_ladder(engine, settings, NOW)
    assert {m.state for m in _messages(engine)} == {MessageState.dead}

    async def no_probe(config):
        raise AssertionError("a message was due: its success is the probe")

    monkeypatch.setattr(delivery_module, "probe_smtp", no_probe)
    later = end + dt.timedelta(hours=1)
    with session_scope(engine) as session:
        task = world.task(session, "t-new", due_on=dt.date(2026, 12, 18), title="新建音乐教室")
        owe(session, world, task_id=task.id, rung="assigned", person="张局长", not_before=later)
    server = SmtpServer(smtp_port).start()
    try:
        report = await deliver_due(engine, later, settings=settings)
    finally:
        server.stop()
    assert report.revived == 2  # the reminder and the office's notice about it
    assert {m.state for m in _messages(engine)} == {MessageState.sent}
    assert len(server.handler.received) == 3


async def test_a_refused_message_stays_given_up_when_the_server_works(engine, world, smtp_server):
    _owe(engine, world, recipients=("李科长", "张局长"))
    smtp_server.handler.refuse_rcpt.add("li@example.cn")  # 550: this address, for good
    settings = mail_settings(smtp_server.port)
    first = await deliver_due(engine, NOW, settings=settings)
    assert len(first.dead) == 1 and len(first.sent) == 1
    later = await deliver_due(engine, NOW + dt.timedelta(hours=1), settings=settings)
    assert later.revived == 0 and len(later.sent) == 1  # the office's notice, not the refused message
    with Session(engine) as session:
        refused = session.exec(select(OutboundMessage).where(OutboundMessage.recipient_address == "li@example.cn")).one()
    assert (refused.state, refused.dead_cause, refused.attempts) == (MessageState.dead, DeadCause.refused, 1)
    office = next(r.message for r in smtp_server.handler.received if r.rcpt_tos == ["wang@example.cn"])
    assert office["Subject"] == "【均衡督办】投递失败通知：发给李科长的通知未能送达"
    assert "恢复后自动重新投递" not in office.get_body(("plain",)).get_content()


async def test_4xx_for_one_address_while_others_go_is_not_an_outage(engine, world, smtp_port):
    """A mailbox that answers 452 for hours while the server accepts the rest is this message's
    trouble: it is not re-queued by the next success (it would go round the ladder for ever)."""
    _owe(engine, world, recipients=("李科长", "张局长"))
    server = SmtpServer(smtp_port)

    async def full_mailbox(srv, session, envelope, address, rcpt_options):
        if address == "li@example.cn":
            return "452 4.2.2 mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    server.handler.handle_RCPT = full_mailbox
    server.start()
    try:
        await _walk_the_ladder(engine, mail_settings(smtp_port, mail_max_attempts=2), NOW)
    finally:
        server.stop()
    with Session(engine) as session:
        li = session.exec(select(OutboundMessage).where(OutboundMessage.recipient_address == "li@example.cn")).one()
    assert (li.state, li.dead_cause) == (MessageState.dead, DeadCause.refused)
