"""The templates: every rung in every format says what the department needs to act on."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.render import (
    MARKDOWN_LIMITS,
    ItemView,
    cn_date,
    render_email,
    render_markdown,
    subject_for,
)
from tracker.notices.models import Rung

BASE = "https://duban.example.cn"
# materials and programme: about no task (tests/tracker/materials, tests/tracker/programmes)
TASK_RUNGS = [r for r in Rung if r not in (Rung.dead_letter, Rung.materials, Rung.programme)]


def item(rung: str, **kw) -> ItemView:
    values = dict(rung=rung, task_id=7, title="城关一小音乐教室面积不达标", measures="改建音乐教室 1 间（≥96㎡）",
                  unit="财政局", cooperators=["住建局", "城关镇"], due_on=dt.date(2026, 12, 18), light="黄",
                  days_left=4, task_url=f"{BASE}/tasks/7")
    values.update(kw)
    return ItemView(**values)


def test_chinese_dates_carry_the_weekday():
    assert cn_date(dt.date(2026, 12, 18)) == "2026年12月18日（星期五）"
    assert cn_date(dt.date(2027, 1, 3)) == "2027年1月3日（星期日）"


@pytest.mark.parametrize("rung", TASK_RUNGS, ids=lambda r: r.value)
def test_every_rung_shows_the_task_in_html_text_and_markdown(rung):
    view = item(rung.value, ack_url=f"{BASE}/ack/abc.def", reason="佐证材料缺少验收报告", supervisor="刘副县长")
    mail = render_email([view], recipient_name="李科长", campaign_name="示例县优质均衡创建", base_url=BASE)
    robots = [render_markdown([view], flavor=f, campaign_name="示例县", base_url=BASE).body_text
              for f in ("wecom", "dingtalk")]
    for body in (mail.body_text, mail.body_html, *robots):
        assert "城关一小音乐教室面积不达标" in body
        assert "改建音乐教室 1 间" in body
        assert "财政局" in body and "住建局、城关镇" in body
        assert "2026年12月18日（星期五）" in body
        assert "黄" in body
        assert "还剩 4 个工作日" in body
        assert f"{BASE}/tasks/7" in body
        # the signed acknowledgement link belongs on the 交办单 and the 签收提醒 only
        assert (f"{BASE}/ack/abc.def" in body) == (rung in (Rung.assigned, Rung.ack_resend))
    assert mail.subject.startswith("【均衡督办】")
    assert view.label in mail.subject
    if rung == Rung.returned:
        assert "佐证材料缺少验收报告" in mail.body_text and "佐证材料缺少验收报告" in mail.body_html
    if rung == Rung.escalation:
        assert "刘副县长" in mail.body_text


def test_html_is_escaped_and_text_is_not():
    view = item("assigned", title="<script>alert(1)</script>整改", measures="A & B")
    mail = render_email([view], recipient_name="李科长", campaign_name="示例县", base_url=BASE)
    assert "<script>" not in mail.body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;整改" in mail.body_html
    assert "A &amp; B" in mail.body_html
    assert "<script>alert(1)</script>整改" in mail.body_text


def test_subject_of_a_group_counts_items_and_overdue_ones():
    views = [item("due_soon"), item("chase", days_overdue=2, past_due=True, days_left=None, occurrence=1),
             item("assigned", copy=True)]
    assert subject_for(views) == "【均衡督办】您有 3 项任务提醒（1 项逾期）"
    assert subject_for(views[:1]) == "【均衡督办】临期提醒：城关一小音乐教室面积不达标"
    assert subject_for(views[1:2]) == "【均衡督办】催办通知：城关一小音乐教室面积不达标（已逾期 2 个工作日）"
    assert subject_for([views[0], views[2]]) == "【均衡督办】您有 2 项任务提醒"
    assert subject_for(views, robot=True).startswith("【均衡督办】本单位有 3 项")
    multiline = item("due_today", title="完善\r\n学校章程" + "并报备" * 20)
    subject = subject_for([multiline])
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("【均衡督办】到期提醒：完善 学校章程并报备") and subject.endswith("…")


def test_a_grouped_mail_puts_copies_apart_and_the_most_pressing_first():
    views = [item("assigned", task_id=1, title="甲任务"),
             item("escalation", task_id=2, title="乙任务", days_overdue=3, past_due=True, days_left=None),
             item("assigned", task_id=3, title="丙任务", copy=True, unit="住建局")]
    text = render_email(views, recipient_name="李科长", campaign_name="示例县", base_url=BASE).body_text
    assert text.index("乙任务") < text.index("甲任务") < text.index("抄送您知悉") < text.index("丙任务")
    assert "已交办牵头单位住建局，贵单位为配合单位" in text


def test_days_wording():
    assert item("due_today", days_left=0).days_text == "今日到期"
    assert item("chase", days_left=None, days_overdue=5, past_due=True).days_text == "已逾期 5 个工作日"
    assert item("chase", days_left=None, days_overdue=0, past_due=True).days_text == "已过完成时限"


def test_dead_letter_names_the_undelivered_message():
    view = ItemView(rung="dead_letter", failed={
        "message_id": 42, "recipient_name": "李科长", "recipient_address": "li@caizheng.example.cn",
        "subject": "【均衡督办】催办通知：某任务", "attempts": 8, "last_error": "无法连接邮件服务器",
        "created_at": "2026-12-14T01:00:00+00:00", "tasks": [{"id": 7, "title": "某任务"}]})
    mail = render_email([view], recipient_name="王主任", campaign_name="示例县", base_url=BASE)
    assert mail.subject == "【均衡督办】投递失败通知：发给李科长的通知未能送达"
    for body in (mail.body_text, mail.body_html):
        assert "li@caizheng.example.cn" in body and "无法连接邮件服务器" in body
        assert "junheng mail retry 42" in body and f"{BASE}/tasks/7" in body
        assert "2026年12月14日（星期一） 09:00" in body


@pytest.mark.parametrize("flavor", ["wecom", "dingtalk"])
def test_a_long_robot_message_stays_within_the_robot_limit(flavor):
    views = [item("chase", task_id=i, title=f"第{i}项整改任务" + "（说明）" * 10, days_overdue=2, past_due=True,
                  days_left=None) for i in range(1, 80)]
    message = render_markdown(views, flavor=flavor, campaign_name="示例县", base_url=BASE)
    assert len(message.body_text.encode("utf-8")) <= MARKDOWN_LIMITS[flavor]
    assert "另有" in message.body_text and "项未列出" in message.body_text
    assert "第1项整改任务" in message.body_text
    assert message.subject == "【均衡督办】本单位有 79 项任务提醒（79 项逾期）"
