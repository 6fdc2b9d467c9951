"""Re-running a changed plan: tasks whose due date the plan gave follow a moved gate or deadline,
with one ``task.due_changed`` event each; everything else keeps its date and its history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session, select

from tracker.campaigns.models import Campaign
from tracker.campaigns.plan import load_plan, parse_plan
from tracker.campaigns.selfcheck import run_self_check
from tracker.campaigns.service import apply_plan, apply_plan_report, find_person
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.tasks.service import change_due_date

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PLAN_TEXT = (EXAMPLES / "plan.yaml").read_text(encoding="utf-8")

CHANGED_TEXT = (
    PLAN_TEXT
    # the self-check gate moves: the attestation tasks (due at that gate) follow it
    .replace("{编号: self_check, 名称: 自查自评, 类型: 自查自评, 开始: 2026-12-01, 关口: 2026-12-31}",
             "{编号: self_check, 名称: 自查自评, 类型: 自查自评, 开始: 2026-12-01, 关口: 2027-01-15}")
    # indicator 6's deadline moves: its shortfall tasks follow (its review finding does not)
    .replace("  6: {牵头: 计财股, 配合: [财政局, 教研室], 完成时限: 2027-06-30,",
             "  6: {牵头: 计财股, 配合: [财政局, 教研室], 完成时限: 2027-07-30,")
    # indicator 12 loses its deadline: its tasks fall back to the rectification gate
    .replace("  12: {牵头: 基教股, 配合: [计财股, 编办, 发改局, 自然资源局, 住建局], 完成时限: 2027-08-31,",
             "  12: {牵头: 基教股, 配合: [计财股, 编办, 发改局, 自然资源局, 住建局],")
    # a preparatory task's date moves
    .replace("    完成时限: 2026-12-25", "    完成时限: 2026-12-28")
)


def _tasks(session: Session, **where) -> list[Task]:
    stmt = select(Task)
    for attr, value in where.items():
        stmt = stmt.where(getattr(Task, attr) == value)
    return list(session.exec(stmt.order_by(Task.id)))


def _due_changes(session: Session, task_id: int) -> list[Event]:
    return list(session.exec(select(Event).where(Event.task_id == task_id, Event.type == "task.due_changed")))


def test_changed_plan_moves_plan_dated_open_tasks_and_nothing_else(engine):
    assert CHANGED_TEXT.count("2027-01-15") == 1 and "2026-12-28" in CHANGED_TEXT
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        run_self_check(session, campaign, EXAMPLES / "schools.xlsx", actor="韩静")
        campaign_id = campaign.id
    with session_scope(engine) as session:
        office = find_person(session, session.get(Campaign, campaign_id), "韩静")
        attest = _tasks(session, origin=TaskOrigin.attestation.value)
        shortfall_6 = _tasks(session, origin=TaskOrigin.shortfall.value, indicator="6")
        shortfall_12 = _tasks(session, origin=TaskOrigin.shortfall.value, indicator="12")
        shortfall_5 = _tasks(session, origin=TaskOrigin.shortfall.value, indicator="5")
        prep = _tasks(session, origin_key="plan|P06")
        assert attest and shortfall_6 and shortfall_12 and shortfall_5 and len(prep) == 1
        assert {t.due_on for t in attest} == {dt.date(2026, 12, 31)}
        assert {t.due_on for t in shortfall_6} == {dt.date(2027, 6, 30)}
        # closed work keeps its date: one attestation verified, one withdrawn
        verified, withdrawn, by_hand = attest[0], attest[1], attest[2]
        lifecycle.accept(session, verified, office)
        lifecycle.submit(session, verified, office)
        lifecycle.verify(session, verified, office)
        lifecycle.withdraw(session, withdrawn, office, reason="并入其他任务")
        # a date set otherwise than by the plan stays
        change_due_date(session, by_hand, dt.date(2027, 1, 8), actor="韩静", reason="县政府会议确定")
        ids = {"verified": verified.id, "withdrawn": withdrawn.id, "by_hand": by_hand.id}
        followers = [t.id for t in attest[3:]]
        history_before = {t.id: len(list(session.exec(select(Event).where(Event.task_id == t.id))))
                          for t in attest[3:]}
        frozen_5 = {t.id: t.due_on for t in shortfall_5}

    with session_scope(engine) as session:
        report = apply_plan_report(session, parse_plan(CHANGED_TEXT), actor="苏晓")
        assert report.moved_tasks == len(followers) + len(shortfall_6) + len(shortfall_12) + 1
        assert any(c.startswith("任务截止日期随方案调整 2026-12-31 → 2027-01-15") for c in report.changes)
        assert any(c.startswith("任务截止日期随方案调整 2026-12-25 → 2026-12-28") for c in report.changes)
        assert not report.ladder_changed

    with Session(engine) as session:
        for task_id in followers:
            task = session.get(Task, task_id)
            assert task.due_on == dt.date(2027, 1, 15)
            [event] = _due_changes(session, task_id)
            assert event.actor == "苏晓"
            assert (event.payload["due_from"], event.payload["due_to"]) == ("2026-12-31", "2027-01-15")
            # the history grows by exactly that one event; status and progress are untouched
            assert len(list(session.exec(select(Event).where(Event.task_id == task_id)))) == history_before[task_id] + 1
            assert task.status == TaskStatus.assigned.value
            assert task.next_reminder_at is not None  # the sweep works the ladder out again
        assert {session.get(Task, t.id).due_on for t in shortfall_6} == {dt.date(2027, 7, 30)}
        # no 完成时限 any more: the rectification gate, as a new self-check would give
        assert {session.get(Task, t.id).due_on for t in shortfall_12} == {dt.date(2027, 9, 30)}
        assert session.get(Task, prep[0].id).due_on == dt.date(2026, 12, 28)
        assert {t.id: session.get(Task, t.id).due_on for t in shortfall_5} == frozen_5
        assert session.get(Task, ids["verified"]).due_on == dt.date(2026, 12, 31)
        assert session.get(Task, ids["withdrawn"]).due_on == dt.date(2026, 12, 31)
        assert session.get(Task, ids["by_hand"]).due_on == dt.date(2027, 1, 8)
        assert len(_due_changes(session, ids["by_hand"])) == 1  # only the hand-made change
        for task_id in (ids["verified"], ids["withdrawn"]):
            assert _due_changes(session, task_id) == []
        moved = session.exec(select(Event).where(Event.type == "task.due_changed")).all()

    with session_scope(engine) as session:  # the same plan again: nothing moves, nothing is written
        again = apply_plan_report(session, parse_plan(CHANGED_TEXT))
        assert again.changes == [] and again.moved_tasks == 0
    with Session(engine) as session:
        assert len(session.exec(select(Event).where(Event.type == "task.due_changed")).all()) == len(moved)


def test_a_stand_in_date_and_its_note_follow_the_gate_once_it_is_known(engine):
    """A rectification gate 以上级通知为准 at self-check time: the tasks without an indicator
    deadline stand in with the latest known gate and say so; when the plan gives the gate,
    they follow it and the note goes."""
    unknown = PLAN_TEXT.replace(
        "  12: {牵头: 基教股, 配合: [计财股, 编办, 发改局, 自然资源局, 住建局], 完成时限: 2027-08-31,",
        "  12: {牵头: 基教股, 配合: [计财股, 编办, 发改局, 自然资源局, 住建局],")
    gate = "{编号: rectification, 名称: 整改, 类型: 整改, 开始: 2027-01-01, 关口: 2027-09-30,"
    assert gate in unknown
    unknown = unknown.replace(gate, "{编号: rectification, 名称: 整改, 类型: 整改, 开始: 2027-01-01, 关口: 以上级通知为准,")
    with session_scope(engine) as session:
        campaign = apply_plan(session, parse_plan(unknown))
        run_self_check(session, campaign, EXAMPLES / "schools.xlsx", actor="韩静")
    with Session(engine) as session:
        stand_in = _tasks(session, origin=TaskOrigin.shortfall.value, indicator="12")
        assert stand_in and all(t.due_on == dt.date(2027, 6, 30) for t in stand_in)  # the latest known gate
        assert all("完成时限未定" in t.measures for t in stand_in)

    known = unknown.replace("关口: 以上级通知为准,", "关口: 2027-09-30,", 1)
    with session_scope(engine) as session:
        assert apply_plan_report(session, parse_plan(known)).moved_tasks >= len(stand_in)
    with Session(engine) as session:
        for task in stand_in:
            task = session.get(Task, task.id)
            assert task.due_on == dt.date(2027, 9, 30)
            assert "完成时限未定" not in task.measures
