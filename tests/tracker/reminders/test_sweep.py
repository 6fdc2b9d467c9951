"""The sweep against a real store (SQLite and PostgreSQL): one task walked through its whole ladder
on a frozen clock across 国庆 2026 and its 调休 Saturday, idempotency, dry runs, recipients,
chunks, and the hooks that keep ``next_reminder_at`` right."""

from __future__ import annotations

import datetime as dt
import threading

import time_machine
from sqlalchemy import func, update
from sqlmodel import Session, select

from tests.factories_db import World
from tracker.calendar import CHINA
from tracker.db import utcnow
from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Department, Person
from tracker.reminders.ack import notice_ack_url, read_ack_token
from tracker.reminders.expand import expand_owed
from tracker.reminders.lights import Light
from tracker.reminders.sweep import reschedule_open_tasks, schedule_next, sweep
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskOrigin
from tracker.tasks.service import create_task


def cst(y, m, d, hh=8, mm=30) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=CHINA)


def new_task(session: Session, world: World, key: str = "T1", due_on=dt.date(2026, 10, 12),
             unit: str = "财政局", cooperating=("住建局",)) -> Task:
    kwargs = ({"department": world.departments[unit]} if unit in world.departments
              else {"responsible_school": world.schools[unit]})
    task = create_task(session, campaign=world.campaign, phase=world.phases["self_check"], title=f"落实经费 {key}",
                       measures="纳入年度预算", origin=TaskOrigin.plan, origin_key=key, due_on=due_on,
                       cooperating=[world.departments[c] for c in cooperating], **kwargs)
    session.commit()
    return task


FAR_FUTURE = dt.datetime(9000, 1, 1, tzinfo=dt.timezone.utc)


def expand_all(session: Session) -> None:
    """Write the recipients' items of every notice owed so far, whatever its sending window, as
    the composer does when each window opens (the sweep writes one notice per task and rung)."""
    expand_owed(session, FAR_FUTURE)
    session.commit()


def item_count(session: Session) -> int:
    expand_all(session)
    return session.exec(select(func.count()).select_from(NoticeItem)).one()


def owed(report) -> set[tuple[str, int, str, bool]]:
    return {(line.rung.value, line.occurrence, line.recipient_name, line.copy) for line in report.new_lines}


