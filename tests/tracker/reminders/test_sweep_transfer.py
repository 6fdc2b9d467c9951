"""转办 (issue 12 §3) and the ladder: the new lead unit gets its own 任务交办单 at the next sweep,
its 签收提醒 count from the transfer (not from the task's creation), and a transfer back sends
the first unit a new 交办单."""

from __future__ import annotations

import datetime as dt

import time_machine

from tests.tracker.reminders.test_sweep import cst, new_task, owed
from tracker.reminders.sweep import sweep
from tracker.tasks import moves


def test_the_new_lead_unit_is_sent_its_own_assignment_and_signing_reminders_restart(session, world):
    with time_machine.travel(cst(2026, 11, 2, 9, 0), tick=False):
        task = new_task(session, world, due_on=dt.date(2026, 11, 30), cooperating=())
    first = sweep(session, cst(2026, 11, 2, 9, 0))
    assert ("assigned", 0, "李科长", False) in owed(first)
    # weeks later, unsigned, the office gives the task to 住建局
    moved_at = cst(2026, 11, 16, 9, 0)
    moves.transfer(session, task, world.people["王主任"], moves.find_unit(session, world.campaign, "住建局"),
                   "职责调整", at=moved_at)
    session.commit()
    report = sweep(session, moved_at)
    assert owed(report) == {("assigned", 1, "张局长", False)}  # no 签收提醒 at once: its clock starts now
    later = sweep(session, cst(2026, 11, 18, 9, 0))  # a working day on: the first 签收提醒
    assert {(r, who) for r, _, who, _ in owed(later)} == {("ack_resend", "张局长")}
    # back to 财政局: it is assigned again, so told again
    moves.transfer(session, task, world.people["王主任"], moves.find_unit(session, world.campaign, "财政局"),
                   "恢复原分工", at=cst(2026, 11, 19, 9, 0))
    session.commit()
    back = sweep(session, cst(2026, 11, 19, 9, 0))
    assert ("assigned", 2, "李科长", False) in owed(back)
