"""The fast path (issue 10): a plain reminder written straight as bytes reads, in a mail program,
exactly as the one EmailMessage builds."""

from __future__ import annotations

import email
import email.policy

import pytest

from notifications.channels.email import build_email, email_bytes
from tests.notifications.conftest import NOW
from tracker.notices.models import OutboundMessage

FROM = "均衡督办 <duban@jiaoyu.example.cn>"


def _message(**extra) -> OutboundMessage:
    fields = dict(id=7, recipient_name="李科长", recipient_address="li@example.cn",
                  subject="【均衡督办】【紧急】催办通知：城关一小音乐教室面积不达标，需改建音乐教室 1 间（≥96㎡）并配齐器材（已逾期 3 个工作日）",
                  body_text="李科长：\n\n以下任务已逾期。\n" + "任务链接：https://duban.example.cn/tasks/1\n" * 40,
                  body_html="<p>李科长：</p>\n<p>以下任务已逾期。</p>" + "<a href=\"https://x/tasks/1\">链接</a>\n" * 40,
                  message_id_header="<junheng.abc@jiaoyu.example.cn>")
    fields.update(extra)
    return OutboundMessage(**fields)


def _read(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


@pytest.mark.parametrize("extra", [
    {},
    {"recipient_name": ""},
    {"recipient_name": "Li Kezhang"},
    {"recipient_name": 'O"Brien, Jr.'},
    {"subject": "Plain ASCII subject"},
    {"subject": "A long ASCII subject " * 8},
    {"body_html": ""},
    {"subject": "换行\r\n不会进入标题"},
])
def test_fast_bytes_read_as_the_emailmessage_does(extra):
    message = _message(**extra)
    sender, rcpts, data = email_bytes(message, FROM, NOW)
    assert sender == "duban@jiaoyu.example.cn" and rcpts == ["li@example.cn"]
    assert all(len(line) <= 998 for line in data.split(b"\r\n")) and data.isascii()
    # (EmailMessage refuses a line break in a header; the fast path makes it a space)
    cleaned = _message(**{**extra, "subject": " ".join(message.subject.split())})
    fast, slow = _read(data), _read(build_email(cleaned, FROM, NOW).as_bytes())
    for header in ("Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted", "X-Junheng-Message"):
        assert " ".join(str(fast[header]).split()) == " ".join(str(slow[header]).split()), header
    assert fast["To"].addresses[0].display_name == slow["To"].addresses[0].display_name
    assert fast.get_body(("plain",)).get_content() == slow.get_body(("plain",)).get_content()
    if message.body_html:
        assert fast.get_body(("html",)).get_content() == slow.get_body(("html",)).get_content()
    assert not fast.defects and all(not part.defects for part in fast.walk())


def test_anything_else_takes_the_emailmessage_path():
    assert email_bytes(_message(cc="张局长 <zhang@example.cn>"), FROM, NOW) is None
    assert email_bytes(_message(recipient_address="李@例子.cn"), FROM, NOW) is None