def test_one_task_walks_the_whole_ladder_across_national_day_and_a_working_saturday(session, world):
    """Assigned Thu 2026-09-24 10:00, due Mon 2026-10-12. The 2026 calendar (chinese-calendar):
    9-25 (Fri) … 9-27 中秋 off; 10-01 … 10-07 国庆 off; Sat 10-10 is a 调休 working day, Sun 10-11 is not.

        9-24 10:00  任务交办单  李科长 (财政局 contact), 张局长 (住建局, cooperating, in copy)
        9-28 08:30  签收提醒 1  1 working day later: 9-25 is 中秋, then the weekend
        9-29 08:30  签收提醒 2  李科长 signs at 09:00: no more 签收提醒
        10-08 08:30 临期提醒 3  3 working days before 10-12: 10-10 (Sat, 调休), 10-09, 10-08 — the
                                first working day after 国庆
        10-10 08:30 临期提醒 1  1 working day before: the 调休 Saturday
        10-12 08:30 到期提醒
        10-14 08:30 催办通知 1  2 working days after: 10-13, 10-14 — to 李科长 and the head 钱局长
        10-15 08:30 督办单      3 working days after — to the office (王主任) and the 分管领导 孙副县长
        10-16 08:30 催办通知 2  submitted at 10:00: the ladder stops
        10-19 09:00 退回通知 1  returned by the office: the clock runs again
        10-20 08:30 催办通知 3  6 working days after 10-12 (10-13 … 10-16, 10-19, 10-20)
                                submitted 11:00, verified 11:30: nothing more
    """
    li, head, wang, sun, zhang = (world.people[n] for n in ("李科长", "钱局长", "王主任", "孙副县长", "张局长"))
    assert (li.is_contact, zhang.is_contact, wang.is_office) == (True, True, True)

    def step(expected_at: dt.datetime, expected: set, traveller) -> None:
        session.refresh(task)
        assert task.next_reminder_at == expected_at, f"next reminder for {expected}"
        traveller.move_to(expected_at)
        report = sweep(session, utcnow())
        expand_all(session)
        assert owed(report) == expected, expected_at
        for line in report.new_lines:
            assert line.not_before == expected_at  # every rung falls inside the sending window

    unit = {("李科长", False)}
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False) as traveller:
        task = new_task(session, world)
        step(cst(2026, 9, 24, 10, 0), {("assigned", 0, "李科长", False), ("assigned", 0, "张局长", True)}, traveller)

        traveller.move_to(cst(2026, 9, 26, 12, 0))  # 中秋 Saturday: nothing is due
        assert sweep(session, utcnow()).tasks == 0

        step(cst(2026, 9, 28), {("ack_resend", 1, n, c) for n, c in unit}, traveller)
        step(cst(2026, 9, 29), {("ack_resend", 2, n, c) for n, c in unit}, traveller)
        ack_item = session.exec(select(NoticeItem).where(NoticeItem.rung == "ack_resend",
                                                         NoticeItem.occurrence == 2)).one()
        # the link is made when the message is composed, from what the sweep stored
        claim = read_ack_token(notice_ack_url(ack_item).rsplit("/", 1)[1], utcnow())
        assert (claim.task_id, claim.person_id) == (task.id, li.id)

        traveller.move_to(cst(2026, 9, 29, 9, 0))
        lifecycle.accept(session, task, li)
        session.commit()
        step(cst(2026, 9, 29, 9, 0), set(), traveller)  # signed: the resends stop

        traveller.move_to(cst(2026, 10, 3, 12, 0))  # in the 国庆 holiday: nothing
        assert sweep(session, utcnow()).tasks == 0

        step(cst(2026, 10, 8), {("due_soon", 3, "李科长", False)}, traveller)
        step(cst(2026, 10, 10), {("due_soon", 1, "李科长", False)}, traveller)
        step(cst(2026, 10, 12), {("due_today", 0, "李科长", False)}, traveller)
        step(cst(2026, 10, 14), {("chase", 1, "李科长", False), ("chase", 1, "钱局长", False)}, traveller)
        step(cst(2026, 10, 15), {("escalation", 0, "王主任", False), ("escalation", 0, "孙副县长", False)}, traveller)
        step(cst(2026, 10, 16), {("chase", 2, "李科长", False), ("chase", 2, "钱局长", False)}, traveller)

        traveller.move_to(cst(2026, 10, 16, 10, 0))
        lifecycle.submit(session, task, li, "经费已纳入预算")
        session.commit()
        step(cst(2026, 10, 16, 10, 0), set(), traveller)
        session.refresh(task)
        assert task.next_reminder_at is None  # handed in: nothing more owed

        traveller.move_to(cst(2026, 10, 19, 9, 0))
        lifecycle.return_task(session, task, wang, "缺少预算批复文件")
        session.commit()
        step(cst(2026, 10, 19, 9, 0), {("returned", 1, "李科长", False)}, traveller)
        returned = session.exec(select(NoticeItem).where(NoticeItem.rung == "returned")).one()
        assert returned.payload["reason"] == "缺少预算批复文件"

        step(cst(2026, 10, 20), {("chase", 3, "李科长", False), ("chase", 3, "钱局长", False)}, traveller)

        traveller.move_to(cst(2026, 10, 20, 11, 0))
        lifecycle.submit(session, task, li, "已补充批复")
        traveller.move_to(cst(2026, 10, 20, 11, 30))
        lifecycle.verify(session, task, wang)
        session.commit()
        step(cst(2026, 10, 20, 11, 30), set(), traveller)
        session.refresh(task)
        assert task.next_reminder_at is None

    rows = session.exec(select(NoticeItem).order_by(NoticeItem.id)).all()
    assert len(rows) == 2 + 1 + 1 + 1 + 1 + 1 + 2 + 2 + 2 + 1 + 2
    assert len({r.idempotency_key for r in rows}) == len(rows)
    escalation = [r for r in rows if r.rung == Rung.escalation.value]
    assert {r.recipient_address for r in escalation} == {wang.email, sun.email}
    chase = [r for r in rows if r.rung == Rung.chase.value and r.occurrence == 1]
    assert {r.recipient_address for r in chase} == {li.email, head.email}
    assert chase[0].payload["light"] == Light.red.value and chase[0].payload["days_overdue"] == 2


