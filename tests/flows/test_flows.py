"""Real flow runs (Prefect's test harness) on the example county, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func
from sqlmodel import select

from flows.dispatcher import DispatchMode, dispatch_pending
from flows.gates import gate_check_flow
from flows.reviews import review_intake_flow
from flows.selfcheck import reassessment_flow, self_check_flow
from tests.factories_db import with_evidence
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Phase, PhaseStatus
from tracker.org.service import find_person, resolve_campaign
from tracker.reviews import service as reviews
from tracker.schooldata import submissions
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.sheet import SheetError
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskOrigin, TaskStatus

OFFICE = "韩静"  # 办公室主任 of the example plan


def _count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _events(type_: str) -> list[Event]:
    with session_scope() as session:
        return list(session.exec(select(Event).where(Event.type == type_).order_by(Event.id)))


def _phase(code: str, campaign_code: str) -> Phase:
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        return session.exec(select(Phase).where(Phase.campaign_id == campaign.id, Phase.code == code)).one()


def _sheet_with_more_equipment(source: Path, target: Path, factor: float) -> Path:
    """The example sheet after rectification: every school's 教学仪器设备值 raised by ``factor``."""
    wb = openpyxl.load_workbook(source)
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    column = headers.index("教学仪器设备值（万元）") + 1
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=column)
        if cell.value is not None:
            cell.value = round(float(cell.value) * factor, 2)
    wb.save(target)
    return target


async def test_self_check_creates_tasks_and_running_it_again_creates_none(
        example_campaign, schools_sheet, prefect_harness):
    # the plan's preparatory tasks are there from campaign init (issue 12 §1)
    plan_tasks = _count(Task, Task.origin == TaskOrigin.plan.value)
    assert plan_tasks > 0
    first = await self_check_flow(example_campaign, str(schools_sheet), OFFICE)
    assert first["created"] > 0
    assert first["reopened"] == 0 and first["resolved"] == 0
    assert _count(Task) == first["created"] + plan_tasks
    assert _count(Task, Task.origin == TaskOrigin.shortfall.value) > 0

    # the flow's own import is marked, so the dispatcher starts no re-assessment for it
    imported = _events("submission.imported")
    assert [e.payload.get("assessed_by_caller") for e in imported] == [True]
    assert imported[0].dispatched_at is not None
    assert (await dispatch_pending(mode=DispatchMode.embedded)).claimed == []

    second = await self_check_flow(example_campaign, str(schools_sheet), OFFICE)
    assert second["created"] == 0 and second["reopened"] == 0 and second["resolved"] == 0
    assert second["unchanged"] == first["created"] + plan_tasks
    assert second["assessment_id"] != first["assessment_id"]
    assert _count(Task) == first["created"] + plan_tasks
    assert _count(Event, Event.type == "task.created") == first["created"] + plan_tasks


async def test_a_bad_sheet_fails_the_flow_and_stores_nothing(example_campaign, tmp_path, prefect_harness):
    bad = tmp_path / "bad.csv"
    bad.write_text("学校名称,学校类型,小学在校生数\n城关一小,幼儿园,100\n", encoding="utf-8")
    plan_tasks = _count(Task)  # the plan's preparatory tasks, made by campaign init (issue 12 §1)
    with pytest.raises(SheetError) as caught:
        await self_check_flow(example_campaign, str(bad), OFFICE)
    assert "幼儿园" in str(caught.value) or "第 2 行" in str(caught.value)
    assert _count(DataSubmission) == 0 and _count(Task) == plan_tasks


async def test_imported_data_is_reassessed_through_the_dispatcher(
        example_campaign, schools_sheet, tmp_path, prefect_harness):
    plan_tasks = _count(Task)  # made by campaign init (issue 12 §1)
    first = await self_check_flow(example_campaign, str(schools_sheet), OFFICE)
    equipment_tasks = _count(Task, Task.origin == TaskOrigin.shortfall.value, Task.indicator == "6",
                             Task.school_id.is_not(None))
    assert equipment_tasks > 0

    # `junheng data import`: the import only records its event
    improved = _sheet_with_more_equipment(schools_sheet, tmp_path / "整改后.xlsx", factor=4)
    with session_scope() as session:
        campaign = resolve_campaign(session, example_campaign)
        submission_id = submissions.import_submission(session, campaign, improved, OFFICE, label="整改后复测").id
    assert _count(Event, Event.type == "assessment.completed") == 1

    report = await dispatch_pending(mode=DispatchMode.embedded)
    assert [(o.start.flow_name, o.start.parameters) for o in report.outcomes] == [
        ("reassessment", {"campaign_code": example_campaign, "submission_id": submission_id})]
    result = report.outcomes[0].result
    assert result["created"] == 0
    assert result["resolved"] >= equipment_tasks
    assert result["resolved"] + result["unchanged"] == first["created"] + plan_tasks
    assert _count(Task, Task.resolved_by_assessment_id == result["assessment_id"]) == result["resolved"]

    # the same flow run by hand on the same data changes nothing more
    again = await reassessment_flow(example_campaign, submission_id)
    assert again["resolved"] == 0 and again["created"] == 0


