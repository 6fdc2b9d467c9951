"""Delivery faults: the server away and back, giving up after N attempts, a crash after the server
accepted, unconfigured channels, and the local sink the demo uses."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy

import pytest
from sqlmodel import Session, select

import notifications.delivery as delivery_module
from notifications.delivery import deliver_due, lease_for, retry_delay, tell_office
from tests.notifications.conftest import NOW, SmtpServer, mail_settings, owe
from tracker.db import session_scope
from tracker.notices.models import MessageState, NoticeItem, OutboundMessage


def _owe(engine, world, recipients=("李科长", "张局长", "赵校长")):
    with session_scope(engine) as session:
        task = world.task(session, "t-late", due_on=dt.date(2026, 12, 9), title="教师培训学时达标")
        for n, person in enumerate(recipients):
            owe(session, world, task_id=task.id, rung="chase", person=person, occurrence=n + 1)
        return task.id


def _messages(engine) -> list[OutboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_backoff_doubles_and_is_capped(db_url):
    settings = mail_settings(25)
    assert [retry_delay(n, settings).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


async def test_server_down_then_back_every_message_arrives_once(engine, world, smtp_port):
    _owe(engine, world)
    settings = mail_settings(smtp_port)  # nothing listens on this port yet
    down = await deliver_due(engine, NOW, settings=settings)
    assert down.composed == 3 and down.sent == [] and len(down.failed) == 3
    assert all("无法连接邮件服务器" in error for _, error in down.failed)
    messages = _messages(engine)
    assert {(m.state, m.attempts) for m in messages} == {(MessageState.failed, 1)}
    assert {m.next_attempt_at for m in messages} == {NOW + dt.timedelta(minutes=1)}

    still_down = await deliver_due(engine, NOW + dt.timedelta(minutes=1), settings=settings)
    assert len(still_down.failed) == 3
    assert {m.next_attempt_at for m in _messages(engine)} == {NOW + dt.timedelta(minutes=3)}  # +2 min

    server = SmtpServer(smtp_port).start()
    try:
        early = await deliver_due(engine, NOW + dt.timedelta(minutes=2), settings=settings)
        assert early.attempted == 0  # not due yet: backoff is respected
        back = await deliver_due(engine, NOW + dt.timedelta(minutes=3), settings=settings)
        assert len(back.sent) == 3
        again = await deliver_due(engine, NOW + dt.timedelta(hours=5), settings=settings)
        assert again.attempted == 0 and again.composed == 0
        counts = server.handler.by_message_id()
        assert sorted(counts) == sorted(m.message_id_header for m in _messages(engine))
        assert set(counts.values()) == {1}
        assert server.handler.connections == 1
        assert {(m.state, m.attempts) for m in _messages(engine)} == {(MessageState.sent, 3)}
    finally:
        server.stop()


async def test_after_n_attempts_the_message_is_dead_and_the_office_is_told(engine, world, smtp_port):
    _owe(engine, world, recipients=("李科长",))
    settings = mail_settings(smtp_port, mail_max_attempts=3)
    moment = NOW
    for attempt in range(1, 4):
        report = await deliver_due(engine, moment, settings=settings)
        assert report.attempted == 1
        [message] = _messages(engine)
        assert message.attempts == attempt
        moment = message.next_attempt_at
    assert report.dead == [message.id] and report.office_told == 1
    assert message.state == MessageState.dead and "无法连接邮件服务器" in message.last_error
    with Session(engine) as session:
        [notice] = session.exec(select(NoticeItem).where(NoticeItem.rung == "dead_letter")).all()
    assert notice.recipient_address == "wang@example.cn" and notice.recipient_name == "王主任"
    assert notice.message_id is None  # owed, to be composed and sent like any other notice

    server = SmtpServer(smtp_port).start()
    try:
        later = await deliver_due(engine, moment + dt.timedelta(hours=2), settings=settings)
        # the server is back: the office's notice goes, and the message given up in the outage too
        assert later.composed == 1 and len(later.sent) == 2 and later.revived == 1
        [received] = [r for r in server.handler.received if r.rcpt_tos == ["wang@example.cn"]]
        mail = received.message
        assert mail["Subject"] == "【均衡督办】投递失败通知：发给李科长的通知未能送达"
        text = mail.get_body(("plain",)).get_content()
        assert "li@example.cn" in text and "【均衡督办】催办通知：教师培训学时达标" in text
        assert f"junheng mail retry {message.id}" in text
        assert "恢复后自动重新投递" in text  # an outage: the office need not re-queue it by hand
    finally:
        server.stop()
    resent = _messages(engine)[0]
    assert (resent.state, resent.attempts) == (MessageState.sent, 4)


async def test_a_dead_dead_letter_does_not_start_another(engine, world):
    with session_scope(engine) as session:
        item = owe(session, world, task_id=None, rung="dead_letter", person="王主任",
                   payload={"failed": {"message_id": 1}})
        message = OutboundMessage(campaign_id=world.campaign.id, recipient_address="wang@example.cn",
                                  subject="投递失败通知", message_id_header="<d@x>", state="dead")
        session.add(message)
        session.flush()
        item.message_id = message.id
        session.add(item)
        session.flush()
        assert tell_office(session, message, NOW) == 0
        assert len(session.exec(select(NoticeItem)).all()) == 1


async def test_accepted_then_crash_resends_with_the_same_message_id(engine, world, smtp_server, monkeypatch):
    """The one double-send window: the server accepted, the process died before committing 'sent'.
    After the lease the message goes again — the same Message-ID, so mail systems can tell."""
    _owe(engine, world, recipients=("李科长",))
    settings = mail_settings(smtp_server.port)
    real_recorder = delivery_module._recorder

    def crashing_recorder(*args, **kwargs):
        def record(result):
            raise SystemExit("killed between the server's 250 and our commit")
        return record

    monkeypatch.setattr(delivery_module, "_recorder", crashing_recorder)
    with pytest.raises(SystemExit):
        await deliver_due(engine, NOW, settings=settings)
    assert len(smtp_server.handler.received) == 1
    [message] = _messages(engine)
    # the outcome's commit never happened, but the attempt was counted when it was leased
    assert message.state == MessageState.queued and message.attempts == 1

    monkeypatch.setattr(delivery_module, "_recorder", real_recorder)
    lease = lease_for(settings.mail_batch_size, settings)
    assert lease < dt.timedelta(minutes=15)  # a batch is held for as long as it takes, not a fixed 15 min
    within_lease = await deliver_due(engine, NOW + lease - dt.timedelta(seconds=1), settings=settings)
    assert within_lease.attempted == 0
    after_lease = await deliver_due(engine, NOW + lease, settings=settings)
    assert len(after_lease.sent) == 1
    first, second = smtp_server.handler.received
    assert first.message["Message-ID"] == second.message["Message-ID"] == message.message_id_header
    resent = _messages(engine)[0]
    assert (resent.state, resent.attempts) == (MessageState.sent, 2)  # the resent duplicate counts as 2


async def test_two_deliverers_at_once_send_each_message_once(engine, world, smtp_server):
    _owe(engine, world, recipients=("李科长", "张局长", "赵校长", "王主任"))
    settings = mail_settings(smtp_server.port)
    with session_scope(engine) as session:  # compose first, so both deliverers compete for the same messages
        from notifications.compose import compose_pending
        compose_pending(session, NOW, settings=settings)
    reports = await asyncio.gather(deliver_due(engine, NOW, settings=settings, compose=False),
                                   deliver_due(engine, NOW, settings=settings, compose=False))
    assert sorted(i for r in reports for i in r.sent) == [m.id for m in _messages(engine)]
    assert set(smtp_server.handler.by_message_id().values()) == {1}
    assert len(smtp_server.handler.received) == 4


async def test_without_a_mail_server_messages_wait_queued(engine, world):
    _owe(engine, world, recipients=("李科长",))
    settings = mail_settings(25, smtp_host=None, mail_sink_dir=None)
    report = await deliver_due(engine, NOW, settings=settings)
    assert report.composed == 1 and report.attempted == 0
    assert report.waiting == ["1 封邮件待发：未配置邮件服务器（JUNHENG_SMTP_HOST）"]
    assert [(m.state, m.attempts) for m in _messages(engine)] == [(MessageState.queued, 0)]


async def test_the_local_sink_writes_eml_files_through_the_real_smtp_path(engine, world, tmp_path):
    _owe(engine, world, recipients=("李科长", "张局长"))
    sink_dir = tmp_path / "outbox"
    settings = mail_settings(25, smtp_host=None, mail_sink_dir=sink_dir)
    report = await deliver_due(engine, NOW, settings=settings)
    assert len(report.sent) == 2
    files = sorted(sink_dir.rglob("*.eml"))
    assert [f.parent.name for f in files] == ["li@example.cn", "zhang@example.cn"]
    mail = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    stored = {m.recipient_address: m for m in _messages(engine)}
    assert mail["Message-ID"] == stored["li@example.cn"].message_id_header
    assert mail["Subject"] == "【均衡督办】催办通知：教师培训学时达标（已逾期 3 个工作日）"
    assert "教师培训学时达标" in mail.get_body(("html",)).get_content()