def test_two_sweeps_at_the_same_time_queue_each_notice_once(session, world):
    now = cst(2026, 10, 14, 9, 0)
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        tasks = [new_task(session, world, f"T{i}") for i in range(3)]
    first = sweep(session, now)
    assert first.queued == item_count(session) > 0
    assert sweep(session, now).tasks == 0  # their next times moved on

    # as if the sweep had queued the items but not yet moved the tasks on (or ran twice at once)
    session.execute(update(Task).values(next_reminder_at=now))
    session.commit()
    again = sweep(session, now)
    assert again.tasks == len(tasks)
    assert again.queued == 0 and len(again.lines) == len(first.lines)
    assert item_count(session) == first.queued


def test_concurrent_sweeps_never_double_a_notice(engine, world, session):
    now = cst(2026, 10, 14, 9, 0)
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        for i in range(40):
            new_task(session, world, f"C{i}")
    expected = {(line.task_id, line.rung, line.recipient_name) for line in sweep(session, now, dry_run=True).lines}
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine) as own:
                sweep(own, now, chunk_size=7)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expand_all(session)
    rows = session.exec(select(NoticeItem)).all()
    assert {(r.task_id, Rung(r.rung), r.recipient_name) for r in rows} == expected
    assert len(rows) == len(expected)


def test_dry_run_lists_what_would_be_queued_and_writes_nothing(session, world):
    now = cst(2026, 10, 14, 9, 0)
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        task = new_task(session, world)
    before = task.next_reminder_at
    dry = sweep(session, now, dry_run=True)
    assert item_count(session) == 0
    session.refresh(task)
    assert task.next_reminder_at == before
    # catching up: the 交办单 and the newest rung of the deadline family (chase 1), plus a 签收提醒
    assert owed(dry) == {("assigned", 0, "李科长", False), ("assigned", 0, "张局长", True),
                         ("ack_resend", 6, "李科长", False), ("chase", 1, "李科长", False),
                         ("chase", 1, "钱局长", False)}
    # 签收提醒 stop at the due date: the last one fell on Sat 10-10 (调休), the 6th working day after 9-24
    real = sweep(session, now)
    assert {(line.rung, line.occurrence, line.recipient_name) for line in real.new_lines} == \
        {(line.rung, line.occurrence, line.recipient_name) for line in dry.new_lines}
    again = sweep(session, now, dry_run=True)
    assert again.tasks == 0


