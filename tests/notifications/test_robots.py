"""Notices through group robots (issue 12 §6), against a real HTTP server on 127.0.0.1 that checks
钉钉's signature as 钉钉 does: the exact 企业微信 and 钉钉 payloads with @-mentions, the delivery log
of robot messages, and each robot's rate limit (20 a minute) kept by queueing, on a stepped clock."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlmodel import Session, select

from notifications.delivery import deliver_due
from tests.notifications.conftest import NOW, mail_settings, owe
from tests.tracker.plans.test_plan import SMALL, _replace
from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.notices.models import OutboundMessage, RobotWindow
from tracker.org.models import Department, Phase
from tracker.plans import parse_plan
from tracker.reminders.sweep import sweep
from tracker.settings import WebhookRobot, get_settings
from tracker.tasks.models import TaskOrigin
from tracker.tasks.service import create_task

SECRET = "SEC0123456789abcdef"


def robots(server) -> dict[str, WebhookRobot]:
    server.dingtalk_secrets = {"dd-token-1": SECRET}
    return {"财政局群": WebhookRobot(url=f"{server.url}/robot/send?access_token=dd-token-1", secret=SECRET,
                                 kind="dingtalk"),
            "住建局群": WebhookRobot(url=f"{server.url}/cgi-bin/webhook/send?key=wx-key-1", kind="wecom")}


def posts_to(server, path: str) -> list:
    return [p for p in server.posts if urlsplit(p.path).path == path]


def the_message(engine, address: str) -> OutboundMessage:
    with Session(engine) as session:
        return session.exec(select(OutboundMessage).where(OutboundMessage.recipient_address == address)).one()


# -- payloads --------------------------------------------------------------------------------------

async def test_wecom_mentions_go_as_a_text_message_with_the_mobile_list(engine, world, webhook_server, smtp_port):
    with session_scope(engine) as session:
        task = world.task(session, "t-late", unit="住建局", due_on=dt.date(2026, 12, 9), title="教师培训学时达标")
        owe(session, world, task_id=task.id, rung="chase", address="wecom:住建局群", name="住建局（群）", occurrence=1,
            payload={"light": "红", "mention": ["13800138000"]})
        task_id = task.id
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_port, webhooks=robots(webhook_server)))
    assert len(report.sent) == 1
    [post] = posts_to(webhook_server, "/cgi-bin/webhook/send")
    message = the_message(engine, "wecom:住建局群")
    assert post.body == {"msgtype": "text", "text": {"content": message.body_text,
                                                     "mentioned_mobile_list": ["13800138000"]}}
    content = message.body_text
    assert content.startswith("【均衡督办】催办通知：教师培训学时达标（已逾期 3 个工作日）\n")
    assert f"- 查看任务 #{task_id}：https://duban.example.cn/tasks/{task_id}" in content
    assert "进度灯：🔴 红灯" in content
    for markup in ("**", "<font", "###", "]("):
        assert markup not in content  # plain text: 企业微信 shows text messages as written
    assert len(content.encode("utf-8")) <= 2048
    assert (message.state, message.attempts, message.mentions, message.channel) == ("sent", 1, "13800138000", "wecom")


async def test_wecom_without_mentions_stays_markdown(engine, world, webhook_server, smtp_port):
    with session_scope(engine) as session:
        task = world.task(session, "t1", unit="住建局", due_on=dt.date(2026, 12, 16), title="新建运动场")
        owe(session, world, task_id=task.id, rung="due_soon", address="wecom:住建局群", occurrence=1)
    await deliver_due(engine, NOW, settings=mail_settings(smtp_port, webhooks=robots(webhook_server)))
    [post] = webhook_server.posts
    assert post.body == {"msgtype": "markdown", "markdown": {"content": the_message(engine, "wecom:住建局群").body_text}}


async def test_dingtalk_mentions_are_in_at_and_in_the_text_and_the_call_is_signed(engine, world, webhook_server,
                                                                                smtp_port):
    with session_scope(engine) as session:
        one = world.task(session, "t1", due_on=dt.date(2026, 12, 16), title="新建运动场")
        two = world.task(session, "t2", due_on=dt.date(2026, 12, 18), title="教师培训")
        owe(session, world, task_id=one.id, rung="due_soon", address="dingtalk:财政局群", occurrence=1,
            payload={"mention": ["13800138000", "13900139000"]})
        owe(session, world, task_id=two.id, rung="assigned", address="dingtalk:财政局群",
            payload={"mention": ["13900139000"]})
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_port, webhooks=robots(webhook_server)))
    assert len(report.sent) == 1  # the server checked the signature: a bad one is errcode 310000
    [post] = webhook_server.posts
    message = the_message(engine, "dingtalk:财政局群")
    assert post.body == {"msgtype": "markdown",
                         "markdown": {"title": "【均衡督办】本单位有 2 项任务提醒", "text": message.body_text},
                         "at": {"atMobiles": ["13800138000", "13900139000"], "isAtAll": False}}
    assert message.body_text.endswith("\n@13800138000 @13900139000\n")  # 钉钉 highlights only what the text names
    assert message.body_text.startswith("### 【均衡督办】本单位有 2 项任务提醒")


async def test_a_bad_signature_is_in_the_delivery_log_and_retried(engine, world, webhook_server, smtp_port):
    with session_scope(engine) as session:
        task = world.task(session, "t1", due_on=dt.date(2026, 12, 16))
        owe(session, world, task_id=task.id, rung="due_soon", address="dingtalk:财政局群", occurrence=1)
    configured = robots(webhook_server)
    wrong = {**configured, "财政局群": configured["财政局群"].model_copy(update={"secret": "SECwrong"})}
    report = await deliver_due(engine, NOW, settings=mail_settings(smtp_port, webhooks=wrong))
    message = the_message(engine, "dingtalk:财政局群")
    assert report.sent == [] and report.failed == [(message.id, "群机器人「财政局群」拒绝：310000 sign not match")]
    assert (message.state, message.attempts, message.last_error) == ("failed", 1,
                                                                   "群机器人「财政局群」拒绝：310000 sign not match")
    assert message.next_attempt_at == NOW + dt.timedelta(minutes=1)
    report = await deliver_due(engine, NOW + dt.timedelta(minutes=1), settings=mail_settings(smtp_port,
                                                                                          webhooks=configured))
    message = the_message(engine, "dingtalk:财政局群")
    assert report.sent == [message.id] and (message.state, message.attempts, message.last_error) == ("sent", 2, "")


# -- rate limits -----------------------------------------------------------------------------------

def queue_messages(engine, world, address: str, count: int, start: int = 0) -> None:
    """Messages waiting for a robot, as compose leaves them (one per sweep and robot in real life)."""
    with session_scope(engine) as session:
        session.add_all([OutboundMessage(
            campaign_id=world.campaign.id, channel=address.partition(":")[0], recipient_name="群",
            recipient_address=address, subject=f"通知 {n}", body_text=f"第 {n} 条",
            message_id_header=f"<robot-{address}-{n}@test>", next_attempt_at=NOW) for n in range(start, start + count)])


def states(engine, address: str) -> list[tuple[str, int, dt.datetime]]:
    with Session(engine) as session:
        return [(m.state, m.attempts, m.next_attempt_at) for m in session.exec(
            select(OutboundMessage).where(OutboundMessage.recipient_address == address).order_by(OutboundMessage.id))]


async def test_twenty_a_minute_per_robot_the_rest_queued_never_dropped(engine, world, webhook_server, smtp_port):
    queue_messages(engine, world, "dingtalk:财政局群", 25)
    queue_messages(engine, world, "wecom:住建局群", 3)
    settings = mail_settings(smtp_port, webhooks=robots(webhook_server))

    report = await deliver_due(engine, NOW, settings=settings)
    assert len(posts_to(webhook_server, "/robot/send")) == 20  # 财政局群's minute is full
    assert len(posts_to(webhook_server, "/cgi-bin/webhook/send")) == 3  # the limit is per robot
    assert len(report.sent) == 23
    assert report.held == ["群机器人「财政局群」每分钟最多 20 条：5 条排队，09:01:00 起再发"]
    waiting = [s for s in states(engine, "dingtalk:财政局群") if s[0] != "sent"]
    # queued, not failed: no attempt counted, due when the minute frees up
    assert waiting == [("queued", 0, NOW + dt.timedelta(minutes=1))] * 5

    report = await deliver_due(engine, NOW + dt.timedelta(seconds=30), settings=settings)
    assert report.sent == [] and len(webhook_server.posts) == 23

    report = await deliver_due(engine, NOW + dt.timedelta(minutes=1), settings=settings)
    assert len(report.sent) == 5 and report.held == []
    assert [s[0] for s in states(engine, "dingtalk:财政局群")] == ["sent"] * 25

    # the window slides: 5 posted at 09:01:00, so at 09:01:10 there is room for 15 more
    queue_messages(engine, world, "dingtalk:财政局群", 30, start=100)
    report = await deliver_due(engine, NOW + dt.timedelta(seconds=70), settings=settings)
    assert len(report.sent) == 15
    assert report.held == ["群机器人「财政局群」每分钟最多 20 条：15 条排队，09:02:00 起再发"]
    with Session(engine) as session:
        window = session.get(RobotWindow, "财政局群")
    assert len(window.posts) == 20
    assert len(posts_to(webhook_server, "/robot/send")) == 40


async def test_a_robot_that_says_too_many_puts_the_rest_off_a_minute(engine, world, webhook_server, smtp_port):
    queue_messages(engine, world, "wecom:住建局群", 4)
    webhook_server.replies = [{"errcode": 0, "errmsg": "ok"},
                              {"errcode": 45009, "errmsg": "api freq out of limit"}]
    settings = mail_settings(smtp_port, webhooks=robots(webhook_server))
    report = await deliver_due(engine, NOW, settings=settings)
    assert len(report.sent) == 1 and report.failed == [] and report.dead == []
    assert len(webhook_server.posts) == 2  # after 45009 the other two are not posted at all
    later = NOW + dt.timedelta(minutes=1)
    assert [s for s in states(engine, "wecom:住建局群") if s[0] != "sent"] == [("queued", 0, later)] * 3

    # the robot's minute is full from 45009 on: nothing is posted before it ends
    queue_messages(engine, world, "wecom:住建局群", 1, start=10)
    report = await deliver_due(engine, NOW + dt.timedelta(seconds=59), settings=settings)
    assert report.sent == [] and len(webhook_server.posts) == 2
    report = await deliver_due(engine, later, settings=settings)
    assert len(report.sent) == 4 and len(webhook_server.posts) == 6


# -- from the plan to the group --------------------------------------------------------------------

PLAN = _replace("    联系人: [{姓名: 庚, 邮箱: g@gov.small.example}]\n",
                "    群机器人: 财政局群\n    联系人: [{姓名: 庚, 电话: 138 0013 8000}]\n", SMALL)


async def test_a_plan_contact_without_email_is_told_in_the_units_group(engine, webhook_server, monkeypatch):
    configured = robots(webhook_server)
    monkeypatch.setenv("JUNHENG_WEBHOOKS", json.dumps({n: r.model_dump() for n, r in configured.items()}))
    get_settings.cache_clear()
    plan = parse_plan(PLAN, robots=set(get_settings().webhooks))
    with time_machine.travel(NOW, tick=False):
        with session_scope(engine) as session:
            campaign = apply_plan(session, plan)
            finance = session.exec(select(Department).where(Department.name == "县财政局")).one()
            phase = session.exec(select(Phase).where(Phase.campaign_id == campaign.id)).first()
            task = create_task(session, campaign=campaign, phase=phase, title="生均公用经费足额拨付",
                               measures="按标准拨付", origin=TaskOrigin.plan, origin_key="k1",
                               due_on=dt.date(2026, 12, 31), department=finance)
            task_id = task.id
        with Session(engine) as session:
            swept = sweep(session, NOW)
    assert swept.problems == []
    assert [(line.rung.value, line.recipient_address) for line in swept.new_lines] == [("assigned", "dingtalk:财政局群")]
    report = await deliver_due(engine, NOW, settings=get_settings().model_copy(update={"smtp_host": None}))
    assert len(report.sent) == 1
    [post] = webhook_server.posts
    assert post.body["at"] == {"atMobiles": ["13800138000"], "isAtAll": False}
    assert post.body["markdown"]["title"] == "【均衡督办】任务交办单：生均公用经费足额拨付"
    assert f"/tasks/{task_id}" in post.body["markdown"]["text"]
    assert post.body["markdown"]["text"].endswith("@13800138000\n")
    get_settings.cache_clear()


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
def test_the_notice_address_names_the_robots_kind(kind):
    assert WebhookRobot(url="http://127.0.0.1/x", kind=kind).address("群") == f"{kind}:群"


# -- the office is told in its group ---------------------------------------------------------------

async def test_an_office_without_email_learns_of_a_dead_message_in_its_group(engine, world, webhook_server,
                                                                           smtp_server):
    smtp_server.handler.refuse_rcpt.add("li@example.cn")  # 550: given up at once
    with session_scope(engine) as session:
        wang = world.people["王主任"]
        wang.email, wang.phone = "", "13900139000"
        session.add(wang)
        world.campaign.plan = {"departments": [{"name": "领导小组办公室", "kind": "office", "robot": "住建局群"}]}
        session.add(world.campaign)
        task = world.task(session, "t1", due_on=dt.date(2026, 12, 16), title="新建运动场")
        owe(session, world, task_id=task.id, rung="due_soon", person="李科长", occurrence=1)
    settings = mail_settings(smtp_server.port, webhooks=robots(webhook_server))
    report = await deliver_due(engine, NOW, settings=settings)
    assert len(report.dead) == 1 and report.office_told == 1 and report.problems == []
    report = await deliver_due(engine, NOW, settings=settings)  # the 投递失败通知 is urgent: at once
    assert len(report.sent) == 1
    [post] = webhook_server.posts
    assert post.body["msgtype"] == "text" and post.body["text"]["mentioned_mobile_list"] == ["13900139000"]
    content = post.body["text"]["content"]
    assert content.startswith("【均衡督办】投递失败通知：发给李科长的通知未能送达")
    assert "收件人：李科长（li@example.cn）" in content and "550" in content
