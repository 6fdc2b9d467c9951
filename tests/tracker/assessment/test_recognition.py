"""Indicator 32 from the satisfaction survey (issue 13 §3): the survey's overall rate is its figure
with the survey named as source, unless the office entered one (then marked as entered); a
question below 85 % is a shortfall and a task for the units the plan names for indicator 32."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from tracker.assessment import county_inputs
from tracker.campaigns import selfcheck
from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.org.models import Department, School
from tracker.plans import load_plan
from tracker.reports.data import write_appendix_xlsx
from tracker.surveys.models import SurveyResponse
from tracker.surveys.service import open_survey
from tracker.tasks.models import Task, TaskCooperator, TaskStatus

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(autouse=True)
def _now_before_the_plan_dates():
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


def _county_item(snapshot, code: str) -> dict:
    return next(c for c in snapshot.result["county"] if c["code"] == code)


def _answers(session, survey, school_id, group, rows):
    for answers in rows:
        session.add(SurveyResponse(survey_id=survey.id, school_id=school_id, group=group, channel="paper",
                                   answers=answers))
    session.flush()


def test_the_survey_gives_indicator_32_its_figure_and_low_questions_become_tasks(engine, tmp_path):
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        selfcheck.run_self_check(session, campaign, EXAMPLES / "schools.xlsx", "韩静")
        school = session.exec(select(School).where(School.campaign_id == campaign.id)).first()
        survey = open_survey(session, campaign, "韩静")
        # 10 parents: 9 answer 满意 to all 7 questions, one 不满意 to all: each question 9 ÷ 10 = 90 %,
        # the group 63 ÷ 70. 2 teachers: T3 一般 twice (0 ÷ 2 = 0 %), the rest 满意 (8 ÷ 8).
        # Overall (63 + 8) ÷ (70 + 10) = 71 ÷ 80 = 88.75 %.
        _answers(session, survey, school.id, "家长", [{f"P{i}": "满意" for i in range(1, 8)}] * 9
                 + [{f"P{i}": "不满意" for i in range(1, 8)}])
        _answers(session, survey, school.id, "教师", [{"T1": "满意", "T2": "满意", "T3": "一般", "T4": "满意",
                                                      "T5": "满意"}] * 2)
        assert county_inputs.county_inputs_of(session, campaign)["32"] == pytest.approx(88.75)
        snapshot, result = selfcheck.reassess(session, campaign, actor="韩静")
        item = _county_item(snapshot, "32")
        assert item["status"] == "pass" and item["value"] == pytest.approx(88.75)
        assert "来源：满意度调查（示例）" in item["detail"] and "12 份答卷、80 个计入的回答" in item["detail"]

        task = session.exec(select(Task).where(Task.origin_key == "county|32|教师·T3|")).one()
        assert task.indicator == "32" and task.status == TaskStatus.assigned.value
        lead = session.get(Department, task.department_id)
        assert lead.name.endswith("督导室")  # the plan: 32: {牵头: 督导室, 配合: [基教股, 各乡镇]}
        coop = set(session.exec(select(Department.short_name).join(TaskCooperator, TaskCooperator.department_id
                                                                    == Department.id).where(TaskCooperator.task_id == task.id)))
        assert "基教股" in coop
        assert "教师·T3" in task.title and "0.0%" in task.measures and "低于 85%" in task.measures
        assert not session.exec(select(Task).where(Task.origin_key.like("county|32|家长%"))).all()  # 90 % ≥ 85 %
        # the 自评报告's appendix assesses the snapshot's data again: the survey makes it the same
        assert write_appendix_xlsx(session, campaign, snapshot.id, tmp_path / "附件.xlsx")

        # the office enters a figure: it wins, marked as entered, and the question tasks stay
        county_inputs.set_county_input(session, campaign, "32", "84", "韩静")
        snapshot, result = selfcheck.reassess(session, campaign, actor="韩静")
        item = _county_item(snapshot, "32")
        assert item["status"] == "fail" and item["value"] == 84 and "来源：办公室录入" in item["detail"]
        assert task.id in result.unchanged

        # the teachers' answers improve (the office re-enters nothing): T3 passes, its task is resolved by data
        for response in session.exec(select(SurveyResponse).where(SurveyResponse.group == "教师")):
            response.answers = {**response.answers, "T3": "比较满意"}
            session.add(response)
        session.flush()
        snapshot, result = selfcheck.reassess(session, campaign, actor="韩静")
        assert task.id in result.resolved


def test_without_answers_indicator_32_stays_unknown(engine):
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        snapshot = selfcheck.run_self_check(session, campaign, EXAMPLES / "schools.xlsx", "韩静").snapshot
        open_survey(session, campaign, "韩静")
        assert "32" not in county_inputs.county_inputs_of(session, campaign)
        item = _county_item(snapshot, "32")
        assert item["status"] == "unknown" and "来源" not in item["detail"]