def test_recipients_for_a_school_the_office_and_unreachable_people(session, world):
    now = cst(2026, 10, 15, 9, 0)
    zhao = world.people["赵校长"]
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        school_task = new_task(session, world, "S1", unit="城关一小", cooperating=())
        finance_task = new_task(session, world, "F1", cooperating=("城关镇",))
    # 城关镇 has no contact; 钱局长 loses his address
    finance = session.get(Department, world.departments["财政局"].id)
    finance.head_email = ""
    session.get(Person, world.people["钱局长"].id).email = ""
    session.commit()

    report = sweep(session, now)
    by_task = {}
    for line in report.new_lines:
        by_task.setdefault(line.task_id, set()).add((line.rung.value, line.recipient_name))
    assert ("assigned", "赵校长") in by_task[school_task.id]  # the school's contact, by its e-mail
    assert ("escalation", "王主任") in by_task[school_task.id]  # a school has no 分管领导 here
    assert ("escalation", "孙副县长") in by_task[finance_task.id]
    assert any("钱局长" in p and "没有邮箱" in p for p in report.problems)
    expand_all(session)
    items = session.exec(select(NoticeItem).where(NoticeItem.task_id == school_task.id,
                                                  NoticeItem.rung == "assigned")).all()
    assert [i.recipient_address for i in items] == [zhao.email]
    assert read_ack_token(notice_ack_url(items[0]).rsplit("/", 1)[1], now).person_id == zhao.id


def test_a_unit_without_contacts_is_reported_not_dropped_silently(session, world):
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        new_task(session, world, "Z1", unit="城关镇", cooperating=())
    report = sweep(session, cst(2026, 9, 24, 10, 1))
    assert report.queued == 0
    assert any("城关镇" in p and "联系人" in p for p in report.problems)


def test_chunks_cover_every_due_task_and_nothing_else(session, world):
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        for i in range(23):
            new_task(session, world, f"K{i}", cooperating=())
    with time_machine.travel(cst(2026, 12, 1, 10, 0), tick=False):
        later = new_task(session, world, "LATER", due_on=dt.date(2026, 12, 30), cooperating=())
    chunks = []
    report = sweep(session, cst(2026, 9, 24, 11, 0), chunk_size=5, on_chunk=chunks.append)
    assert report.tasks == 23 and [c.tasks for c in chunks] == [5, 5, 5, 5, 3]
    assert report.queued == 23 and later.id not in {line.task_id for line in report.lines}


def test_campaign_filter(session, world):
    from tests.factories_db import build_world

    other = build_world(session, code="other")
    session.commit()
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        mine = new_task(session, world, "A")
        new_task(session, other, "B")
    report = sweep(session, cst(2026, 9, 24, 11, 0), campaign=world.campaign)
    assert {line.task_id for line in report.lines} == {mine.id}


def test_hooks_mark_the_task_for_a_look_and_schedule_next_computes_it(session, world):
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False) as traveller:
        task = new_task(session, world)
        assert task.next_reminder_at == utcnow()  # create_task: the 交办单 is owed now
        sweep(session, utcnow())
        traveller.move_to(cst(2026, 9, 25, 15, 0))
        lifecycle.accept(session, task, world.people["李科长"])
        session.commit()
        session.refresh(task)
        assert task.next_reminder_at == utcnow()  # any move: look again now
        assert schedule_next(session, task, utcnow()) == cst(2026, 10, 8)  # next: the 3-day 临期提醒
        session.commit()

    lifecycle.withdraw(session, task, world.people["王主任"], "合并到其他任务", at=cst(2026, 9, 28, 9, 0))
    session.commit()
    sweep(session, cst(2026, 9, 28, 9, 1))
    session.refresh(task)
    assert task.next_reminder_at is None
    assert reschedule_open_tasks(session, cst(2026, 9, 28, 10, 0)) == 0  # withdrawn: not open


def test_a_task_changed_between_read_and_write_keeps_its_mark(session, world, engine, monkeypatch):
    """On SQLite nothing locks the rows the sweep read: a task signed in between keeps the "look
    again now" its move set, because the sweep's write is conditional on what it read.
    (PostgreSQL reads with FOR UPDATE: the signer waits; see the concurrent-sweeps test.)"""
    if engine.dialect.name != "sqlite":
        return
    import tracker.reminders.sweep as sweep_module

    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        task = new_task(session, world)
    signed_at = cst(2026, 9, 28, 8, 45)
    real_histories = sweep_module._histories

    def histories_then_sign(s, ids):
        out = real_histories(s, ids)
        with Session(engine) as other:  # another process signs after the sweep read the task
            lifecycle.accept(other, other.get(Task, task.id), other.get(Person, world.people["李科长"].id),
                             at=signed_at)
            other.commit()
        return out

    monkeypatch.setattr(sweep_module, "_histories", histories_then_sign)
    report = sweep(session, cst(2026, 9, 28, 9, 0))
    assert report.next_times[task.id] == cst(2026, 9, 29)  # what the sweep computed from its read
    session.refresh(task)
    assert task.next_reminder_at == signed_at  # but the sign's mark survived: the next sweep looks again


