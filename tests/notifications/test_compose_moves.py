"""The notices of the office's 督办 moves (issue 12 §2–3) go out like the ladder's: an extension
decision to the lead unit, a 催办 to one cooperating unit, each in its own words."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from notifications.compose import compose_pending
from tests.notifications.conftest import NOW, mail_settings
from tracker.db import session_scope
from tracker.notices.models import OutboundMessage
from tracker.tasks import moves
from tracker.tasks.models import TaskCooperator


def test_an_extension_decision_and_a_cooperator_chase_are_composed(engine, world, smtp_port):
    settings = mail_settings(smtp_port)
    at = NOW - dt.timedelta(minutes=5)
    with session_scope(engine) as session:
        task = world.task(session, "t-ext", due_on=dt.date(2026, 12, 18), title="补足音乐教室")
        session.add(TaskCooperator(task_id=task.id, department_id=world.departments["住建局"].id))
        session.flush()
        ext = moves.request_extension(session, task, world.people["李科长"], dt.date(2026, 12, 31), "资金下达推迟", at=at)
        moves.refuse_extension(session, ext, world.people["王主任"], "时间节点不能后延", at=at)
        moves.chase_cooperator(session, task, world.people["王主任"], world.departments["住建局"].id,
                               "请本周内完成图纸审查", at=at)
    with session_scope(engine) as session:
        compose_pending(session, NOW, settings=settings)
    with Session(engine) as session:
        stored = {m.recipient_address: m for m in session.exec(select(OutboundMessage))}
    li, zhang = stored["li@example.cn"], stored["zhang@example.cn"]
    assert li.subject == "【均衡督办】延期申请审批结果：补足音乐教室"
    assert "不同意贵单位的延期申请（原因：时间节点不能后延）" in li.body_text
    assert "时间节点不能后延" in li.body_html
    assert zhang.subject == "【均衡督办】配合事项催办：补足音乐教室"
    assert "请本周内完成图纸审查" in zhang.body_text and "配合工作" in zhang.body_text
