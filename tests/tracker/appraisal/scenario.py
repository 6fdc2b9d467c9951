"""A small campaign for the 考核 figures, with every figure counted by hand below.

Campaign created 2026-11-30; "now" is 2026-12-21 (Monday) 10:00 Beijing. Tasks:

财政局  A due 12-04, submitted 12-03, verified 12-04          → on time, 已销号
        B due 12-04, submitted 12-08, verified 12-09          → late (Mon 7, Tue 8: 2 working days)
        C due 12-10, signed only                              → overdue now (11,14,15,16,17,18,21: 7)
                                                                 申请延期 12-09, 同意延期 12-10,
                                                                 督办单 12-15 (to 2 people: 1 督办单)
        D due 12-11, submitted 12-09, returned 12-10, submitted 12-11 → on time (已提交), 1 退回
        E due 12-31                                           → outside a period ending 12-21
住建局  F due 12-07, submitted and verified 12-07              → on time
        G due 12-15, withdrawn                                → not counted
城关一小 H due 12-08, 办理中                                   → overdue now (9 … 21: 9 working days);
                                                                 a 督办单 of 11-30, before 12-01
城关镇  no task                                               → row without rank
"""

from __future__ import annotations

import datetime as dt

import time_machine
from sqlmodel import Session

from tests.factories_db import World, build_world
from tracker.calendar import CHINA
from tracker.db import session_scope
from tracker.events.service import record_event
from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Campaign
from tracker.tasks import lifecycle

NOW = dt.datetime(2026, 12, 21, 10, 0, tzinfo=CHINA)
START, END = dt.date(2026, 12, 1), dt.date(2026, 12, 21)


def at(day: int, hour: int = 10, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=CHINA)


def _escalation(session: Session, world: World, task_id: int, when: dt.datetime, occurrence: int = 1) -> None:
    for who in ("wang@example.cn", "leader@example.cn"):
        session.add(NoticeItem(campaign_id=world.campaign.id, task_id=task_id, rung=Rung.escalation.value,
                               occurrence=occurrence, idempotency_key=f"{task_id}:escalation:{occurrence}:{who}",
                               recipient_address=who, created_at=when, not_before=when))
    session.flush()


def build_appraisal_world(engine, code: str = "demo") -> dict[str, int]:
    """Store the campaign above; the task ids by letter."""
    with time_machine.travel(at(30, 9, month=11), tick=False), session_scope(engine) as session:
        world = build_world(session, code)
        session.get(Campaign, world.campaign.id).created_at = at(30, 9, month=11)
        t = {k: world.task(session, k, unit=u, due_on=dt.date(2026, 12, d))
             for k, u, d in [("A", "财政局", 4), ("B", "财政局", 4), ("C", "财政局", 10), ("D", "财政局", 11),
                             ("E", "财政局", 31), ("F", "住建局", 7), ("G", "住建局", 15), ("H", "城关一小", 8)]}
        li, zhang, zhao, wang = (world.people[n] for n in ("李科长", "张局长", "赵校长", "王主任"))
        ids = {k: task.id for k, task in t.items()}
    with session_scope(engine) as session:
        from tracker.tasks.models import Task

        task = {k: session.get(Task, i) for k, i in ids.items()}
        people = {p.name: p for p in (li, zhang, zhao, wang)}
        li, zhang, zhao, wang = (session.merge(people[n]) for n in ("李科长", "张局长", "赵校长", "王主任"))
        for k in "ABCD":
            lifecycle.accept(session, task[k], li, at=at(1))
        lifecycle.submit(session, task["A"], li, at=at(3))
        lifecycle.verify(session, task["A"], wang, at=at(4))
        lifecycle.submit(session, task["B"], li, at=at(8))
        lifecycle.verify(session, task["B"], wang, at=at(9))
        lifecycle.submit(session, task["D"], li, at=at(9))
        lifecycle.return_task(session, task["D"], wang, "佐证材料不全", at=at(10))
        lifecycle.submit(session, task["D"], li, at=at(11))
        lifecycle.accept(session, task["F"], zhang, at=at(2))
        lifecycle.submit(session, task["F"], zhang, at=at(7, 9))
        lifecycle.verify(session, task["F"], wang, at=at(7, 15))
        lifecycle.withdraw(session, task["G"], wang, "合并到其他任务", at=at(3))
        lifecycle.accept(session, task["H"], zhao, at=at(2))
        lifecycle.report_progress(session, task["H"], zhao, 30, "在办", at=at(4))
        campaign_id = task["C"].campaign_id
        record_event(session, type="task.extension_requested", actor="李科长", campaign_id=campaign_id,
                     task_id=ids["C"], payload={"to": "2026-12-18"}, at=at(9))
        record_event(session, type="task.extension_approved", actor="王主任", campaign_id=campaign_id,
                     task_id=ids["C"], at=at(10))
        world_like = World(campaign=session.get(Campaign, campaign_id))
        _escalation(session, world_like, ids["C"], at(15, 9))
        _escalation(session, world_like, ids["H"], at(30, 15, month=11))
    return ids


# the hand count: unit → (due, on time, late, overdue, verified, returned, asked, granted, 督办单,
# mean working days late, score by the default rule, rank)
EXPECTED = {
    "财政局": (4, 2, 1, 1, 2, 1, 1, 1, 1, 4.5, 100 - 1 - 2 - 1 - 2, 2),
    "住建局": (1, 1, 0, 0, 1, 0, 0, 0, 0, None, 100, 1),
    "城关镇": (0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None),
    "城关一小": (1, 0, 0, 1, 0, 0, 0, 0, 0, 9.0, 98, 1),
}


def figures(row) -> tuple:
    return (row.due, row.on_time, row.late, row.overdue, row.verified, row.returned, row.extensions_requested,
            row.extensions_granted, row.escalations, row.mean_days_late, row.score, row.rank)
