"""Composing: owed items become one message per recipient, each item carried exactly once."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from sqlmodel import Session, select

import notifications.compose as compose_module
from notifications.compose import channel_of, compose_pending
from tests.notifications.conftest import NOW, mail_settings, owe
from tracker.calendar.working_days import local_date
from tracker.db import session_scope
from tracker.notices.models import MessageState, NoticeItem, OutboundMessage


def _tasks(session, world):
    return (world.task(session, "t-soon", due_on=dt.date(2026, 12, 18), title="补足音乐教室"),
            world.task(session, "t-late", due_on=dt.date(2026, 12, 9), title="教师培训学时达标"),
            world.task(session, "t-zj", unit="住建局", due_on=dt.date(2026, 12, 14), title="新建运动场"))


def test_items_for_one_recipient_become_one_message(engine, world, smtp_port):
    settings = mail_settings(smtp_port)
    with session_scope(engine) as session:
        soon, late, zj = _tasks(session, world)
        owe(session, world, task_id=soon.id, rung="due_soon", person="李科长", occurrence=3, payload={"light": "黄"})
        owe(session, world, task_id=late.id, rung="chase", person="李科长", occurrence=1, payload={"light": "红"})
        owe(session, world, task_id=zj.id, rung="assigned", person="李科长", copy=True,
            payload={"light": "绿", "ack_url": "https://duban.example.cn/ack/x"})
        owe(session, world, task_id=zj.id, rung="due_today", person="张局长", payload={"light": "黄"})
    with session_scope(engine) as session:
        messages = compose_pending(session, NOW, settings=settings)
    assert len(messages) == 2
    with Session(engine) as session:
        stored = {m.recipient_address: m for m in session.exec(select(OutboundMessage))}
        items = session.exec(select(NoticeItem)).all()
    li = stored["li@example.cn"]
    assert li.subject == "【均衡督办】您有 3 项任务提醒（1 项逾期）"
    assert li.recipient_name == "李科长" and li.channel == "email" and li.state == MessageState.queued
    assert re.fullmatch(r"<junheng\.[0-9a-f]{32}@jiaoyu\.example\.cn>", li.message_id_header)
    assert "已逾期 3 个工作日" in li.body_text  # due Wed 12-09, now Mon 12-14: Thu, Fri, Mon
    assert "还剩 4 个工作日" in li.body_text
    assert "抄送您知悉" in li.body_text and "新建运动场" in li.body_text
    # the copy is not the recipient's to sign for
    assert "https://duban.example.cn/ack/x" not in li.body_text
    assert "https://duban.example.cn/tasks/" in li.body_html
    zhang = stored["zhang@example.cn"]
    assert zhang.subject == "【均衡督办】到期提醒：新建运动场"
    assert "今日到期" in zhang.body_text
    assert {i.message_id for i in items} == {li.id, zhang.id}


def test_nothing_is_composed_twice_and_the_window_is_respected(engine, world, smtp_port):
    settings = mail_settings(smtp_port)
    later = NOW + dt.timedelta(hours=8)
    with session_scope(engine) as session:
        soon, late, _ = _tasks(session, world)
        owe(session, world, task_id=soon.id, rung="due_soon", person="李科长", not_before=later)
        owe(session, world, task_id=late.id, rung="escalation", person="王主任", urgent=True, not_before=later)
    with session_scope(engine) as session:
        first = compose_pending(session, NOW, settings=settings)
    assert [m.recipient_address for m in first] == ["wang@example.cn"]  # urgent: sent outside the window
    with session_scope(engine) as session:
        assert compose_pending(session, NOW, settings=settings) == []
        second = compose_pending(session, later, settings=settings)
    assert [m.recipient_address for m in second] == ["li@example.cn"]
    with session_scope(engine) as session:
        assert compose_pending(session, later + dt.timedelta(days=1), settings=settings) == []
        assert session.exec(select(NoticeItem).where(NoticeItem.message_id.is_(None))).all() == []


def test_two_composers_at_once_never_share_an_item(engine, world, smtp_port, monkeypatch):
    """While one composer renders, a second one runs to completion: every item ends up in exactly one
    message. (SQLite: the first composer's claim finds the rows taken and backs off; PostgreSQL: the
    second composer skips the rows the first has locked.)"""
    settings = mail_settings(smtp_port)
    with session_scope(engine) as session:
        soon, late, _ = _tasks(session, world)
        owe(session, world, task_id=soon.id, rung="due_soon", person="李科长")
        owe(session, world, task_id=late.id, rung="chase", person="李科长")
    real_render = compose_module.render_email
    interleaved = []

    def render_then_let_the_other_composer_run(*args, **kwargs):
        if not interleaved:
            interleaved.append(True)
            with Session(engine) as other:
                interleaved.append(len(compose_pending(other, NOW, settings=settings)))
                other.commit()
        return real_render(*args, **kwargs)

    monkeypatch.setattr(compose_module, "render_email", render_then_let_the_other_composer_run)
    with session_scope(engine) as session:
        mine = compose_pending(session, NOW, settings=settings)
    assert len(mine) + interleaved[1] == 1
    with Session(engine) as session:
        messages = session.exec(select(OutboundMessage)).all()
        items = session.exec(select(NoticeItem)).all()
    assert len(messages) == 1
    assert {i.message_id for i in items} == {messages[0].id}


def test_robot_addresses_are_rendered_as_markdown(engine, world, smtp_port):
    with session_scope(engine) as session:
        soon, _, _ = _tasks(session, world)
        owe(session, world, task_id=soon.id, rung="due_soon", address="dingtalk:财政局群", name="财政局工作群",
            payload={"light": "黄"})
    with session_scope(engine) as session:
        [message] = compose_pending(session, NOW, settings=mail_settings(smtp_port))
    assert message.channel == "dingtalk" and message.body_html == ""
    assert message.body_text.startswith("### 【均衡督办】临期提醒：补足音乐教室")
    assert "- 完成时限：2026年12月18日（星期五）" in message.body_text
    assert channel_of("wecom:校长群") == "wecom" and channel_of("li@example.cn") == "email"


def test_the_sweeps_day_count_is_used_the_same_day_and_recounted_later(engine, world, smtp_port):
    """The sweep counts working days on the campaign's calendar; an item held overnight by the sending
    window is recounted when composed, so the message says how things stand when it goes out."""
    with session_scope(engine) as session:
        _, late, _ = _tasks(session, world)
        owe(session, world, task_id=late.id, rung="chase", person="李科长", created_at=NOW,
            payload={"days_overdue": 7})  # whatever the sweep counted that day is what the message says
        owe(session, world, task_id=late.id, rung="chase", person="张局长", created_at=NOW - dt.timedelta(days=1),
            payload={"days_overdue": 2})  # owed on Sunday, composed on Monday: recounted
    with session_scope(engine) as session:
        messages = {m.recipient_address: m for m in compose_pending(session, NOW, settings=mail_settings(smtp_port))}
    assert "已逾期 7 个工作日" in messages["li@example.cn"].body_text
    assert "已逾期 3 个工作日" in messages["zhang@example.cn"].body_text


def test_the_assignment_notice_of_a_task_created_after_its_plan_date_says_so(engine, world, smtp_port):
    """学习培训 is due 12-04 in the plan and assigned on Monday 12-07: its 交办单 (mail and robot)
    says the original deadline has passed and gives the working one, and it is not called overdue."""
    now = dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.timezone.utc)  # Monday 09:30 in China
    with time_machine.travel(now, tick=False):
        with session_scope(engine) as session:
            task = world.task(session, "p01", due_on=dt.date(2026, 12, 4), title="学习培训",
                              assigned_on=local_date(now))
            assert (task.due_on, task.planned_due_on) == (dt.date(2026, 12, 14), dt.date(2026, 12, 4))
            owe(session, world, task_id=task.id, rung="assigned", person="李科长", not_before=now,
                payload={"light": "绿", "ack_url": "https://duban.example.cn/ack/p01"})
            owe(session, world, task_id=task.id, rung="assigned", address="wecom:财政局群", name="财政局工作群",
                not_before=now, payload={"light": "绿"})
        with session_scope(engine) as session:
            messages = {m.channel: m for m in compose_pending(session, now, settings=mail_settings(smtp_port))}
    said = "原定时限 2026年12月4日已过，办理时限顺延至 2026年12月14日（5个工作日）"
    mail, robot = messages["email"], messages["wecom"]
    assert mail.subject == "【均衡督办】任务交办单：学习培训"
    assert said in mail.body_text and said in mail.body_html and said in robot.body_text
    assert "完成时限：2026年12月14日（星期一），还剩 5 个工作日" in mail.body_text
    assert "逾期" not in mail.body_text and "逾期" not in robot.body_text