def test_a_moved_due_date_owes_its_deadline_notices_anew_and_nothing_else_twice(session, world):
    """临期/到期/催办/督办 count from the due date, so their keys name it: when a changed plan
    moves the date (``change_due_date``), the 3-day 临期提醒 already sent for the old date is owed
    again before the new one; the 交办单, which does not depend on the date, is not."""
    from tracker.tasks.service import change_due_date

    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        task = new_task(session, world)
        sweep(session, utcnow())
        lifecycle.accept(session, task, world.people["李科长"])
        session.commit()
    sweep(session, cst(2026, 10, 8, 9, 0))  # 3 working days before 10-12
    expand_all(session)
    assert ("due_soon", 3, "李科长", False) in {
        (i.rung, i.occurrence, i.recipient_name, i.in_copy) for i in session.exec(select(NoticeItem))}

    with time_machine.travel(cst(2026, 10, 8, 11, 0), tick=False):
        change_due_date(session, task, dt.date(2026, 10, 23), actor="韩静", reason="关口推迟")
        session.commit()
    report = sweep(session, cst(2026, 10, 8, 11, 1))
    session.commit()
    assert owed(report) == set()  # looked at again at once: nothing owed yet for the new date
    session.refresh(task)
    assert task.next_reminder_at == cst(2026, 10, 20)  # 3 working days before 10-23
    report = sweep(session, cst(2026, 10, 20, 9, 0))
    session.commit()
    assert owed(report) == {("due_soon", 3, "李科长", False)}
    expand_all(session)
    assert session.exec(select(func.count()).select_from(NoticeItem).where(
        NoticeItem.rung == Rung.assigned.value, NoticeItem.task_id == task.id)).one() == 2  # 交办单 + copy, once


def test_a_rung_the_plan_marks_urgent_goes_out_at_once_the_others_wait_for_the_window(session, world):
    """提醒.紧急发送: [督办单]. A sweep at 19:00 (the scheduler was down all day) owes the 督办单 and a
    催办通知: the 督办单 may go now, the 催办通知 waits for 08:30 the next working day, and composing
    at 19:00 puts only the urgent one in a message."""
    from notifications.compose import compose_pending

    world.campaign.plan = {"reminders": {"紧急发送": ["督办单"]}}
    session.add(world.campaign)
    session.commit()
    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        new_task(session, world)
    evening = cst(2026, 10, 15, 19, 0)  # Thu: 3 working days after the due date 10-12
    report = sweep(session, evening)
    session.commit()
    by_rung = {(line.rung.value, line.recipient_name): line for line in report.new_lines}
    escalation = by_rung[("escalation", "王主任")]
    chase = by_rung[("chase", "李科长")]
    assert escalation.not_before == evening
    assert chase.not_before == cst(2026, 10, 16)
    expand_all(session)  # the items exist; each keeps its window
    items = session.exec(select(NoticeItem).where(NoticeItem.rung.in_(["escalation", "chase"]))).all()
    assert {i.rung: i.urgent for i in items} == {"escalation": True, "chase": False}

    composed = compose_pending(session, evening)
    session.commit()
    carried = session.exec(select(NoticeItem).where(NoticeItem.message_id.is_not(None))).all()
    assert composed and {i.rung for i in carried} == {"escalation"}
