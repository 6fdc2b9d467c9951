"""The task-list revision (``task_list_stamp``, migrations 0020 and 0021): database triggers move it in the
same transaction as every write to what the task list (and the 总览) shows, whatever writes it (ORM, Core bulk
statements), on SQLite and PostgreSQL; nothing else moves it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, update
from sqlmodel import Session

from tests.factories_db import build_world
from tracker.calendar.models import CalendarYear, WorkdayOverride
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.org.models import Campaign, Department, Phase, School
from tracker.tasks.models import Task, TaskCooperator, TaskExtension
from tracker.tasks.queries import list_stamp


def _stamp(engine, campaign_id: int) -> int | None:
    with Session(engine) as session:
        return list_stamp(session, campaign_id)


def _task_row(cid: int, phase: int, department: int, key: str) -> dict:
    now = utcnow()
    return {"campaign_id": cid, "phase_id": phase, "title": f"任务 {key}", "measures": "", "department_id": department, "due_on": dt.date(2027, 1, 8),
            "status": "待签收", "progress": 0, "notes": "", "origin": "plan", "origin_key": key,
            "created_at": now, "updated_at": now}


def test_every_kind_of_write_to_what_the_list_shows_moves_the_revision(engine):
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        other = build_world(session, code="other")
        session.commit()
        cid, other_id = world.campaign.id, other.campaign.id
        finance, housing = world.departments["财政局"].id, world.departments["住建局"].id
        school = next(iter(world.schools.values())).id
        phase = world.phases["self_check"].id
    assert _stamp(engine, cid) is not None  # inserting the campaign made its row

    def moved(write) -> None:
        before, before_other = _stamp(engine, cid), _stamp(engine, other_id)
        with engine.begin() as conn:
            write(conn)
        assert _stamp(engine, cid) != before, write.__name__
        # another campaign's revision stays: its kept answers stay good
        assert _stamp(engine, other_id) == before_other, write.__name__

    ids: dict[str, int] = {}

    def task_inserted_in_bulk(conn):
        conn.execute(insert(Task), [_task_row(cid, phase, finance, f"bulk-{i}") for i in range(3)])
        ids["task"] = conn.execute(Task.__table__.select().where(Task.origin_key == "bulk-0")).first().id

    def task_updated(conn):
        conn.execute(update(Task).where(Task.id == ids["task"]).values(progress=30))

    def tasks_updated_in_bulk_without_changing_anything_the_tallies_count(conn):
        conn.execute(update(Task).where(Task.campaign_id == cid).values(notes="批量备注"))

    def cooperator_added(conn):
        conn.execute(insert(TaskCooperator).values(task_id=ids["task"], department_id=housing))

    def cooperator_removed(conn):
        conn.execute(delete(TaskCooperator).where(TaskCooperator.task_id == ids["task"]))

    def extension_asked(conn):
        conn.execute(insert(TaskExtension).values(
            campaign_id=cid, task_id=ids["task"], pending_task_id=ids["task"], status="待审批",
            due_from=dt.date(2027, 1, 8), due_on=dt.date(2027, 1, 22), reason="资金推迟", requested_by="李科长",
            requested_at=utcnow(), decision_note=""))

    def extension_decided(conn):
        conn.execute(update(TaskExtension).where(TaskExtension.task_id == ids["task"])
                     .values(pending_task_id=None, status="不同意"))

    def extension_deleted(conn):
        conn.execute(delete(TaskExtension).where(TaskExtension.task_id == ids["task"]))

    def task_deleted(conn):
        conn.execute(delete(Task).where(Task.origin_key == "bulk-2"))

    def department_renamed(conn):
        conn.execute(update(Department).where(Department.id == finance).values(name="县财政局"))

    def school_renamed(conn):
        conn.execute(update(School).where(School.id == school).values(name="城关第一小学"))

    def phase_recoded(conn):
        conn.execute(update(Phase).where(Phase.id == phase).values(code="self_check_2"))

    def plan_changed(conn):
        conn.execute(update(Campaign).where(Campaign.id == cid).values(plan={"reminders": {"yellow_within": 5}}))

    for write in (task_inserted_in_bulk, task_updated, tasks_updated_in_bulk_without_changing_anything_the_tallies_count,
                  cooperator_added, cooperator_removed, extension_asked, extension_decided, extension_deleted,
                  task_deleted, department_renamed, school_renamed, phase_recoded, plan_changed):
        moved(write)

    # the working-day calendar counts for every campaign's lights: it moves them all
    before = (_stamp(engine, cid), _stamp(engine, other_id))
    with engine.begin() as conn:
        conn.execute(insert(CalendarYear).values(year=2031, source="示例", illustrative=True, file_name="",
                                                 entered_by="韩静", entered_at=utcnow()))
        conn.execute(insert(WorkdayOverride).values(date=dt.date(2031, 1, 4), year=2031, is_working_day=True,
                                                    name="调休上班", source="示例", entered_by="韩静",
                                                    entered_at=utcnow()))
    after = (_stamp(engine, cid), _stamp(engine, other_id))
    assert after[0] != before[0] and after[1] != before[1]

    # the 总览 reads the campaign's events (and reviews) under the same revision (migration 0021)
    moved(lambda conn: conn.execute(insert(Event).values(campaign_id=cid, actor="系统", type="note", payload={},
                                                          at=utcnow())))

    # a write neither shows (an event of no campaign) leaves it; a rolled-back write too
    before = _stamp(engine, cid)
    with engine.begin() as conn:
        conn.execute(insert(Event).values(campaign_id=None, actor="系统", type="note", payload={}, at=utcnow()))
    with engine.connect() as conn:
        conn.execute(update(Task).where(Task.campaign_id == cid).values(notes="不保存"))
        conn.rollback()
    assert _stamp(engine, cid) == before
