"""The office's 督办 moves (issue 12 §2–3): 延期申请 and its decision, 调整时限, 转办, 分解, 联办,
批量签收. Each move writes one event on each task it moves; each refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories_db import World, build_world
from tracker.events.models import Event
from tracker.notices.models import NoticeItem
from tracker.tasks import lifecycle, moves
from tracker.tasks.lifecycle import InvalidTaskInput, NotPermitted, TransitionError
from tracker.tasks.models import (
    CooperatorReport,
    ExtensionStatus,
    Task,
    TaskCooperator,
    TaskExtension,
    TaskStatus,
)
from tracker.tasks.service import change_due_date

S = TaskStatus
DUE = dt.date(2026, 12, 18)
NOW = dt.datetime(2026, 12, 10, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def world(session) -> World:
    return build_world(session)


def count(session: Session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def events(session: Session, task: Task) -> list[str]:
    return list(session.exec(select(Event.type).where(Event.task_id == task.id).order_by(Event.id)))


def snapshot(session: Session) -> tuple:
    """Everything a refused move must leave alone."""
    session.flush()
    tasks = tuple(session.exec(select(Task.id, Task.status, Task.due_on, Task.department_id,
                                      Task.responsible_school_id, Task.parent_id).order_by(Task.id)))
    return (tasks, count(session, Event), count(session, NoticeItem), count(session, TaskExtension),
            count(session, CooperatorReport),
            tuple(session.exec(select(TaskExtension.id, TaskExtension.status).order_by(TaskExtension.id))))


# ---------------------------------------------------------------------------------------------
# 延期申请


def test_the_lead_unit_asks_and_the_office_approves_the_due_date_moves_and_the_unit_is_told(session, world):
    task = world.task(session, "t1", due_on=DUE)
    lifecycle.accept(session, task, world.people["李科长"], at=NOW)
    ext = moves.request_extension(session, task, world.people["李科长"], dt.date(2026, 12, 31), "资金下达推迟", at=NOW)
    assert ext.status == ExtensionStatus.pending.value and ext.due_from == DUE
    assert moves.pending_extension(session, task.id).id == ext.id
    assert events(session, task)[-1] == "task.extension_requested"

    later = NOW + dt.timedelta(hours=1)
    moves.approve_extension(session, ext, world.people["王主任"], at=later)
    session.refresh(task)
    assert task.due_on == dt.date(2026, 12, 31)
    assert task.next_reminder_at == later  # the ladder is worked out again on the new date
    assert moves.pending_extension(session, task.id) is None
    assert ext.status == ExtensionStatus.approved.value and ext.decided_by == "王主任"
    assert events(session, task)[-1] == "task.extension_approved"
    approved = session.exec(select(Event).where(Event.type == "task.extension_approved")).one()
    assert approved.payload["due_from"] == "2026-12-18" and approved.payload["due_to"] == "2026-12-31"
    told = list(session.exec(select(NoticeItem).where(NoticeItem.task_id == task.id, NoticeItem.rung == "extension")))
    assert [n.recipient_address for n in told] == ["li@example.cn"]
    assert "2026年12月31日" in told[0].payload["reason"]


def test_the_office_refuses_with_a_reason_and_the_date_stays(session, world):
    task = world.task(session, "t1", due_on=DUE)
    ext = moves.request_extension(session, task, world.people["李科长"], dt.date(2026, 12, 31), "资金下达推迟", at=NOW)
    before = snapshot(session)
    with pytest.raises(InvalidTaskInput, match="必须说明原因"):
        moves.refuse_extension(session, ext, world.people["王主任"], "  ")
    assert snapshot(session) == before
    moves.refuse_extension(session, ext, world.people["王主任"], "时间节点不能后延", at=NOW)
    session.refresh(task)
    assert task.due_on == DUE and ext.status == ExtensionStatus.refused.value
    assert events(session, task)[-1] == "task.extension_refused"
    told = session.exec(select(NoticeItem).where(NoticeItem.rung == "extension")).one()
    assert "时间节点不能后延" in told.payload["reason"]
    # decided: a second decision is refused and changes nothing
    before = snapshot(session)
    with pytest.raises(TransitionError, match="不同意，不能再审批"):
        moves.approve_extension(session, ext, world.people["王主任"])
    assert snapshot(session) == before


@pytest.mark.parametrize("who, error", [("王主任", NotPermitted), ("张局长", NotPermitted), ("赵校长", NotPermitted)])
def test_only_the_lead_unit_may_ask(session, world, who, error):
    task = world.task(session, "t1", due_on=DUE)
    before = snapshot(session)
    with pytest.raises(error):
        moves.request_extension(session, task, world.people[who], dt.date(2026, 12, 31), "理由")
    assert snapshot(session) == before


def test_a_school_asks_for_its_own_task(session, world):
    task = world.task(session, "t1", unit="城关一小", due_on=DUE)
    ext = moves.request_extension(session, task, world.people["赵校长"], dt.date(2026, 12, 25), "施工队未进场", at=NOW)
    assert ext.requested_by == "赵校长"


@pytest.mark.parametrize("who", ["李科长", "张局长"])
def test_only_the_office_decides(session, world, who):
    task = world.task(session, "t1", due_on=DUE)
    ext = moves.request_extension(session, task, world.people["李科长"], dt.date(2026, 12, 31), "理由", at=NOW)
    before = snapshot(session)
    with pytest.raises(NotPermitted):
        moves.approve_extension(session, ext, world.people[who])
    with pytest.raises(NotPermitted):
        moves.refuse_extension(session, ext, world.people[who], "不行")
    assert snapshot(session) == before


def test_bad_requests_are_refused_and_change_nothing(session, world):
    task = world.task(session, "t1", due_on=DUE)
    li = world.people["李科长"]
    before = snapshot(session)
    with pytest.raises(InvalidTaskInput, match="必须晚于"):
        moves.request_extension(session, task, li, DUE, "理由")
    with pytest.raises(InvalidTaskInput, match="必须说明原因"):
        moves.request_extension(session, task, li, dt.date(2026, 12, 31), "")
    with pytest.raises(InvalidTaskInput, match="必须是日期"):
        moves.request_extension(session, task, li, "2026-12-31", "理由")  # type: ignore[arg-type]
    with pytest.raises(InvalidTaskInput, match="超出可用范围"):
        moves.request_extension(session, task, li, dt.date(9999, 12, 31), "理由")
    assert snapshot(session) == before


def test_one_pending_request_per_task(session, world):
    task = world.task(session, "t1", due_on=DUE)
    li = world.people["李科长"]
    moves.request_extension(session, task, li, dt.date(2026, 12, 31), "理由", at=NOW)
    before = snapshot(session)
    with pytest.raises(TransitionError, match="已有待审批的延期申请"):
        moves.request_extension(session, task, li, dt.date(2027, 1, 8), "再延", at=NOW)
    assert snapshot(session) == before


def test_the_unique_pending_key_stops_a_second_request_that_slipped_past_the_check(session, world, monkeypatch):
    """Two requests at the same moment both pass the look-up; the store keeps one."""
    task = world.task(session, "t1", due_on=DUE)
    li = world.people["李科长"]
    moves.request_extension(session, task, li, dt.date(2026, 12, 31), "理由", at=NOW)
    monkeypatch.setattr(moves, "pending_extension", lambda s, task_id: None)
    before = snapshot(session)
    with pytest.raises(TransitionError, match="已有待审批的延期申请"):
        moves.request_extension(session, task, li, dt.date(2027, 1, 8), "再延", at=NOW)
    assert snapshot(session) == before


def test_no_request_once_submitted_and_no_approval_once_the_task_left_the_unit(session, world):
    task = world.task(session, "t1", due_on=DUE)
    li, wang = world.people["李科长"], world.people["王主任"]
    ext = moves.request_extension(session, task, li, dt.date(2026, 12, 31), "理由", at=NOW)
    lifecycle.accept(session, task, li)
    lifecycle.submit(session, task, li, "完成")
    before = snapshot(session)
    with pytest.raises(TransitionError, match="不能同意延期"):
        moves.approve_extension(session, ext, wang)
    assert snapshot(session) == before
    assert task.due_on == DUE and ext.status == ExtensionStatus.pending.value


# ---------------------------------------------------------------------------------------------
# 调整时限


def test_the_office_redates_with_a_reason(session, world):
    task = world.task(session, "t1", due_on=DUE)
    event = moves.redate(session, task, world.people["王主任"], dt.date(2027, 1, 15), "上级调整时间节点", at=NOW)
    assert event.type == "task.due_changed" and event.payload["reason"] == "上级调整时间节点"
    assert task.due_on == dt.date(2027, 1, 15) and task.next_reminder_at == NOW


def test_a_redate_is_refused_to_units_without_a_reason_and_on_closed_tasks(session, world):
    task = world.task(session, "t1", due_on=DUE)
    before = snapshot(session)
    with pytest.raises(NotPermitted):
        moves.redate(session, task, world.people["李科长"], dt.date(2027, 1, 15), "理由")
    with pytest.raises(InvalidTaskInput):
        moves.redate(session, task, world.people["王主任"], dt.date(2027, 1, 15), "")
    with pytest.raises(InvalidTaskInput, match="已是"):
        moves.redate(session, task, world.people["王主任"], DUE, "理由")
    assert snapshot(session) == before
    lifecycle.withdraw(session, task, world.people["王主任"], "不再需要")
    before = snapshot(session)
    with pytest.raises(TransitionError, match="已撤销"):
        moves.redate(session, task, world.people["王主任"], dt.date(2027, 1, 15), "理由")
    assert snapshot(session) == before


# ---------------------------------------------------------------------------------------------
# 转办


def test_the_office_transfers_a_task_to_another_lead_unit_keeping_its_history(session, world):
    task = world.task(session, "t1", due_on=DUE)
    session.add(TaskCooperator(task_id=task.id, department_id=world.departments["住建局"].id))
    li, wang = world.people["李科长"], world.people["王主任"]
    lifecycle.accept(session, task, li)
    ext = moves.request_extension(session, task, li, dt.date(2026, 12, 31), "理由", at=NOW)
    unit = moves.find_unit(session, world.campaign, "住建")
    event = moves.transfer(session, task, wang, unit, "职责调整", at=NOW)
    assert event.type == "task.transferred"
    assert event.payload["from_unit"] == "财政局" and event.payload["to_unit"] == "住建局"
    assert task.department_id == world.departments["住建局"].id
    assert task.status == S.assigned.value and task.assignee_id is None and task.acknowledged_at is None
    assert task.next_reminder_at == NOW  # the sweep sends the new unit its 交办单
    assert count(session, TaskCooperator, TaskCooperator.task_id == task.id) == 0  # no longer its own cooperator
    assert events(session, task) == ["task.created", "task.accepted", "task.extension_requested", "task.transferred"]
    assert session.get(TaskExtension, ext.id).status == ExtensionStatus.refused.value  # lapsed
    # the old unit may no longer act; the new one signs
    with pytest.raises(NotPermitted):
        lifecycle.accept(session, task, li)
    lifecycle.accept(session, task, world.people["张局长"])


def test_a_transfer_to_a_school(session, world):
    task = world.task(session, "t1", due_on=DUE)
    moves.transfer(session, task, world.people["王主任"], moves.find_unit(session, world.campaign, "城关一小"),
                   "由学校自行整改", at=NOW)
    assert task.department_id is None and task.responsible_school_id == world.schools["城关一小"].id


def test_a_transfer_is_refused_and_changes_nothing(session, world):
    task = world.task(session, "t1", due_on=DUE)
    wang = world.people["王主任"]
    zhujian = moves.find_unit(session, world.campaign, "住建局")
    before = snapshot(session)
    with pytest.raises(NotPermitted):
        moves.transfer(session, task, world.people["李科长"], zhujian, "理由")
    with pytest.raises(InvalidTaskInput, match="必须说明原因"):
        moves.transfer(session, task, wang, zhujian, " ")
    with pytest.raises(InvalidTaskInput, match="已是"):
        moves.transfer(session, task, wang, moves.find_unit(session, world.campaign, "财政局"), "理由")
    with pytest.raises(InvalidTaskInput, match="不是本创建工作的单位"):
        moves.find_unit(session, world.campaign, "不存在局", "牵头单位")
    assert snapshot(session) == before
    lifecycle.accept(session, task, world.people["李科长"])
    lifecycle.submit(session, task, world.people["李科长"])
    before = snapshot(session)
    with pytest.raises(TransitionError, match="已提交"):
        moves.transfer(session, task, wang, zhujian, "理由")
    assert snapshot(session) == before


# ---------------------------------------------------------------------------------------------
# 分解


def test_a_township_splits_its_task_for_schools_and_submits_when_every_child_is_done(session, world):
    parent = world.task(session, "p", unit="城关镇", due_on=dt.date(2027, 5, 31), title="辖区学校完善功能室")
    township = __import__("tracker.org.models", fromlist=["Person"]).Person(
        campaign_id=world.campaign.id, name="陈镇长", email="chen@example.cn", is_contact=True,
        department_id=world.departments["城关镇"].id)
    session.add(township)
    session.flush()
    lifecycle.accept(session, parent, township)
    kids = moves.split(session, parent, township, [
        moves.SubTask("城关一小完善功能室", moves.find_unit(session, world.campaign, "城关一小"), dt.date(2027, 5, 31)),
        moves.SubTask("住建局审核图纸", moves.find_unit(session, world.campaign, "住建局"), dt.date(2027, 4, 30), "5 月前"),
    ], at=NOW)
    assert [k.parent_id for k in kids] == [parent.id, parent.id]
    assert kids[0].responsible_school_id == world.schools["城关一小"].id and kids[0].phase_id == parent.phase_id
    assert [events(session, k) for k in kids] == [["task.created"], ["task.created"]]
    assert events(session, parent)[-1] == "task.split"
    assert [k.id for k in moves.children(session, parent.id)] == [k.id for k in kids]

    before = snapshot(session)
    with pytest.raises(TransitionError, match="分解任务尚未全部销号"):
        lifecycle.submit(session, parent, township)
    assert snapshot(session) == before
    wang = world.people["王主任"]
    for kid, who in zip(kids, (world.people["赵校长"], world.people["张局长"])):
        lifecycle.accept(session, kid, who)
        lifecycle.submit(session, kid, who)
        if kid is kids[0]:
            lifecycle.verify(session, kid, wang)
    with pytest.raises(TransitionError, match=f"#{kids[1].id}（已提交）"):
        lifecycle.submit(session, parent, township)
    lifecycle.verify(session, kids[1], wang)
    lifecycle.submit(session, parent, township)
    assert parent.status == S.submitted.value


def test_a_split_is_refused_and_changes_nothing(session, world):
    parent = world.task(session, "p", due_on=DUE)
    school = moves.find_unit(session, world.campaign, "城关一小")
    before = snapshot(session)
    with pytest.raises(NotPermitted):  # a cooperating or other unit may not split
        moves.split(session, parent, world.people["张局长"], [moves.SubTask("甲", school, DUE)])
    with pytest.raises(InvalidTaskInput, match="不能晚于"):
        moves.split(session, parent, world.people["李科长"], [moves.SubTask("甲", school, dt.date(2027, 1, 1))])
    with pytest.raises(InvalidTaskInput, match="第 2 项子任务的标题不能为空"):
        moves.split(session, parent, world.people["王主任"],
                    [moves.SubTask("甲", school, DUE), moves.SubTask(" ", school, DUE)])
    with pytest.raises(InvalidTaskInput, match="至少要有一项"):
        moves.split(session, parent, world.people["王主任"], [])
    assert snapshot(session) == before


def test_the_office_splits_twice_and_keys_do_not_collide(session, world):
    parent = world.task(session, "p", due_on=DUE)
    school = moves.find_unit(session, world.campaign, "城关一小")
    moves.split(session, parent, world.people["王主任"], [moves.SubTask("甲", school, DUE)], at=NOW)
    moves.split(session, parent, world.people["王主任"], [moves.SubTask("乙", school, DUE)], at=NOW)
    assert [k.title for k in moves.children(session, parent.id)] == ["甲", "乙"]


# ---------------------------------------------------------------------------------------------
# 联办


def test_a_cooperating_unit_reports_its_share_and_the_office_chases_it(session, world):
    task = world.task(session, "t1", due_on=DUE)
    zhujian = world.departments["住建局"]
    session.add(TaskCooperator(task_id=task.id, department_id=zhujian.id))
    session.flush()
    report = moves.cooperator_report(session, task, world.people["张局长"], 60, "图纸已审", at=NOW)
    assert report.department_id == zhujian.id and task.status == S.assigned.value  # the task does not move
    reported = session.exec(select(Event).where(Event.type == "task.cooperator_reported")).one()
    assert reported.payload["department_id"] == zhujian.id and reported.payload["percent"] == 60
    shares = moves.cooperator_shares(session, task)
    assert [(s.name, s.percent, s.note, s.reports) for s in shares] == [("住建局", 60, "图纸已审", 1)]

    moves.chase_cooperator(session, task, world.people["王主任"], zhujian.id, "请本周内完成", at=NOW)
    moves.chase_cooperator(session, task, world.people["王主任"], zhujian.id, "", at=NOW)
    items = list(session.exec(select(NoticeItem).where(NoticeItem.rung == "coop_chase").order_by(NoticeItem.id)))
    assert [(i.recipient_address, i.occurrence) for i in items] == [("zhang@example.cn", 1), ("zhang@example.cn", 2)]
    assert items[0].payload["reason"] == "请本周内完成"
    assert moves.cooperator_shares(session, task)[0].chased == 2


def test_cooperator_moves_are_refused_and_change_nothing(session, world):
    task = world.task(session, "t1", due_on=DUE)
    zhujian = world.departments["住建局"]
    before = snapshot(session)
    with pytest.raises(NotPermitted):  # not a cooperator (yet)
        moves.cooperator_report(session, task, world.people["张局长"], 10, "进展")
    with pytest.raises(NotPermitted):  # the lead unit reports on the task itself
        moves.cooperator_report(session, task, world.people["李科长"], 10, "进展")
    with pytest.raises(InvalidTaskInput, match="不是任务"):
        moves.chase_cooperator(session, task, world.people["王主任"], zhujian.id)
    assert snapshot(session) == before
    session.add(TaskCooperator(task_id=task.id, department_id=zhujian.id))
    session.flush()
    before = snapshot(session)
    with pytest.raises(InvalidTaskInput, match="0 到 100"):
        moves.cooperator_report(session, task, world.people["张局长"], 101, "进展")
    with pytest.raises(InvalidTaskInput, match="进展说明"):
        moves.cooperator_report(session, task, world.people["张局长"], 10, " ")
    with pytest.raises(NotPermitted):
        moves.chase_cooperator(session, task, world.people["李科长"], zhujian.id)
    world.people["张局长"].email = ""
    session.add(world.people["张局长"])
    with pytest.raises(TransitionError, match="没有填写了邮箱的联系人"):
        moves.chase_cooperator(session, task, world.people["王主任"], zhujian.id)
    assert snapshot(session) == before


# ---------------------------------------------------------------------------------------------
# 批量签收


def test_batch_accept_signs_each_task_with_its_own_event_and_lists_refusals(session, world):
    mine = [world.task(session, f"t{i}", due_on=DUE) for i in range(3)]
    other = world.task(session, "x", unit="住建局", due_on=DUE)
    lifecycle.accept(session, mine[2], world.people["李科长"])
    done, refused = moves.accept_many(session, [*mine, other], world.people["李科长"], at=NOW)
    assert [t.id for t in done] == [mine[0].id, mine[1].id]
    assert [r.task_id for r in refused] == [mine[2].id, other.id]
    assert "已签收" in refused[0].reason and "不是任务" in refused[1].reason
    assert [events(session, t).count("task.accepted") for t in mine] == [1, 1, 1]
    assert other.status == S.assigned.value and events(session, other) == ["task.created"]


# ---------------------------------------------------------------------------------------------
# the briefing replays moved due dates


def test_change_due_date_and_extension_share_the_payload_keys_the_briefing_reads(session, world):
    task = world.task(session, "t1", due_on=DUE)
    e1 = change_due_date(session, task, dt.date(2026, 12, 20), actor=world.people["王主任"], reason="r")
    ext = moves.request_extension(session, task, world.people["李科长"], dt.date(2026, 12, 31), "理由", at=NOW)
    moves.approve_extension(session, ext, world.people["王主任"], at=NOW)
    e2 = session.exec(select(Event).where(Event.type == "task.extension_approved")).one()
    assert {"due_from", "due_to"} <= set(e1.payload) and {"due_from", "due_to"} <= set(e2.payload)