async def test_verifying_every_task_of_a_phase_passes_its_gate(example_campaign, schools_sheet, prefect_harness):
    await self_check_flow(example_campaign, str(schools_sheet), OFFICE)
    phase = _phase("self_check", example_campaign)
    assert PhaseStatus(phase.status) is not PhaseStatus.passed
    with session_scope() as session:
        campaign = resolve_campaign(session, example_campaign)
        office = find_person(session, campaign, OFFICE)
        tasks = list(session.exec(select(Task).where(Task.phase_id == phase.id).order_by(Task.id)))
        assert tasks
        for task in tasks:
            lifecycle.accept(session, task, office)
            lifecycle.submit(session, with_evidence(session, task), office, note="已完成")
            lifecycle.verify(session, task, office)

    assert PhaseStatus(_phase("self_check", example_campaign).status) is not PhaseStatus.passed
    report = await dispatch_pending(mode=DispatchMode.embedded)
    assert len(report.claimed) == len(tasks) + 1  # the 销号, then the next phase's phase.activated
    assert [o.start.flow_name for o in report.outcomes] == ["gate-check", "phase-rectification"]
    assert report.outcomes[0].result["newly_passed"] is True
    assert PhaseStatus(_phase("self_check", example_campaign).status) is PhaseStatus.passed
    following = _phase("rectification", example_campaign)
    assert PhaseStatus(following.status) is PhaseStatus.active
    assert report.outcomes[0].result["activated_phase_id"] == following.id

    # the gate check by hand, once more: nothing changes, no second event
    again = await gate_check_flow(example_campaign, phase.id)
    assert again["passed"] is True and again["newly_passed"] is False
    assert len(_events("phase.gate_passed")) == 1


async def test_review_findings_become_tasks_and_the_verdict_checks_the_gate(
        example_campaign, tmp_path, prefect_harness):
    with session_scope() as session:
        campaign = resolve_campaign(session, example_campaign)
        phase = reviews.phase_for_level(session, campaign, "市级")
        review_id = reviews.open_review(session, campaign, phase, "市级", dt.date(2027, 10, 20)).id
        phase_id = phase.id
    findings = tmp_path / "反馈问题.csv"
    findings.write_text(
        "序号,问题,指标,责任单位,整改时限\n"
        "1,部分学校音乐专用教室面积不足,10,计财股,2027-11-30\n"
        "2,农村学校体育艺术专任教师不足,3,人事股、基教股,2027-12-15\n",
        encoding="utf-8")

    result = await review_intake_flow(example_campaign, review_id, str(findings), OFFICE)
    assert result == {"findings": 2, "tasks": 2, "redated": []}
    assert _count(Task, Task.origin == TaskOrigin.finding.value, Task.phase_id == phase_id) == 2
    # the whole sheet again: the same findings, no second task each
    await review_intake_flow(example_campaign, review_id, str(findings), OFFICE)
    assert _count(Task, Task.origin == TaskOrigin.finding.value) == 2

    with session_scope() as session:
        reviews.record_verdict(session, session.get(reviews.Review, review_id), "通过", OFFICE)
    report = await dispatch_pending(mode=DispatchMode.embedded)
    assert [(o.start.flow_name, o.start.parameters["phase_id"]) for o in report.outcomes] == [
        ("gate-check", phase_id)]
    outcome = report.outcomes[0].result
    assert outcome["passed"] is False and any("2 项任务未销号" in r for r in outcome["reasons"])
    assert _count(Task, Task.status == TaskStatus.verified.value) == 0


async def test_the_self_check_on_a_worker_takes_a_stored_submission_not_a_path(
        example_campaign, schools_sheet, prefect_harness):
    """A worker on another machine cannot read the office's path: the deployment is given the id
    of a batch already imported (issue 16 §2)."""
    with session_scope() as session:
        campaign = resolve_campaign(session, example_campaign)
        submission_id = submissions.import_submission(session, campaign, schools_sheet, OFFICE, label="自查",
                                                      assessed_by_caller=True).id
    result = await self_check_flow(example_campaign, submission_id=submission_id)
    assert result["submission_id"] == submission_id and result["created"] > 0
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(DataSubmission)).one() == 1  # nothing imported again
    state = await self_check_flow(example_campaign, return_state=True)
    assert state.is_failed() and "submission_id" in state.message
