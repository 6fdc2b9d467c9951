"""A school's own task (一校一案) reaches the school's contact: the one named in the plan's
学校联系人, who may act on it (a changed plan updates the schools already imported), else the
联系人/联系邮箱 of the school sheet."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session, select

from tracker.calendar import CHINA
from tracker.campaigns.selfcheck import run_self_check
from tracker.campaigns.service import apply_plan, apply_plan_report
from tracker.db import session_scope
from tests.tracker.reminders.test_sweep import expand_all
from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Campaign, School
from tracker.org.service import find_person
from tracker.plans import load_plan, parse_plan
from tracker.reminders.sweep import sweep
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.sheet import SheetError
from tracker.schooldata.submissions import import_submission
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskStatus

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PLAN_TEXT = (EXAMPLES / "plan.yaml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _now_is_the_day_before_the_sweep():
    """The self-check stamps its tasks with the clock and the sweeps below run at 2026-12-01 09:00:
    "now" is the day before, whatever the real date."""
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=CHINA), tick=False):
        yield


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


# --- 联系人 / 联系邮箱 from the school sheet -------------------------------------------------

WITHOUT_CONTACTS = re.sub(r"^学校联系人:\n(?:  .*\n)+", "", PLAN_TEXT, flags=re.MULTILINE)


def _sheet(tmp_path: Path, name: str, contacts: dict[str, tuple[str | None, str | None]],
           drop_columns: bool = False) -> Path:
    """The example sheet with some schools' 联系人 and 联系邮箱 set (None: a blank cell), or without
    those two columns at all."""
    wb = load_workbook(EXAMPLES / "schools.xlsx")
    ws = wb["学校"]
    headers = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        school = ws.cell(row, headers["学校名称"]).value
        if school in contacts:
            ws.cell(row, headers["联系人"]).value, ws.cell(row, headers["联系邮箱"]).value = contacts[school]
    if drop_columns:
        ws.delete_cols(headers["联系邮箱"])
        ws.delete_cols(headers["联系人"])
    path = tmp_path / name
    wb.save(path)
    return path


def _contact(session: Session, name: str) -> tuple[str, str]:
    school = session.exec(select(School).where(School.name == name)).one()
    return school.contact_name, school.contact_email


def test_the_sheet_gives_a_school_its_contact_and_a_blank_cell_keeps_it(engine, tmp_path):
    assert "\n学校联系人:" not in WITHOUT_CONTACTS and "\n阶段:" in WITHOUT_CONTACTS
    with session_scope(engine) as session:
        campaign = apply_plan(session, parse_plan(WITHOUT_CONTACTS))
        import_submission(session, campaign, EXAMPLES / "schools.xlsx", actor="韩静")
    with Session(engine) as session:
        assert _contact(session, "城关镇第一小学") == ("吴秀兰", "school002@edu.qingchuan.example")
        assert not session.exec(select(School).where(School.contact_email == "")).all()

    later = _sheet(tmp_path, "later.xlsx", {
        "城关镇第一小学": (None, None),  # both blank: the stored contact stays
        "城关镇第二小学": ("张晓", None),  # a name without an address changes nothing either
        "城关镇第三小学": ("李新", "lixin@cgsx.qingchuan.example"),  # a new contact
        "青川县城南小学": (None, "chengnan@qingchuan.example"),  # a new address, no name given
    })
    with session_scope(engine) as session:
        import_submission(session, session.exec(select(Campaign)).one(), later, actor="韩静")
    with Session(engine) as session:
        assert _contact(session, "城关镇第一小学") == ("吴秀兰", "school002@edu.qingchuan.example")
        assert _contact(session, "城关镇第二小学") == ("何志强", "school003@edu.qingchuan.example")
        assert _contact(session, "城关镇第三小学") == ("李新", "lixin@cgsx.qingchuan.example")
        assert _contact(session, "青川县城南小学") == ("", "chengnan@qingchuan.example")

    # a sheet without the two columns keeps every contact
    with session_scope(engine) as session:
        import_submission(session, session.exec(select(Campaign)).one(),
                          _sheet(tmp_path, "plain.xlsx", {}, drop_columns=True), actor="韩静")
    with Session(engine) as session:
        assert _contact(session, "城关镇第三小学") == ("李新", "lixin@cgsx.qingchuan.example")


def test_a_bad_contact_email_imports_nothing(engine, tmp_path):
    bad = _sheet(tmp_path, "bad.xlsx", {"城关镇第一小学": ("吴秀兰", "school002@edu")})
    with session_scope(engine) as session:
        campaign = apply_plan(session, parse_plan(WITHOUT_CONTACTS))
        with pytest.raises(SheetError) as caught:
            import_submission(session, campaign, bad, actor="韩静")
        [problem] = caught.value.problems
        assert (problem.row, problem.column) == (3, "联系邮箱")
        assert problem.message.startswith("第 3 行「联系邮箱」：邮箱格式不正确：「school002@edu」")
    with Session(engine) as session:
        assert not session.exec(select(School)).all() and not session.exec(select(DataSubmission)).all()


def test_the_plans_contact_comes_first_and_leaving_the_plan_hands_the_school_back_to_its_sheet(engine, tmp_path):
    sheet = _sheet(tmp_path, "own.xlsx", {"城关镇第一小学": ("吴校长", "xiaozhang@cgyx.qingchuan.example")})
    with session_scope(engine) as session:
        campaign = apply_plan(session, parse_plan(PLAN_TEXT))
        import_submission(session, campaign, sheet, actor="韩静")
    with Session(engine) as session:  # the plan's person, who may act on the school's tasks
        assert _contact(session, "城关镇第一小学") == ("吴秀兰", "school002@edu.qingchuan.example")

    without = PLAN_TEXT.replace(
        "  城关镇第一小学: {姓名: 吴秀兰, 职务: 校长, 邮箱: school002@edu.qingchuan.example}\n", "")
    assert without != PLAN_TEXT
    with session_scope(engine) as session:
        applied = apply_plan_report(session, parse_plan(without))
        assert "学校「城关镇第一小学」联系人邮箱：school002@edu.qingchuan.example → xiaozhang@cgyx.qingchuan.example" \
            in applied.changes
    with Session(engine) as session:
        assert _contact(session, "城关镇第一小学") == ("吴校长", "xiaozhang@cgyx.qingchuan.example")
        assert _contact(session, "城关镇第二小学") == ("何志强", "school003@edu.qingchuan.example")
    with session_scope(engine) as session:  # the same plan again changes nothing
        assert apply_plan_report(session, parse_plan(without)).changes == []


def test_a_schools_own_task_is_sent_to_the_address_its_sheet_gave(engine, tmp_path):
    sheet = _sheet(tmp_path, "own.xlsx", {"城关镇第一小学": ("吴校长", "xiaozhang@cgyx.qingchuan.example")})
    with session_scope(engine) as session:
        campaign = apply_plan(session, parse_plan(WITHOUT_CONTACTS))
        run_self_check(session, campaign, sheet, actor="韩静")
    with Session(engine, expire_on_commit=False) as session:
        school = session.exec(select(School).where(School.name == "城关镇第一小学")).one()
        own = session.exec(select(Task).where(Task.responsible_school_id == school.id)).all()
        assert own, "the example gives 城关镇第一小学 a task of its own"
        report = sweep(session, dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA))
        assert not [p for p in report.problems if "学校" in p and "没有" in p], report.problems
        expand_all(session)
        items = session.exec(select(NoticeItem).where(NoticeItem.task_id.in_([t.id for t in own]),
                                                      NoticeItem.rung == Rung.assigned.value)).all()
        assert sorted((i.task_id, i.recipient_name, i.recipient_address) for i in items if not i.in_copy) == sorted(
            (t.id, "吴校长", "xiaozhang@cgyx.qingchuan.example") for t in own)
        assert all(i.recipient_person_id is None for i in items if not i.in_copy)  # an address, not a person
        # every school with a task of its own got its 任务交办单
        schools_with_tasks = session.exec(select(Task.responsible_school_id).where(
            Task.responsible_school_id.is_not(None)).distinct()).all()
        reached = session.exec(select(Task.responsible_school_id).join(NoticeItem, NoticeItem.task_id == Task.id)
                               .where(NoticeItem.rung == Rung.assigned.value).distinct()).all()
        assert schools_with_tasks and set(schools_with_tasks) <= set(reached)
