"""Reasons and notes embedded in notices end in one full stop, whatever the writer typed: the 退回
mail said 「退回原因：材料不全。。」 (issue 12 §8)."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications.render import ItemView, render_email, render_markdown, sentence
from tracker.notices.models import Rung

BASE = "https://duban.example.cn"
# what people type at the end of a reason, a measure, a title
ENDINGS = ["", "。", "。。", "．", ".", "；", "，", "。 ", "\u3000", "！", "？", "…", ":"]


def views(rung: str, ending: str) -> ItemView:
    return ItemView(rung=rung, task_id=7, title="城关一小音乐教室面积不达标。",
                    measures="改建音乐教室 1 间。", unit="财政局", cooperators=["住建局"],
                    due_on=dt.date(2026, 12, 18), planned_due_on=dt.date(2026, 12, 4), redated_working_days=5,
                    light="红", days_overdue=2, past_due=True, task_url=f"{BASE}/tasks/7",
                    ack_url=f"{BASE}/ack/x.y", reason="佐证材料缺少验收报告" + ending, supervisor="刘副县长",
                    failed={"attempts": 5, "message_id": 3, "recipient_name": "李科长", "recipient_address": "li@x.example",
                            "subject": "【均衡督办】退回通知", "created_at": "2026-12-01T01:00:00+00:00",
                            "last_error": "连接被拒绝。", "permanent": True, "tasks": [{"id": 7, "title": "城关一小"}]})


@pytest.mark.parametrize("ending", ENDINGS, ids=repr)
@pytest.mark.parametrize("rung", [r.value for r in Rung])
def test_no_notice_says_a_full_stop_twice(rung, ending):
    view = views(rung, ending)
    mail = render_email([view], recipient_name="李科长", campaign_name="示例县优质均衡创建", base_url=BASE)
    bodies = {"subject": mail.subject, "text": mail.body_text, "html": mail.body_html}
    for flavor in ("wecom", "dingtalk"):
        bodies[flavor] = render_markdown([view], flavor=flavor, campaign_name="示例县", base_url=BASE).body_text
    for kind, body in bodies.items():
        assert "。。" not in body, (kind, body)
        assert "；。" not in body and "，。" not in body and "！。" not in body, (kind, body)
    if rung == Rung.returned.value:
        assert "退回原因：" in mail.body_text


def test_the_reason_of_a_return_reads_as_one_sentence():
    view = views(Rung.returned.value, "。")
    text = render_email([view], recipient_name="李科长", campaign_name="示例县", base_url=BASE).body_text
    assert "退回原因：佐证材料缺少验收报告。请补充完善后重新提交。" in text


@pytest.mark.parametrize("text, expected", [
    ("材料不全", "材料不全。"), ("材料不全。", "材料不全。"), ("材料不全。。", "材料不全。"),
    ("材料不全；", "材料不全。"), ("材料不全！", "材料不全！"), ("请核对?", "请核对?"), ("", ""), ("。", ""),
])
def test_sentence_is_idempotent(text, expected):
    assert sentence(text) == expected
    assert sentence(sentence(text)) == expected
