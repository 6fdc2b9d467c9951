"""Notices to group robots (issue 12 §6): a unit that names a 群机器人 in the plan gets its notices in
the group too, @-mentioning its people by mobile number; a person without e-mail is reached only
there; a robot the settings do not know is reported, not guessed."""

from __future__ import annotations

import json

import pytest
import time_machine
from sqlalchemy import update
from sqlmodel import Session, select

from tests.factories_db import World
from tests.tracker.reminders.test_sweep import cst, expand_all, new_task
from tracker.reminders.ack import notice_ack_url
from tracker.db import utcnow
from tracker.notices.models import NoticeItem
from tracker.reminders.sweep import sweep
from tracker.settings import get_settings
from tracker.tasks.models import Task

ROBOTS = {"财政局群": {"url": "https://oapi.dingtalk.com/robot/send?access_token=t1", "secret": "SEC1"},
          "住建局群": {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k2"},
          "创建办群": {"url": "http://127.0.0.1:9/robot", "kind": "企业微信"}}


@pytest.fixture
def robots(monkeypatch):
    monkeypatch.setenv("JUNHENG_WEBHOOKS", json.dumps(ROBOTS, ensure_ascii=False))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def name_robots(session: Session, world: World, **units: str) -> None:
    """The stored plan's 群机器人 of these units (the sweep reads them from Campaign.plan)."""
    world.campaign.plan = {**(world.campaign.plan or {}), "departments": [
        {"name": name, "robot": robot} for name, robot in units.items()]}
    session.add(world.campaign)
    session.commit()


def items(session: Session) -> dict[tuple[str, str], NoticeItem]:
    expand_all(session)
    return {(i.rung, i.recipient_address): i for i in session.exec(select(NoticeItem).order_by(NoticeItem.id))}


def test_a_units_notices_go_to_its_robot_too_mentioning_its_people(session, world, robots):
    li, zhang = world.people["李科长"], world.people["张局长"]
    li.phone, zhang.phone = "138 0013 8000", "0839-5550111"  # a landline cannot be @-mentioned
    session.add_all([li, zhang])
    name_robots(session, world, 财政局="财政局群", 住建局="住建局群")
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        task = new_task(session, world)
        report = sweep(session, utcnow())
    assert report.problems == []
    owed = items(session)
    assert set(owed) == {("assigned", "li@example.cn"), ("assigned", "zhang@example.cn"),
                         ("assigned", "dingtalk:财政局群"), ("assigned", "wecom:住建局群")}
    robot = owed[("assigned", "dingtalk:财政局群")]
    assert (robot.recipient_name, robot.recipient_person_id, robot.in_copy) == ("财政局（群）", None, False)
    assert robot.payload["mention"] == ["13800138000"]
    assert robot.idempotency_key == f"{task.id}:assigned:0:dingtalk:财政局群"
    assert notice_ack_url(robot) is None  # a 签收 link is a person's: not posted in a group
    assert notice_ack_url(owed[("assigned", "li@example.cn")]) is not None
    copy = owed[("assigned", "wecom:住建局群")]  # the cooperating unit's group, in copy
    assert copy.in_copy and "mention" not in copy.payload
    # swept again at the same moment: nothing owed twice
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        session.execute(update(Task).where(Task.id == task.id).values(next_reminder_at=utcnow()))
        session.commit()
        again = sweep(session, utcnow())
    assert again.tasks == 1 and again.queued == 0


def test_a_person_without_email_is_reached_only_through_their_units_robot(session, world, robots):
    li = world.people["李科长"]
    li.email, li.phone = "", "13800138000"
    session.add(li)
    session.commit()
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        new_task(session, world, "T1", cooperating=())
        report = sweep(session, utcnow())
    # without a robot: nobody to send to, and the sweep says so
    assert report.queued == 0
    assert report.problems == ["任务 #1「落实经费 T1」的任务交办单没有可送达的收件人：财政局 没有填写了邮箱的联系人，"
                               "也没有群机器人，请在创建方案中补充。"]
    name_robots(session, world, 财政局="财政局群")
    with time_machine.travel(cst(2026, 9, 24, 11, 0), tick=False):
        new_task(session, world, "T2", cooperating=())
        report = sweep(session, utcnow())
    assert report.problems == []
    assert [(line.rung.value, line.recipient_name, line.recipient_address) for line in report.new_lines] == [
        ("assigned", "财政局（群）", "dingtalk:财政局群")]
    assert items(session)[("assigned", "dingtalk:财政局群")].payload["mention"] == ["13800138000"]


def test_the_escalation_goes_to_the_offices_robot_and_a_supervisor_without_email_is_named(session, world, robots):
    wang, sun = world.people["王主任"], world.people["孙副县长"]
    wang.phone, sun.email = "13900139000", ""
    session.add_all([wang, sun])
    name_robots(session, world, 领导小组办公室="创建办群")
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False) as traveller:
        new_task(session, world, cooperating=())
        sweep(session, utcnow())
        traveller.move_to(cst(2026, 10, 15))  # 3 working days overdue: the 督办单
        report = sweep(session, utcnow())
    escalation = {line.recipient_address: line for line in report.new_lines if line.rung.value == "escalation"}
    assert set(escalation) == {"wang@example.cn", "wecom:创建办群"}
    assert items(session)[("escalation", "wecom:创建办群")].payload["mention"] == ["13900139000"]
    # 孙副县长 has no e-mail and no unit whose robot could reach him
    assert any("督办单无法发给「孙副县长」：没有邮箱地址，其单位也没有群机器人" in p for p in report.problems)


def test_a_robot_the_settings_do_not_have_is_reported_and_left_out(session, world, robots):
    name_robots(session, world, 财政局="财务群")
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        new_task(session, world, cooperating=())
        report = sweep(session, utcnow())
    assert [line.recipient_address for line in report.new_lines] == ["li@example.cn"]
    assert report.problems == ["创建工作「demo」：单位「财政局」的群机器人「财务群」未在 JUNHENG_WEBHOOKS 中配置，其通知只发邮箱。"]
