"""Re-running a changed plan: tasks whose due date the plan gave follow a moved gate or deadline,
with one ``task.due_changed`` event each; everything else keeps its date and its history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import Session, select

from tracker.campaigns.selfcheck import run_self_check
from tracker.campaigns.service import apply_plan, apply_plan_report
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign
from tracker.org.service import find_person
from tracker.plans import load_plan, parse_plan
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.tasks.reconcile import redated_by_assessment
from tracker.tasks.service import (
    RedatedTask,
    campaign_status,
    change_due_date,
    list_tasks,
)
from tracker.workdays import add_working_days

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CHINA = ZoneInfo("Asia/Shanghai")
# the campaign's first day: every date of the example plan is still ahead (no task is re-dated)
CAMPAIGN_START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA)
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


@time_machine.travel(CAMPAIGN_START, tick=False)
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
        verified.evidence_required = False  # the office waives the evidence rule for this one (issue 12)
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


@time_machine.travel(CAMPAIGN_START, tick=False)
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


# ---------------------------------------------------------------------------------------------
# No task is born overdue (issue 9)


def test_a_self_check_after_a_preparatory_date_gives_that_task_working_days(engine):
    """The demo's case: P01 学习培训 is due 12-04 in the plan; the self-check runs on Monday 12-07.
    The task keeps 12-04 as its 原定时限, is due five working days on (12-14), and nothing is
    overdue on day one: not the task, not its lead unit, not the units cooperating on it."""
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=CHINA)
    with time_machine.travel(now, tick=False), session_scope(engine) as session:
        today = now.date()
        # the plan's preparatory tasks are made by campaign init (issue 12 §1), re-dated there
        applied = apply_plan_report(session, load_plan(EXAMPLES / "plan.yaml"))
        campaign = applied.campaign
        [p01] = _tasks(session, origin_key="plan|P01")
        assert applied.redated == [(p01.id, "学习培训", dt.date(2026, 12, 4), dt.date(2026, 12, 14))]
        assert RedatedTask.of(p01, today) == RedatedTask(p01.id, "学习培训", dt.date(2026, 12, 4),
                                                         dt.date(2026, 12, 14), 5)
        result = run_self_check(session, campaign, EXAMPLES / "schools.xlsx", actor="韩静")
        assert p01.planned_due_on == dt.date(2026, 12, 4)
        assert p01.due_on == add_working_days(today, 5) == dt.date(2026, 12, 14)
        # the self-check finds them there: it creates and re-dates none of them again
        assert p01.id in result.reconcile.unchanged and result.reconcile.redated == []
        assert _tasks(session, origin_key="plan|P02")[0].planned_due_on is None
        assert list_tasks(session, campaign, overdue=True, today=today) == []
        status = campaign_status(session, campaign, today)
        assert status["tasks"]["overdue"] == 0 and all(d["overdue"] == 0 for d in status["departments"])
        [created] = session.exec(select(Event).where(Event.task_id == p01.id, Event.type == "task.created")).all()
        assert (created.payload["due_on"], created.payload["planned_due_on"], created.payload["redated_working_days"]) \
            == ("2026-12-14", "2026-12-04", 5)
        # the self-check again: nothing new, nothing re-dated again
        again = run_self_check(session, campaign, EXAMPLES / "schools.xlsx", actor="韩静")
        assert again.reconcile.created == [] and again.reconcile.redated == []
        # told later too (the data page): what each assessment's reconciliation re-dated
        assert redated_by_assessment(session, result.snapshot) == result.reconcile.redated
        assert redated_by_assessment(session, again.snapshot) == []
        assert session.get(Task, p01.id).due_on == dt.date(2026, 12, 14)


def test_a_phase_re_dated_into_the_past_gives_its_tasks_working_days(engine):
    """The plan is changed on 12-21: the self-check gate moves from 12-31 to 12-15 and P06 from
    12-25 to 12-18, both already past. Their open tasks are not overdue at once: they are due
    five working days on (12-28) with the new plan date as 原定时限. P01, re-dated at creation,
    keeps its working date when its passed date moves again; P02, already overdue, stays so."""
    with time_machine.travel(CAMPAIGN_START, tick=False), session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        run_self_check(session, campaign, EXAMPLES / "schools.xlsx", actor="韩静")
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=CHINA), tick=False), \
            session_scope(engine) as session:
        # as if P01 had been created late: re-dated to 12-14 (the case above)
        [p01] = _tasks(session, origin_key="plan|P01")
        change_due_date(session, p01, dt.date(2026, 12, 14), planned_due_on=dt.date(2026, 12, 4))
    changed = (PLAN_TEXT
               .replace("{编号: self_check, 名称: 自查自评, 类型: 自查自评, 开始: 2026-12-01, 关口: 2026-12-31}",
                        "{编号: self_check, 名称: 自查自评, 类型: 自查自评, 开始: 2026-12-01, 关口: 2026-12-15}")
               .replace("    完成时限: 2026-12-25", "    完成时限: 2026-12-18")
               .replace("    完成时限: 2026-12-04", "    完成时限: 2026-12-03")
               .replace("    完成时限: 2026-12-09", "    完成时限: 2026-12-08"))
    now = dt.datetime(2026, 12, 21, 9, 0, tzinfo=CHINA)
    with time_machine.travel(now, tick=False), session_scope(engine) as session:
        report = apply_plan_report(session, parse_plan(changed), actor="苏晓")
        assert ("任务截止日期随方案调整 2026-12-31 → 2026-12-28"
                "（方案日期 2026-12-15 已过，作为原定时限保留，办理时限顺延）") in "\n".join(report.changes)
        assert any(c.startswith("任务截止日期随方案调整 2026-12-25 → 2026-12-28（方案日期 2026-12-18 已过")
                   for c in report.changes)
        assert any(c.startswith("任务原定时限随方案调整为 2026-12-03（已过），办理时限 2026-12-14 不变：")
                   for c in report.changes)
        assert any(c.startswith("任务截止日期随方案调整 2026-12-09 → 2026-12-08：") for c in report.changes)
        attest = _tasks(session, origin=TaskOrigin.attestation.value)
        assert attest and {(t.due_on, t.planned_due_on) for t in attest} == {
            (dt.date(2026, 12, 28), dt.date(2026, 12, 15))}
        [p06] = _tasks(session, origin_key="plan|P06")
        assert (p06.due_on, p06.planned_due_on) == (dt.date(2026, 12, 28), dt.date(2026, 12, 18))
        [event] = _due_changes(session, p06.id)
        assert event.payload["planned_due_on"] == "2026-12-18" and event.payload["due_to"] == "2026-12-28"
        assert "2026-12-18 已过" in event.payload["reason"]
        p01 = session.get(Task, p01.id)
        assert (p01.due_on, p01.planned_due_on) == (dt.date(2026, 12, 14), dt.date(2026, 12, 3))
        [p02] = _tasks(session, origin_key="plan|P02")
        assert (p02.due_on, p02.planned_due_on) == (dt.date(2026, 12, 8), None)
        # the same plan again: nothing moves
        assert apply_plan_report(session, parse_plan(changed)).moved_tasks == 0
    # a later plan gives the self-check gate a date ahead again: the tasks follow it, 原定时限 gone
    later = changed.replace("开始: 2026-12-01, 关口: 2026-12-15}", "开始: 2026-12-01, 关口: 2027-01-15}")
    with time_machine.travel(now, tick=False), session_scope(engine) as session:
        apply_plan_report(session, parse_plan(later), actor="苏晓")
        assert {(t.due_on, t.planned_due_on) for t in _tasks(session, origin=TaskOrigin.attestation.value)} == {
            (dt.date(2027, 1, 15), None)}
