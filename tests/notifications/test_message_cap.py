"""A message is capped in items and bytes (issue 11: at 11,720 tasks two messages of 12,110
notices were refused with 552 and died): beyond the caps one recipient's notices go in several
e-mails, each with a summary of the whole and the link to the recipient's full task list."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import Session, select

from notifications.delivery import deliver_due
from notifications.render import RenderedMessage, wire_size
from tests.notifications.conftest import NOW, SmtpServer, mail_settings, owe
from tracker.db import session_scope
from tracker.notices.models import MessageState, NoticeItem, OutboundMessage


def _owe_many(engine, world, n: int, person: str = "李科长") -> None:
    with session_scope(engine) as session:
        for k in range(n):
            task = world.task(session, f"t{k}", due_on=dt.date(2026, 12, 9 if k % 2 else 18),
                              title=f"第{k}项：城关一小音乐教室面积不达标，需改建")
            owe(session, world, task_id=task.id, rung="chase" if k % 2 else "due_soon", person=person,
                occurrence=1)


async def test_past_the_item_cap_one_recipient_gets_several_mails_with_a_summary(engine, world, smtp_server):
    _owe_many(engine, world, 25)
    settings = mail_settings(smtp_server.port, mail_max_items_per_message=10)
    report = await deliver_due(engine, NOW, settings=settings)
    assert report.composed == 3 and len(report.sent) == 3
    mails = sorted((r.message for r in smtp_server.handler.received), key=lambda m: m["Subject"])
    assert [m["Subject"] for m in mails] == [
        f"【均衡督办】您有 25 项任务提醒（12 项逾期）（第 {i}/3 封）" for i in (1, 2, 3)]
    department = world.people["李科长"].department_id
    seen = []
    for index, mail in enumerate(mails, start=1):
        text = mail.get_body(("plain",)).get_content()
        assert "本次共有 25 项任务提醒（其中 12 项已逾期），内容较多，分 3 封邮件发送" in text
        assert f"这是第 {index} 封" in text
        assert f"完整清单请在系统中查看：https://duban.example.cn/tasks?department={department}" in text
        assert f'href="https://duban.example.cn/tasks?department={department}"' in mail.get_body(("html",)).get_content()
        seen += re.findall(r"（#(\d+)）", text)
    assert len(seen) == len(set(seen)) == 25  # every notice once, in one of the parts
    first = mails[0].get_body(("plain",)).get_content()
    assert "催办通知" in first and "临期提醒" not in first  # the most pressing first
    with Session(engine) as session:
        items = session.exec(select(NoticeItem)).all()
        messages = session.exec(select(OutboundMessage)).all()
    assert {i.message_id for i in items} == {m.id for m in messages}
    assert sorted(len([i for i in items if i.message_id == m.id]) for m in messages) == [5, 10, 10]


async def test_past_the_byte_cap_the_parts_are_smaller(engine, world, smtp_port):
    """The server refuses (552) anything over 40 KB, as a county's server does over its limit."""
    _owe_many(engine, world, 30)
    cap = 40_000
    smtp_server = SmtpServer(smtp_port, data_size_limit=cap).start()
    try:
        report = await deliver_due(engine, NOW, settings=mail_settings(smtp_port, mail_max_message_bytes=cap))
    finally:
        smtp_server.stop()
    assert report.dead == [] and report.failed == []
    assert report.composed > 1 and len(report.sent) == report.composed
    with Session(engine) as session:
        messages = session.exec(select(OutboundMessage)).all()
    for m in messages:
        assert wire_size(RenderedMessage(m.subject, m.body_text, m.body_html)) <= cap
        assert m.state == MessageState.sent
    for r in smtp_server.handler.received:
        assert len(r.raw) <= cap  # the estimate is an upper bound of what went on the wire


async def test_under_the_caps_one_mail_as_before(engine, world, smtp_server):
    _owe_many(engine, world, 5)
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_server.port))
    assert report.composed == 1
    [received] = smtp_server.handler.received
    assert received.message["Subject"] == "【均衡督办】您有 5 项任务提醒（2 项逾期）"
    assert "分 " not in received.message.get_body(("plain",)).get_content().split("\n")[2]
