"""E-mail into a real SMTP server (aiosmtpd in this process), read back with email.policy.default."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from notifications.channels.email import MailConfigError, SmtpConfig, send_batch
from notifications.delivery import deliver_due
from tests.notifications.conftest import NOW, SmtpServer, mail_settings, owe, password_check
from tracker.db import session_scope
from tracker.notices.models import MessageState, NoticeItem, OutboundMessage


def _owe_three_for_li(engine, world):
    with session_scope(engine) as session:
        soon = world.task(session, "t-soon", due_on=dt.date(2026, 12, 18), title="补足城关一小音乐教室")
        late = world.task(session, "t-late", due_on=dt.date(2026, 12, 9), title="教师培训学时达标")
        new = world.task(session, "t-new", due_on=dt.date(2026, 12, 30), title="生均教学仪器设备值达标")
        owe(session, world, task_id=soon.id, rung="due_soon", person="李科长", payload={"light": "黄"})
        owe(session, world, task_id=late.id, rung="chase", person="李科长", occurrence=1, payload={"light": "红"})
        owe(session, world, task_id=new.id, rung="assigned", person="李科长",
            payload={"light": "绿", "ack_url": f"https://duban.example.cn/ack/{new.id}.sig"})
        return new.id


async def test_what_arrives_reads_correctly_in_a_mail_program(engine, world, smtp_server):
    new_task = _owe_three_for_li(engine, world)
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_server.port))
    assert report.composed == 1 and len(report.sent) == 1
    [received] = smtp_server.handler.received
    mail = received.message
    assert received.rcpt_tos == ["li@example.cn"]
    assert not received.encrypted
    assert received.mail_from == "duban@jiaoyu.example.cn"
    assert mail["Subject"] == "【均衡督办】您有 3 项任务提醒（1 项逾期）"
    # the raw header is RFC 2047 encoded ASCII, not raw UTF-8
    assert b"Subject: =?utf-8?" in received.raw
    assert mail["From"].addresses[0].display_name == "均衡督办"
    assert mail["From"].addresses[0].addr_spec == "duban@jiaoyu.example.cn"
    assert mail["To"].addresses[0].display_name == "李科长"
    assert mail["To"].addresses[0].addr_spec == "li@example.cn"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for body in (text, html):
        assert "补足城关一小音乐教室" in body and "教师培训学时达标" in body
        assert f"https://duban.example.cn/tasks/{new_task}" in body
        assert f"https://duban.example.cn/ack/{new_task}.sig" in body
        assert "2026年12月9日（星期三）" in body
    assert f'href="https://duban.example.cn/ack/{new_task}.sig"' in html
    assert mail["Date"].datetime.utcoffset() == dt.timedelta(hours=8)
    assert mail["Auto-Submitted"] == "auto-generated"
    with Session(engine) as session:
        [stored] = session.exec(select(OutboundMessage)).all()
    assert mail["Message-ID"] == stored.message_id_header
    assert stored.state == MessageState.sent and stored.attempts == 1 and stored.sent_at is not None


async def test_a_batch_of_messages_uses_one_connection(engine, world, smtp_server):
    with session_scope(engine) as session:
        task = world.task(session, "t", title="任务")
        for n in range(25):
            owe(session, world, task_id=task.id, rung="due_soon", address=f"contact{n}@example.cn", name=f"联系人{n}")
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_server.port))
    assert len(report.sent) == 25
    assert len(smtp_server.handler.received) == 25
    assert smtp_server.handler.connections == 1


async def test_batches_are_cut_at_the_batch_size(engine, world, smtp_server):
    with session_scope(engine) as session:
        task = world.task(session, "t", title="任务")
        for n in range(7):
            owe(session, world, task_id=task.id, rung="due_soon", address=f"c{n}@example.cn")
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_server.port, mail_batch_size=3))
    assert len(report.sent) == 7
    assert smtp_server.handler.connections == 3  # 3 + 3 + 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_tls_with_login(engine, world, smtp_port, certificate, mode):
    """STARTTLS on a plain port and implicit TLS, each with a login, against a self-signed certificate."""
    auth = dict(authenticator=password_check("duban", "口令-secret"), auth_required=True, auth_require_tls=True)
    if mode == "starttls":
        server = SmtpServer(smtp_port, tls_context=certificate.server_context(), require_starttls=True, **auth)
    else:
        # aiosmtpd only counts STARTTLS as TLS when deciding whether to offer AUTH; here the whole
        # connection is TLS (checked below), so let it offer AUTH anyway
        server = SmtpServer(smtp_port, ssl_context=certificate.server_context(), **{**auth, "auth_require_tls": False})
    server.start()
    try:
        _owe_three_for_li(engine, world)
        settings = mail_settings(smtp_port, smtp_tls=mode, smtp_user="duban", smtp_password="口令-secret",
                                 smtp_ca_file=certificate.cert_file)
        report = await deliver_due(engine, NOW, settings=settings)
        assert len(report.sent) == 1, report
        [received] = server.handler.received
        assert received.encrypted
        assert received.session.authenticated
        assert received.message["Subject"] == "【均衡督办】您有 3 项任务提醒（1 项逾期）"
    finally:
        server.stop()


async def test_an_untrusted_certificate_is_a_failure_not_a_silent_downgrade(engine, world, smtp_port, certificate):
    server = SmtpServer(smtp_port, ssl_context=certificate.server_context()).start()
    try:
        _owe_three_for_li(engine, world)
        report = await deliver_due(engine, NOW, settings=mail_settings(smtp_port, smtp_tls="tls"))
        assert report.sent == [] and len(report.failed) == 1
        assert "CERTIFICATE_VERIFY_FAILED" in report.failed[0][1]
        assert server.handler.received == []
    finally:
        server.stop()


async def test_a_refused_mailbox_is_dead_at_once_and_the_office_is_told(engine, world, smtp_server):
    smtp_server.handler.refuse_rcpt.add("li@example.cn")
    _owe_three_for_li(engine, world)
    with session_scope(engine) as session:
        owe(session, world, task_id=None, rung="returned", person="张局长")  # another recipient, unaffected
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_server.port))
    assert len(report.dead) == 1 and len(report.sent) == 1
    assert report.office_told == 1
    with Session(engine) as session:
        dead = session.get(OutboundMessage, report.dead[0])
        [notice] = session.exec(select(NoticeItem).where(NoticeItem.rung == "dead_letter")).all()
    assert dead.state == MessageState.dead and "550" in dead.last_error
    assert notice.recipient_address == "wang@example.cn" and notice.payload["failed"]["message_id"] == dead.id


async def test_a_temporary_refusal_is_retried(engine, world, smtp_server):
    smtp_server.handler.defer_data = 1
    _owe_three_for_li(engine, world)
    settings = mail_settings(smtp_server.port)
    first = await deliver_due(engine, NOW, settings=settings)
    assert first.sent == [] and "451" in first.failed[0][1]
    second = await deliver_due(engine, NOW + dt.timedelta(minutes=1), settings=settings)
    assert len(second.sent) == 1
    assert len(smtp_server.handler.received) == 1


async def test_send_batch_reports_each_result_as_it_happens(smtp_server):
    messages = [OutboundMessage(id=n, recipient_address=f"u{n}@example.cn", recipient_name="单位联系人",
                                subject=f"第{n}封", body_text="正文", message_id_header=f"<m{n}@example.cn>")
                for n in (1, 2, 3)]
    seen = []

    async def on_result(result):
        seen.append((result.message_id, result.ok, len(smtp_server.handler.received)))

    config = SmtpConfig(host="127.0.0.1", port=smtp_server.port, mail_from="均衡督办 <duban@example.cn>")
    results = await send_batch(messages, config, now=NOW, on_result=on_result)
    assert [r.ok for r in results] == [True, True, True]
    # each outcome is reported once the server has accepted that very message, not after the batch
    assert seen == [(1, True, 1), (2, True, 2), (3, True, 3)]
    assert smtp_server.handler.received[0].message.get_content_type() == "text/plain"


def test_bad_mail_settings_are_named():
    with pytest.raises(MailConfigError, match="JUNHENG_SMTP_TLS"):
        SmtpConfig.from_settings(mail_settings(25, smtp_tls="ssl"))
    with pytest.raises(MailConfigError, match="JUNHENG_SMTP_PASSWORD"):
        SmtpConfig.from_settings(mail_settings(25, smtp_user="x"))
    assert SmtpConfig.from_settings(mail_settings(25, smtp_host=None)) is None
