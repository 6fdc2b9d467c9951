"""交办 (issue 12 §1) and 退回/提交 that people notice (§4), in the store: every move and refusal,
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories_db import World, build_world
from tracker.campaigns.service import apply_plan, apply_plan_report
from tracker.events.models import Event
from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Person
from tracker.plans import load_plan
from tracker.reminders import immediate
from tracker.reminders.sweep import sweep
from tracker.schooldata.sheet import SheetError
from tracker.tasks import lifecycle
from tracker.tasks.assign import AssignmentError, OfficeTaskInput, TaskEdit, create_office_task
from tracker.tasks.lifecycle import EvidenceMissing, NotPermitted
from tracker.tasks.models import Evidence, Task, TaskCooperator, TaskOrigin, TaskStatus
from tracker.tasks.service import create_task
from tracker.tasks.tasklist import import_tasklist, tasklist_template_bytes

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 8, 10, 0, tzinfo=CHINA)  # a Tuesday, in working hours
TODAY = NOW.date()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def world(session) -> World:
    return build_world(session)


def counts(session: Session) -> tuple[int, int, int, int]:
    return (session.exec(select(func.count()).select_from(Task)).one(),
            session.exec(select(func.count()).select_from(Event)).one(),
            session.exec(select(func.count()).select_from(TaskCooperator)).one(),
            session.exec(select(func.count()).select_from(NoticeItem)).one())


def office(world: World) -> Person:
    return world.people["王主任"]


def assign(session, world, **fields) -> Task:
    data = {"title": "迎检路线踏勘", "lead": "财政", "due_on": "2027-01-15", "source": "领导批示",
            "source_ref": "县长批示〔2026〕12 号", "measures": "12 月底前完成", "cooperating": ["住建局"],
            **fields}
    return create_office_task(session, world.campaign, OfficeTaskInput(**data), office(world), today=TODAY)


# ---------------------------------------------------------------------------------------------
# 交办: one task


def test_the_office_assigns_a_task_with_one_event(session, world):
    before = counts(session)
    task = assign(session, world, evidence_required=True, indicator="8", phase="整改")
    assert (task.origin, task.status, task.due_on) == (TaskOrigin.office.value, TaskStatus.assigned.value,
                                                       dt.date(2027, 1, 15))
    assert (task.source, task.source_ref, task.evidence_required, task.indicator) == (
        "领导批示", "县长批示〔2026〕12 号", True, "8")
    assert task.department_id == world.departments["财政局"].id  # found by its 简称
    assert task.phase_id == world.phases["rectification"].id
    assert [c.department_id for c in session.exec(select(TaskCooperator).where(TaskCooperator.task_id == task.id))] \
        == [world.departments["住建局"].id]
    [event] = session.exec(select(Event).where(Event.task_id == task.id)).all()
    assert event.type == "task.created" and event.actor == "王主任"
    assert event.payload["source"] == "领导批示" and event.payload["evidence_required"] is True
    assert counts(session)[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert task.next_reminder_at is not None  # the sweep sends its 交办单


def test_a_school_may_lead_and_the_phase_defaults_to_the_current_one(session, world):
    task = assign(session, world, lead="城关一小", cooperating=[])
    assert task.responsible_school_id == world.schools["城关一小"].id and task.department_id is None
    assert task.phase_id == world.phases["self_check"].id  # the active phase


def test_an_office_task_is_not_born_overdue(session, world):
    task = assign(session, world, due_on="2026-12-01")
    assert task.planned_due_on == dt.date(2026, 12, 1) and task.due_on > TODAY


def test_every_bad_field_is_named_and_nothing_is_stored(session, world):
    before = counts(session)
    with pytest.raises(AssignmentError) as caught:
        assign(session, world, title=" ", lead="教育局", due_on="2027-13-40", source="听说",
               cooperating=["不存在局"], phase="验收")
    fields = {name for name, _ in caught.value.problems}
    assert fields == {"title", "lead", "due_on", "source", "cooperating", "phase"}
    assert "事项来源「听说」无效" in caught.value.message and "完成时限「2027-13-40」不是有效日期" in caught.value.message
    assert counts(session) == before


def test_only_the_office_assigns(session, world):
    before = counts(session)
    with pytest.raises(NotPermitted, match="只有办公室人员可以交办任务"):
        create_office_task(session, world.campaign, OfficeTaskInput(title="x", lead="财政局", due_on="2027-01-15"),
                           world.people["李科长"], today=TODAY)
    assert counts(session) == before


# ---------------------------------------------------------------------------------------------
# the office edits what it created


def test_an_edit_is_one_event_with_its_reason_and_the_unit_is_told(session, world):
    task = assign(session, world)
    before = counts(session)
    with time_machine.travel(NOW, tick=False):
        event = immediate.edit_task(session, task, TaskEdit(reason="县政府常务会议调整", title="迎检路线踏勘（第二轮）",
                                                            due_on="2027-01-29", cooperating=[]), office(world))
    assert event.type == "task.edited" and event.payload["reason"] == "县政府常务会议调整"
    assert event.payload["changes"] == {"title": ["迎检路线踏勘", "迎检路线踏勘（第二轮）"],
                                        "cooperating": [["住建局"], []], "due_on": ["2027-01-15", "2027-01-29"]}
    session.refresh(task)
    assert task.title == "迎检路线踏勘（第二轮）" and task.due_on == dt.date(2027, 1, 29)
    items = session.exec(select(NoticeItem).where(NoticeItem.task_id == task.id,
                                                  NoticeItem.rung == Rung.changed.value)).all()
    assert [i.recipient_name for i in items] == ["李科长"]  # the lead unit's contact
    assert "完成时限：2027-01-15 → 2027-01-29" in items[0].payload["changes"]
    assert items[0].payload["reason"] == "县政府常务会议调整"
    assert counts(session)[1] == before[1] + 1  # one event
    assert counts(session)[2] == before[2] - 1  # the cooperator is gone


def test_an_edit_that_changes_nothing_writes_nothing(session, world):
    task = assign(session, world)
    before = counts(session)
    assert immediate.edit_task(session, task, TaskEdit(reason="核对", title=task.title), office(world)) is None
    assert counts(session) == before


@pytest.mark.parametrize("case", ["no_reason", "unit", "derived", "closed", "signed_lead", "bad_date"])
def test_a_refused_edit_changes_nothing(session, world, case):
    task = assign(session, world)
    actor = office(world)
    edit = TaskEdit(reason="调整", due_on="2027-02-01")
    if case == "no_reason":
        edit = TaskEdit(reason="  ", due_on="2027-02-01")
    elif case == "unit":
        actor = world.people["李科长"]
    elif case == "derived":
        task = world.task(session, "plan-1")
    elif case == "closed":
        lifecycle.withdraw(session, task, actor, "不再需要")
    elif case == "signed_lead":
        lifecycle.accept(session, task, world.people["李科长"])
        edit = TaskEdit(reason="改由住建局牵头", lead="住建局")
    elif case == "bad_date":
        edit = TaskEdit(reason="调整", due_on="明年")
    session.flush()
    before, due, status = counts(session), task.due_on, task.status
    with pytest.raises((AssignmentError, NotPermitted)):
        immediate.edit_task(session, task, edit, actor)
    session.refresh(task)
    assert counts(session) == before and (task.due_on, task.status) == (due, status)


# ---------------------------------------------------------------------------------------------
# 任务清单


def sheet(rows: list[list], header: list[str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "任务清单"
    ws.append(header or ["序号", "任务名称", "事项来源", "来源文号/会议", "措施/要求", "牵头单位", "配合单位", "阶段",
                         "完成时限", "须上传佐证材料", "指标代码"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


GOOD = [
    [1, "迎检路线踏勘", "会议决定", "领导小组第 3 次会议", "踏勘并拍照", "财政局", "住建局、城关镇", "整改", dt.date(2027, 1, 15), "是", None],
    [2, "校园安全排查", "上级交办", "市教育局通知", "", "城关一小", "", "", "2027-01-20", "否", "8"],
]


def test_a_tasklist_is_imported_once(session, world):
    result = import_tasklist(session, world.campaign, sheet(GOOD), office(world), today=TODAY)
    assert [t.title for t in result.created] == ["迎检路线踏勘", "校园安全排查"] and result.unchanged == 0
    first, second = result.created
    assert first.evidence_required and not second.evidence_required
    assert first.phase_id == world.phases["rectification"].id and second.responsible_school_id is not None
    assert len(session.exec(select(TaskCooperator).where(TaskCooperator.task_id == first.id)).all()) == 2
    before = counts(session)
    again = import_tasklist(session, world.campaign, sheet(GOOD), office(world), today=TODAY)
    assert again.created == [] and again.unchanged == 2 and counts(session) == before
    # a sheet with one more row creates only that one
    more = import_tasklist(session, world.campaign, sheet([*GOOD, [3, "材料汇编", "其他", "", "", "住建局", "", "",
                                                                   "2027-02-01", "", None]]),
                           office(world), today=TODAY)
    assert [t.title for t in more.created] == ["材料汇编"] and more.unchanged == 2


def test_a_bad_tasklist_names_every_row_and_column_and_stores_nothing(session, world):
    bad = [
        [1, "", "会议决定", "", "", "财政局", "", "", "2027-01-15", "", None],
        [2, "踏勘", "听说", "", "", "教育局", "不存在局", "验收", "下周", "也许", None],
        [3, "踏勘二", "其他", "", "", "财政局", "", "", "2027-01-15", "", None],
        [4, "踏勘二", "其他", "", "", "财政局", "", "", "2027-01-15", "", None],
    ]
    before = counts(session)
    with pytest.raises(SheetError) as caught:
        import_tasklist(session, world.campaign, sheet(bad), office(world), today=TODAY, filename="清单.xlsx")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(2, "任务名称"), (3, "事项来源"), (3, "牵头单位"), (3, "配合单位"), (3, "阶段"), (3, "完成时限"),
                     (3, "须上传佐证材料"), (5, "任务名称")}
    assert all(p.message.startswith(f"第 {p.row} 行") for p in caught.value.problems)
    assert counts(session) == before


def test_a_sheet_without_the_required_columns_is_refused(session, world):
    with pytest.raises(SheetError, match="缺少必填列：牵头单位、完成时限"):
        import_tasklist(session, world.campaign, sheet([["x"]], header=["任务名称", "事项来源"]), office(world))
    with pytest.raises(SheetError, match="无法读取 Excel 文件"):
        import_tasklist(session, world.campaign, b"not a workbook", office(world))
    with pytest.raises(NotPermitted):
        import_tasklist(session, world.campaign, sheet(GOOD), world.people["李科长"])


def test_the_template_offers_the_campaigns_units_and_phases_and_holds_text_only(session, world):
    data = tasklist_template_bytes(session, world.campaign)
    wb = load_workbook(io.BytesIO(data))
    ws = wb["任务清单"]
    assert [c.value for c in ws[1]][:3] == ["序号", "任务名称", "事项来源"]
    choices = wb["选项"]
    assert choices.sheet_state == "hidden"
    units = [c.value for c in choices["B"] if c.value][1:]
    assert units[:4] == ["领导小组办公室", "财政局", "住建局", "城关镇"]
    assert [c.value for c in choices["C"] if c.value][1:] == ["自查自评", "整改", "市级复评"]
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "'选项'!$B$2:$B$5" in formulas and "'选项'!$C$2:$C$4" in formulas
    for sheet_ in wb.worksheets:
        for row in sheet_.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet_.title, cell.coordinate)
    # the template, filled in, imports
    ws.append([1, "迎检路线踏勘", "会议决定", "", "", "财政局", "", "整改", "2027-01-15", "否", None])
    buffer = io.BytesIO()
    wb.save(buffer)
    assert len(import_tasklist(session, world.campaign, buffer.getvalue(), office(world), today=TODAY).created) == 1


# ---------------------------------------------------------------------------------------------
# the plan's preparatory steps at campaign init


def test_campaign_init_makes_the_plans_preparatory_tasks_once(engine):
    from pathlib import Path

    from tracker.db import session_scope

    plan = load_plan(Path(__file__).parents[3] / "examples" / "plan.yaml")
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=CHINA), tick=False):
        with session_scope(engine) as s:
            applied = apply_plan_report(s, plan)
            assert len(applied.plan_tasks) == len(plan.preparatory_tasks) > 0 and applied.redated == []
        with session_scope(engine) as s:
            again = apply_plan_report(s, plan)
            assert again.plan_tasks == [] and again.changes == []
            keys = s.exec(select(Task.origin_key).where(Task.origin == TaskOrigin.plan.value)).all()
            assert sorted(keys) == sorted(f"plan|{p.code}" for p in plan.preparatory_tasks)
            assert not s.exec(select(Task).where(Task.origin == TaskOrigin.plan.value,
                                                 Task.evidence_required)).all()
            apply_plan(s, plan)


# ---------------------------------------------------------------------------------------------
# §4: 已退回, and 提交 that needs evidence


def submitted(session, world, **fields) -> Task:
    task = assign(session, world, **fields)
    unit = world.people["李科长"]
    lifecycle.accept(session, task, unit)
    session.add(Evidence(campaign_id=world.campaign.id, task_id=task.id, filename="验收单.pdf", sha256="a" * 64,
                         size=10))
    session.flush()
    lifecycle.submit(session, task, unit)
    return task


def test_a_returned_task_is_marked_until_it_is_submitted_again(session, world):
    task = submitted(session, world)
    with time_machine.travel(NOW, tick=False):
        immediate.return_task(session, task, office(world), "缺少验收单")
    session.refresh(task)
    assert (task.status, task.return_reason) == (TaskStatus.in_progress.value, "缺少验收单")
    assert task.returned_at == NOW
    lifecycle.submit(session, task, world.people["李科长"], "已补验收单")
    session.refresh(task)
    assert task.return_reason is None and task.returned_at is None


def test_the_return_notice_is_queued_at_once_and_survives_a_quick_resubmission(session, world):
    """Before: the 退回通知 waited for the sweep, which says nothing on a submitted task: a unit
    that resubmitted within the minute was never told. Now it is queued with the move."""
    task = submitted(session, world)
    with time_machine.travel(NOW, tick=False):
        immediate.return_task(session, task, office(world), "缺少验收单")
    returned = select(NoticeItem).where(NoticeItem.task_id == task.id, NoticeItem.rung == Rung.returned.value)
    [item] = session.exec(returned).all()
    assert item.recipient_name == "李科长" and item.payload["reason"] == "缺少验收单"
    assert item.not_before <= NOW + dt.timedelta(seconds=1)
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        lifecycle.submit(session, task, world.people["李科长"], "已补")
    session.commit()
    sweep(session, NOW + dt.timedelta(minutes=1))  # the next sweep: nothing doubled, nothing lost
    assert len(session.exec(returned).all()) == 1


def test_the_bare_return_alone_would_lose_the_notice(session, world):
    """The fault this guards against, shown with the bare move: nothing is owed after resubmission."""
    task = submitted(session, world)
    with time_machine.travel(NOW, tick=False):
        lifecycle.return_task(session, task, office(world), "缺少验收单")
        lifecycle.submit(session, task, world.people["李科长"], "已补")
    session.commit()
    sweep(session, NOW + dt.timedelta(minutes=1))
    assert session.exec(select(NoticeItem).where(NoticeItem.task_id == task.id,
                                                 NoticeItem.rung == Rung.returned.value)).all() == []


def test_submitting_without_required_evidence_is_refused_and_changes_nothing(session, world):
    task = assign(session, world, evidence_required=True)
    unit = world.people["李科长"]
    lifecycle.accept(session, task, unit)
    events = counts(session)[1]
    with pytest.raises(EvidenceMissing, match="要求上传佐证材料后才能提交"):
        lifecycle.submit(session, task, unit, "已完成")
    session.refresh(task)
    assert task.status == TaskStatus.accepted.value and counts(session)[1] == events
    session.add(Evidence(campaign_id=world.campaign.id, task_id=task.id, filename="a.pdf", sha256="b" * 64, size=1))
    session.flush()
    lifecycle.submit(session, task, unit, "已完成")
    assert task.status == TaskStatus.submitted.value


def test_a_task_without_the_rule_is_submitted_without_files(session, world):
    task = assign(session, world)
    lifecycle.accept(session, task, world.people["李科长"])
    lifecycle.submit(session, task, world.people["李科长"])
    assert task.status == TaskStatus.submitted.value


@pytest.mark.parametrize("origin, needs", [(TaskOrigin.shortfall, True), (TaskOrigin.attestation, True),
                                           (TaskOrigin.finding, True), (TaskOrigin.plan, False)])
def test_the_evidence_rule_defaults_by_kind(session, world, origin, needs):
    task = create_task(session, campaign=world.campaign, phase=world.phases["self_check"], title="t", measures="",
                       origin=origin, origin_key=f"k-{origin.value}", due_on=dt.date(2027, 1, 15),
                       department=world.departments["财政局"], today=TODAY)
    assert task.evidence_required is needs


# ---------------------------------------------------------------------------------------------
# recurring tasks


@pytest.mark.parametrize("text, rule", [("每月 25 日", "monthly:25"), ("每月25号前", "monthly:25"), ("每周五", "weekly:5"),
                                        ("weekly:1", "weekly:1"), ("", None)])
def test_recurrence_rules_are_read(text, rule):
    from tracker.tasks.recurrence import parse_recurrence

    assert parse_recurrence(text) == rule


def test_a_bad_rule_is_a_named_problem(session, world):
    with pytest.raises(AssignmentError) as caught:
        assign(session, world, recurrence="每季度")
    assert [name for name, _ in caught.value.problems] == ["recurrence"]


def test_the_next_occurrence_is_assigned_when_its_period_starts_and_only_once(session, world):
    from tracker.tasks.recurrence import next_due, roll_recurring

    assert next_due("monthly:31", dt.date(2027, 2, 1)) == dt.date(2027, 2, 28)
    assert next_due("weekly:5", dt.date(2026, 12, 8)) == dt.date(2026, 12, 11)
    first = assign(session, world, title="报送创建进展", due_on="2026-12-25", recurrence="每月 25 日",
                   evidence_required=True)
    assert first.recurrence == "monthly:25"
    assert roll_recurring(session, dt.date(2026, 12, 25)) == []  # not past its date yet
    [second] = roll_recurring(session, dt.date(2026, 12, 26))
    assert (second.title, second.due_on, second.recurrence, second.evidence_required) == (
        "报送创建进展", dt.date(2027, 1, 25), "monthly:25", True)
    assert second.origin_key == f"{first.origin_key}@2027-01-25" and second.department_id == first.department_id
    assert [c.department_id for c in session.exec(select(TaskCooperator).where(TaskCooperator.task_id == second.id))] \
        == [world.departments["住建局"].id]
    [event] = session.exec(select(Event).where(Event.task_id == second.id)).all()
    assert event.payload["previous_task_id"] == first.id
    before = counts(session)
    assert roll_recurring(session, dt.date(2026, 12, 27)) == [] and counts(session) == before
    # withdrawing the latest occurrence ends the series
    lifecycle.withdraw(session, second, office(world), "改为季度报送")
    assert roll_recurring(session, dt.date(2027, 1, 26)) == []


def test_the_cli_names_the_sources_of_the_store():
    from junheng.cli.task_assign import SOURCE_NAMES as CLI_SOURCES
    from tracker.tasks.assign import SOURCE_NAMES

    assert list(CLI_SOURCES) == SOURCE_NAMES


def test_the_change_notice_is_composed_and_rendered(session, world):
    """The 任务变更通知 goes through the ordinary path: composed into the unit's message, with
    what changed and why in the mail's text and HTML."""
    from notifications.compose import compose_pending

    task = assign(session, world)
    with time_machine.travel(NOW, tick=False):
        immediate.edit_task(session, task, TaskEdit(reason="县政府常务会议调整", due_on="2027-01-29"), office(world))
        session.commit()
        messages = compose_pending(session, NOW + dt.timedelta(minutes=1))
    [mail] = [m for m in messages if m.recipient_name == "李科长"]
    assert "任务变更通知" in mail.subject
    for body in (mail.body_text, mail.body_html):
        assert "完成时限：2027-01-15 → 2027-01-29" in body and "县政府常务会议调整" in body
