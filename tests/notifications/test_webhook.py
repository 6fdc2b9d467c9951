"""Group robots: a local HTTP server receives the 企业微信 and 钉钉 posts."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, select

from notifications.channels.webhook import dingtalk_sign
from notifications.delivery import deliver_due
from tests.notifications.conftest import NOW, mail_settings, owe
from tracker.db import session_scope
from tracker.notices.models import MessageState, OutboundMessage
from tracker.settings import WebhookRobot

SECRET = "SEC0123456789abcdef-测试用"


def _robots(server):
    return {"财政局群": WebhookRobot(url=f"{server.url}/cgi-bin/webhook/send?key=wx-key-1", kind="wecom"),
            "住建局群": WebhookRobot(url=f"{server.url}/robot/send?access_token=dd-token-1", secret=SECRET,
                                    kind="dingtalk")}


def _owe(engine, world):
    with session_scope(engine) as session:
        late = world.task(session, "t-late", due_on=dt.date(2026, 12, 9), title="教师培训学时达标")
        soon = world.task(session, "t-soon", unit="住建局", due_on=dt.date(2026, 12, 16), title="新建运动场")
        owe(session, world, task_id=late.id, rung="chase", address="wecom:财政局群", occurrence=1,
            payload={"light": "红"})
        owe(session, world, task_id=soon.id, rung="due_soon", address="dingtalk:住建局群", occurrence=1,
            payload={"light": "黄"})
        return late.id, soon.id


async def test_wecom_and_dingtalk_robots_receive_markdown(engine, world, webhook_server, smtp_port):
    late_id, soon_id = _owe(engine, world)
    settings = mail_settings(smtp_port, webhooks=_robots(webhook_server))
    before_ms = int(time.time() * 1000)
    report = await deliver_due(engine, NOW, settings=settings)
    after_ms = int(time.time() * 1000)
    assert len(report.sent) == 2
    posts = {urlsplit(p.path).path: p for p in webhook_server.posts}

    wecom = posts["/cgi-bin/webhook/send"]
    assert parse_qs(urlsplit(wecom.path).query) == {"key": ["wx-key-1"]}
    assert set(wecom.body) == {"msgtype", "markdown"} and wecom.body["msgtype"] == "markdown"
    content = wecom.body["markdown"]["content"]
    assert set(wecom.body["markdown"]) == {"content"}
    assert content.startswith("### 【均衡督办】催办通知：教师培训学时达标（已逾期 3 个工作日）")
    assert f"https://duban.example.cn/tasks/{late_id}" in content
    assert '<font color="warning">🔴 红灯</font>' in content

    ding = posts["/robot/send"]
    query = parse_qs(urlsplit(ding.path).query)
    assert set(query) == {"access_token", "timestamp", "sign"}
    timestamp = query["timestamp"][0]
    assert before_ms <= int(timestamp) <= after_ms  # 钉钉 refuses a timestamp an hour off: real clock
    # recompute the signature the way 钉钉's server does
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected]  # parse_qs undid the URL encoding
    assert ding.body["msgtype"] == "markdown"
    assert set(ding.body["markdown"]) == {"title", "text"}
    assert ding.body["markdown"]["title"] == "【均衡督办】临期提醒：新建运动场"
    assert "- 完成时限：2026年12月16日（星期三），**还剩 2 个工作日**" in ding.body["markdown"]["text"]
    assert f"https://duban.example.cn/tasks/{soon_id}" in ding.body["markdown"]["text"]


def test_dingtalk_signature_is_url_encoded():
    sign = dingtalk_sign("secret", 1700000000000)
    raw = base64.b64encode(hmac.new(b"secret", b"1700000000000\nsecret", hashlib.sha256).digest()).decode()
    assert sign == raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


async def test_a_robot_error_code_is_a_failure_to_retry(engine, world, webhook_server, smtp_port):
    _owe(engine, world)
    webhook_server.reply = {"errcode": 310000, "errmsg": "sign not match"}
    settings = mail_settings(smtp_port, webhooks=_robots(webhook_server))
    report = await deliver_due(engine, NOW, settings=settings)
    assert report.sent == [] and len(report.failed) == 2
    assert any("310000 sign not match" in error for _, error in report.failed)
    webhook_server.reply = {"errcode": 0, "errmsg": "ok"}
    retry = await deliver_due(engine, NOW + dt.timedelta(minutes=1), settings=settings)
    assert len(retry.sent) == 2
    assert len(webhook_server.posts) == 4


async def test_a_robot_that_is_not_configured_waits(engine, world, webhook_server, smtp_port):
    _owe(engine, world)
    robots = _robots(webhook_server)
    del robots["住建局群"]
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_port, webhooks=robots))
    assert len(report.sent) == 1
    assert report.waiting == ["1 条群机器人消息待发：未配置群机器人「住建局群」（JUNHENG_WEBHOOKS）"]
    with Session(engine) as session:
        waiting = session.exec(select(OutboundMessage).where(OutboundMessage.channel == "dingtalk")).one()
    assert waiting.state == MessageState.queued and waiting.attempts == 0
