"""学校联系人: a school's own task (一校一案) reaches the school's contact named in the plan, who
may act on it; a changed plan updates the contact of the schools already imported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import Session, select

from tracker.calendar import CHINA
from tracker.campaigns.models import Campaign, School
from tracker.campaigns.plan import load_plan, parse_plan
from tracker.campaigns.selfcheck import run_self_check
from tracker.campaigns.service import apply_plan, apply_plan_report, find_person
from tracker.db import session_scope
from tracker.reminders.sweep import sweep
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskStatus

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PLAN_TEXT = (EXAMPLES / "plan.yaml").read_text(encoding="utf-8")


def test_a_schools_own_task_reaches_its_contact_who_may_sign_it(engine):
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        run_self_check(session, campaign, EXAMPLES / "schools.xlsx", actor="韩静")
        campaign_id = campaign.id
    with Session(engine) as session:
        school = session.exec(select(School).where(School.name == "城关镇第一小学")).one()
        assert school.contact_email == "school002@edu.qingchuan.example"
        own = session.exec(select(Task).where(Task.responsible_school_id == school.id)).all()
        assert own, "the example gives 城关镇第一小学 a task of its own"
        task_id = own[0].id
        # every school with a task of its own can be reached: no school without a contact
        assert not session.exec(select(School).where(School.contact_email == "")).all()

    with Session(engine, expire_on_commit=False) as session:
        report = sweep(session, dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA), dry_run=True)
        to_school = [line for line in report.lines if line.task_id == task_id]
        assert {(line.rung.value, line.recipient_name, line.recipient_address) for line in to_school
                if line.rung.value == "assigned"} >= {("assigned", "吴秀兰", "school002@edu.qingchuan.example")}
        assert not any("城关镇第一小学" in problem for problem in report.problems)

    with session_scope(engine) as session:
        task = session.get(Task, task_id)
        lifecycle.accept(session, task, find_person(session, session.get(Campaign, campaign_id), "吴秀兰"))
        assert task.status == TaskStatus.accepted.value

    changed = PLAN_TEXT.replace("school002@edu.qingchuan.example", "wuxiulan@edu.qingchuan.example")
    with session_scope(engine) as session:
        applied = apply_plan_report(session, parse_plan(changed))
        assert "学校「城关镇第一小学」联系人邮箱：school002@edu.qingchuan.example → wuxiulan@edu.qingchuan.example" \
            in applied.changes
    with Session(engine) as session:
        school = session.exec(select(School).where(School.name == "城关镇第一小学")).one()
        assert school.contact_email == "wuxiulan@edu.qingchuan.example"
