"""Self-check on the example county: import → assess → tasks, and re-assessment during rectification.

Uses the real example plan (examples/plan.yaml) and school sheet (examples/schools.xlsx), whose
built-in shortfalls are described in examples/make_schools.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from tracker.assessment import county_inputs, snapshots
from tracker.assessment.models import AssessmentSnapshot, CountyInput, ShortfallRecord
from tracker.campaigns import selfcheck
from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign, Department, Person, School
from tracker.plans import load_plan
from tracker.schooldata import submissions
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.schooldata.sheet import SheetError
from tracker.tasks import lifecycle, reconcile
from tracker.tasks.models import Task, TaskCooperator, TaskStatus


@pytest.fixture(autouse=True)
def _now_before_the_plan_dates():
    """Tasks made here keep their plan dates only while those are ahead: "now" is a fixed day
    before them (a task created after its plan date is re-dated), whatever the real date."""
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
PLAN = EXAMPLES / "plan.yaml"
SCHOOLS = EXAMPLES / "schools.xlsx"


def edited_sheet(tmp_path: Path, name: str, changes: dict[str, dict[str, object]],
                 source: Path = SCHOOLS) -> Path:
    """A copy of the example sheet with some cells changed: {school name: {header: value}}, where a
    value may be a function of the old one."""
    wb = load_workbook(source)
    ws = wb["学校"] if "学校" in wb.sheetnames else wb.worksheets[0]
    header_row = next(r for r in range(1, 11) if "学校名称" in [c.value for c in ws[r]])
    columns = {c.value: c.column for c in ws[header_row] if c.value}
    name_col = columns["学校名称"]
    done = set()
    for row in range(header_row + 1, ws.max_row + 1):
        school = ws.cell(row, name_col).value
        if school in changes:
            for header, value in changes[school].items():
                cell = ws.cell(row, columns[header])
                cell.value = value(cell.value) if callable(value) else value
            done.add(school)
    assert done == set(changes), f"schools not in the sheet: {set(changes) - done}"
    path = tmp_path / name
    wb.save(path)
    return path


def _campaign(session: Session) -> Campaign:
    return apply_plan(session, load_plan(PLAN))


def _task(session: Session, key: str) -> Task:
    task = session.exec(select(Task).where(Task.origin_key == key)).one()
    session.refresh(task)
    return task


def _school_key(session: Session, name: str) -> str:
    return session.exec(select(School.key).where(School.name == name)).one()


def _dept(session: Session, short: str) -> Department:
    return session.exec(select(Department).where(Department.short_name == short)).one()


def _cooperators(session: Session, task: Task) -> set[str]:
    return set(session.exec(select(Department.short_name).join(TaskCooperator, TaskCooperator.department_id == Department.id)
                            .where(TaskCooperator.task_id == task.id)))


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_self_check_gives_every_shortfall_a_task_for_the_right_unit(engine):
    with session_scope(engine) as session:
        campaign = _campaign(session)
        result = selfcheck.run_self_check(session, campaign, SCHOOLS, "韩静")
        snapshot = result.snapshot
        assert result.schools == 40 and result.snapshot.ok is False

        keys = set(session.exec(select(ShortfallRecord.key).where(ShortfallRecord.assessment_id == snapshot.id)))
        shortfall_tasks = {t.origin_key: t for t in session.exec(select(Task).where(Task.origin == "shortfall"))}
        assert set(shortfall_tasks) == keys and len(keys) >= 15
        plan_tasks = session.exec(select(Task).where(Task.origin == "plan")).all()
        assert {t.origin_key for t in plan_tasks} == {f"plan|P0{i}" for i in range(1, 9)}
        attest = {t.origin_key for t in session.exec(select(Task).where(Task.origin == "attestation"))}
        assert {"attest|8", "attest|23", "attest|32", "attest|E1", "attest|V6"} <= attest
        assert not any(k in attest for k in ("attest|1", "attest|7", "attest|10"))  # school data, not attested
        # the plan's tasks were made by campaign init (issue 12 §1); the self-check leaves them
        assert len(result.reconcile.created) == len(keys) + len(attest)
        assert {t.id for t in plan_tasks} <= set(result.reconcile.unchanged)

        # indicator 5 is not school-fixable: the plan's lead (计财股) leads, and "各乡镇" is the
        # township of this school only
        town = _school_key(session, "柳河镇中心小学")
        sports = _task(session, f"school_value|5|primary|{town}")
        assert sports.department_id == _dept(session, "计财股").id and sports.responsible_school_id is None
        cooperating = _cooperators(session, sports)
        assert "柳河镇" in cooperating and "城关镇" not in cooperating and {"发改局", "财政局"} <= cooperating
        assert sports.title == "【指标5·小学】柳河镇中心小学 生均体育运动场馆面积不达标"
        assert "m²" in sports.measures and "缺口" in sports.measures
        assert sports.due_on.isoformat() == "2027-08-31"  # the plan's deadline for indicator 5
        assert sports.phase_id == next(p.id for p in _phases(session) if p.code == "rectification")

        # indicator 3 is school-fixable in the plan: the school itself, the lead unit supporting it
        village = session.exec(select(School).where(School.name == "柳河镇杨家坪小学")).one()
        teachers = _task(session, f"school_value|3|primary|{village.key}")
        assert teachers.responsible_school_id == village.id and teachers.department_id is None
        assert teachers.school_id == village.id
        assert _cooperators(session, teachers) == {"人事股"}
        assert "需增加体育艺术专任教师" in teachers.measures

        # the junior CV of indicator 6: a county task, 万元 gaps of the schools in the measures
        cv = _task(session, "cv|6|junior|")
        assert cv.school_id is None and cv.department_id == _dept(session, "计财股").id
        assert "差异系数" in cv.title and "青川县第一初级中学" in cv.measures
        assert cv.due_on.isoformat() == "2027-06-30"
        equipment = session.exec(select(Task).where(Task.origin_key.like("school_value|6|%"))).first()
        assert "万元" in equipment.measures and "【指标6·" in equipment.title

        # an attestation with "各乡镇" and no school: every township cooperates
        recognition = _task(session, "attest|32")
        assert recognition.department_id == _dept(session, "督导室").id
        assert {"城关镇", "柳河镇", "石桥镇", "桃源乡", "云岭乡"} <= _cooperators(session, recognition)
        assert recognition.due_on.isoformat() == "2026-12-31"  # the self-check gate

        # each task was created with one event naming the actor
        created = session.exec(select(Event).where(Event.type == "task.created", Event.task_id == sports.id)).all()
        assert len(created) == 1 and created[0].actor == "韩静"
        done = session.exec(select(Event).where(Event.type == "assessment.completed")).one()
        assert done.payload["snapshot_id"] == snapshot.id and done.payload["shortfalls"] == len(
            session.exec(select(ShortfallRecord).where(ShortfallRecord.assessment_id == snapshot.id)).all())


def _phases(session: Session):
    from tracker.org.models import Phase

    return session.exec(select(Phase)).all()


def test_running_the_self_check_twice_creates_nothing_new(engine):
    with session_scope(engine) as session:
        campaign = _campaign(session)
        first = selfcheck.run_self_check(session, campaign, SCHOOLS, "韩静")
    with session_scope(engine) as session:
        tasks, events = _count(session, Task), _count(session, Event)
        campaign = session.get(Campaign, first.submission.campaign_id)
        again = selfcheck.run_self_check(session, campaign, SCHOOLS, "韩静")
        assert again.reconcile.created == [] and again.reconcile.resolved == [] and again.reconcile.reopened == []
        assert len(again.reconcile.unchanged) == tasks
        assert _count(session, Task) == tasks
        # only the new submission and assessment are logged
        new_types = session.exec(select(Event.type).where(Event.id > events)).all()
        assert sorted(new_types) == ["assessment.completed", "submission.imported"]
        # every shortfall task now points at the newest shortfall record
        task = _task(session, "cv|6|junior|")
        assert session.get(ShortfallRecord, task.shortfall_id).assessment_id == again.snapshot.id


def test_fixed_data_resolves_the_task_and_broken_data_reopens_it(engine, tmp_path):
    with session_scope(engine) as session:
        campaign = _campaign(session)
        selfcheck.run_self_check(session, campaign, SCHOOLS, "韩静")
        key = f"school_value|5|primary|{_school_key(session, '柳河镇中心小学')}"
        class_size_key = f"school_check|12|primary|{_school_key(session, '城关镇第一小学')}"
        campaign_id = campaign.id

    fixed = edited_sheet(tmp_path, "fixed.xlsx", {"柳河镇中心小学": {"体育运动场馆面积": lambda area: area + 1500}})
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        result = selfcheck.run_self_check(session, campaign, fixed, "韩静", label="整改后复测")
        task = _task(session, key)
        assert result.reconcile.resolved == [task.id] and result.reconcile.created == []
        assert task.resolved_by_assessment_id == result.snapshot.id
        assert task.status == TaskStatus.assigned.value  # the status waits for the office
        event = session.exec(select(Event).where(Event.task_id == task.id, Event.type == "task.resolved_by_data")).one()
        assert event.payload["assessment_id"] == result.snapshot.id and event.actor == "系统"
        assert _task(session, class_size_key).resolved_by_assessment_id is None  # still there
        # the office verifies it (销号) straight from the data
        office = session.exec(select(Person).where(Person.name == "韩静")).one()
        lifecycle.verify(session, task, office)
        assert task.status == TaskStatus.verified.value

    # running the fixed data again changes nothing
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        again = selfcheck.run_self_check(session, campaign, fixed, "韩静")
        assert again.reconcile.resolved == [] and again.reconcile.reopened == [] and again.reconcile.created == []

    # the shortfall comes back (the old figures), and another school misses indicator 7 for the first time
    broken = edited_sheet(tmp_path, "broken.xlsx", {"柳河镇中心小学": {"网络多媒体教室数": 1}})
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        result = selfcheck.run_self_check(session, campaign, broken, "韩静")
        task = _task(session, key)
        assert result.reconcile.reopened == [task.id]
        assert task.status == TaskStatus.in_progress.value and task.resolved_by_assessment_id is None
        reopened = session.exec(select(Event).where(Event.task_id == task.id, Event.type == "task.reopened")).one()
        assert reopened.payload["assessment_id"] == result.snapshot.id
        new_key = f"school_value|7|primary|{_school_key(session, '柳河镇中心小学')}"
        new = _task(session, new_key)
        assert result.reconcile.created == [new.id]
        school = session.exec(select(School).where(School.name == "柳河镇中心小学")).one()
        assert new.responsible_school_id == school.id  # 7 is school-fixable in the plan
        assert session.get(ShortfallRecord, task.shortfall_id).assessment_id == result.snapshot.id


def test_a_sheet_of_some_schools_resolves_nothing_about_the_others(engine, tmp_path):
    wb = load_workbook(SCHOOLS)
    ws = wb["学校"] if "学校" in wb.sheetnames else wb.worksheets[0]
    ws.delete_rows(3, ws.max_row)  # keep the header and the first school only
    partial = tmp_path / "one-school.xlsx"
    wb.save(partial)
    with session_scope(engine) as session:
        campaign = _campaign(session)
        selfcheck.run_self_check(session, campaign, SCHOOLS, "韩静")
        result = selfcheck.run_self_check(session, campaign, partial, "韩静")
        # the county-wide CV is gone (one school has no CV) but no school task is touched
        resolved = [session.get(Task, i).origin_key for i in result.reconcile.resolved]
        assert all(not k.startswith(("school_value", "school_check")) for k in resolved)
        assert "cv|6|junior|" in resolved


def test_a_bad_sheet_stores_nothing(engine, tmp_path):
    bad = edited_sheet(tmp_path, "bad.xlsx", {"柳河镇中心小学": {"小学在校生数": -5}})
    with session_scope(engine) as session:
        _campaign(session)
    tables = (DataSubmission, SchoolDataRow, School, AssessmentSnapshot, ShortfallRecord, Task, Event)
    with session_scope(engine) as session:
        before = {m.__name__: _count(session, m) for m in tables}
    with pytest.raises(SheetError) as caught, session_scope(engine) as session:
        campaign = session.exec(select(Campaign)).one()
        selfcheck.run_self_check(session, campaign, bad, "韩静")
    assert "小学在校生数" in str(caught.value) and "第" in str(caught.value)
    with session_scope(engine) as session:
        assert {m.__name__: _count(session, m) for m in tables} == before


def test_stored_rows_rebuild_the_same_assessment(engine):
    with session_scope(engine) as session:
        campaign = _campaign(session)
        submission = submissions.import_submission(session, campaign, SCHOOLS, "韩静", label="自查")
        first = snapshots.assess_submission(session, campaign, submission)
        second = snapshots.assess_submission(session, campaign, submission)
        assert first.result["stages"] == second.result["stages"]
        assert first.result["shortfalls"] == second.result["shortfalls"]
        assert submission.school_count == 40 and len(submission.sha256) == 64
        school = session.exec(select(School).where(School.name == "柳河镇中心小学")).one()
        assert school.township == "柳河镇" and school.township_department_id == _dept(session, "柳河镇").id
        event = session.exec(select(Event).where(Event.type == "submission.imported")).one()
        assert event.payload["submission_id"] == submission.id and event.payload["schools"] == 40


def test_reconciling_an_older_assessment_is_refused(engine):
    with session_scope(engine) as session:
        campaign = _campaign(session)
        submission = submissions.import_submission(session, campaign, SCHOOLS, "韩静")
        old = snapshots.assess_submission(session, campaign, submission)
        snapshots.assess_submission(session, campaign, submission)
        with pytest.raises(submissions.SelfCheckError, match="不是最新的评估"):
            reconcile.reconcile_tasks(session, campaign, old)


def test_county_inputs_make_county_shortfalls_for_the_lead_unit(engine):
    with session_scope(engine) as session:
        campaign = _campaign(session)
        selfcheck.run_self_check(session, campaign, SCHOOLS, "韩静")
        county_inputs.set_county_input(session, campaign, "23", "93.5%", "韩静", note="2026 年统计")
        county_inputs.set_county_input(session, campaign, "18:rotation_share", "12", "韩静")
        county_inputs.set_county_input(session, campaign, "18:backbone_share", "25", "韩静")
        county_inputs.set_county_input(session, campaign, "V1", "未发生", "韩静")
        assert county_inputs.county_inputs_of(session, campaign) == {
            "23": 93.5, "18": {"rotation_share": 12.0, "backbone_share": 25.0}, "V1": "pass"}
        snapshot, result = selfcheck.reassess(session, campaign, actor="韩静")
        task = _task(session, "county|23||")
        assert result.created == [task.id]
        assert task.department_id == _dept(session, "基教股").id and task.school_id is None
        assert "93.5" in task.measures and "95" in task.measures
        # a later entry wins: the county fixes the figure, the task is resolved by data
        county_inputs.set_county_input(session, campaign, "23", "96", "韩静")
        snapshot, result = selfcheck.reassess(session, campaign)
        assert result.resolved == [task.id]
        assert _count(session, CountyInput) == 5


@pytest.mark.parametrize(("code", "value", "message"), [
    ("99", "1", "未知的指标代码「99」"),
    ("6", "2500", "由学校数据计算"),
    ("8", "96", "认定类指标"),
    ("18", "12", "18:rotation_share"),
    ("18:nope", "12", "没有名为「nope」"),
    ("23", "很多", "应为数字"),
    ("V2", "也许", "存在/不存在"),
])
def test_bad_county_inputs_are_refused_in_chinese(engine, code, value, message):
    with session_scope(engine) as session:
        campaign = _campaign(session)
        with pytest.raises(submissions.SelfCheckError, match=message):
            county_inputs.set_county_input(session, campaign, code, value, "韩静")
        assert _count(session, CountyInput) == 0


def test_yes_to_a_veto_item_is_stored_as_a_veto(engine):
    # V2 asks "存在违规择校行为": 是 means it exists, a veto (it was read as a pass)
    with session_scope(engine) as session:
        campaign = _campaign(session)
        entry = county_inputs.set_county_input(session, campaign, "V2", "是", "韩静")
        assert entry.status == "fail"
        assert county_inputs.set_county_input(session, campaign, "V1", "否", "韩静").status == "pass"


def test_the_plans_kindergarten_weight_splits_the_stored_assessment(engine, tmp_path):
    # seed 001's 幼儿 : 小学 = 1 : 1.1, written in the plan, not an environment variable
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(PLAN.read_text(encoding="utf-8") + "\n幼儿班折算: {幼儿: 1, 小学: 1.1}\n", encoding="utf-8")
    sheet = edited_sheet(tmp_path, "schools.xlsx", {"柳河镇中心小学": {"附设幼儿班人数": 110}})
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(plan_file))
        assert snapshots.kindergarten_weight_of(campaign) == pytest.approx(1 / 1.1)
        submission = submissions.import_submission(session, campaign, sheet, "韩静")
        snapshot = snapshots.assess_submission(session, campaign, submission)
        assert snapshot.result["kindergarten_weight"] == pytest.approx(1 / 1.1)
        records = submissions.records_of(session, submission)
        school = next(r for r in records if r.name == "柳河镇中心小学")
        share = school.primary_students / (school.primary_students + 110 / 1.1)
        section = next(s for s in snapshot.result["stages"]["primary"]["schools"] if s["name"] == "柳河镇中心小学")
        expected = (school.teaching_area - school.indoor_sports_area) * share / school.primary_students
        assert section["values"]["4"] == pytest.approx(expected)
        assert any("折算" in note for note in snapshot.result["notes"])


def test_hunan_sub_item_points_are_entered_and_add_up(engine, tmp_path):
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(PLAN.read_text(encoding="utf-8").replace("标准: national-2017", "标准: hunan-2023", 1),
                         encoding="utf-8")
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(plan_file))
        for code, points in (("8.1", "3"), ("8.2", "1.5"), ("8.3", "2.5"), ("8.4", "2")):
            county_inputs.set_county_input(session, campaign, code, points, "韩静")
        with pytest.raises(submissions.SelfCheckError, match="分项 8.2.*0 到 2 之间"):
            county_inputs.set_county_input(session, campaign, "8.2", "2.5", "韩静")
        with pytest.raises(submissions.SelfCheckError, match="未知的指标代码「8.9」"):
            county_inputs.set_county_input(session, campaign, "8.9", "1", "韩静")
        inputs = county_inputs.county_inputs_of(session, campaign)
        assert {k: inputs[k] for k in ("8.1", "8.2", "8.3", "8.4")} == {"8.1": 3, "8.2": 1.5, "8.3": 2.5, "8.4": 2}
        from tracker.assessment import assess

        result = assess("hunan-2023", [], inputs, as_of=dt.date(2026, 12, 7))
        assert next(i for i in result.scoring.items if i.code == "8").points == 9
