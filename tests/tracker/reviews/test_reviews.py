"""Reviews: verdicts, and findings sheets whose findings become tasks due at their deadlines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook
from sqlmodel import Session, func, select

from tracker.campaigns import selfcheck
from tracker.campaigns.gates import check_gate
from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign, Department, Phase, School
from tracker.plans import load_plan
from tracker.reviews import service as reviews
from tracker.reviews.models import Review, ReviewFinding
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskCooperator, TaskStatus
from tracker.workdays import add_working_days


@pytest.fixture(autouse=True)
def _now_before_the_plan_dates():
    """Tasks made here keep their plan dates only while those are ahead: "now" is a fixed day
    before them (a task created after its plan date is re-dated), whatever the real date."""
    with time_machine.travel(dt.datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FINDINGS = EXAMPLES / "findings.xlsx"
HEADER = ["序号", "问题", "指标", "责任单位", "整改时限"]


def write_sheet(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    if path.suffix == ".csv":
        lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in row) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        return path
    wb = Workbook()
    ws = wb.active
    ws.title = "反馈问题"
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def city_review(engine) -> int:
    """The example campaign after its self-check (so its schools exist), with a 市级 review."""
    with session_scope(engine) as session:
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        selfcheck.run_self_check(session, campaign, EXAMPLES / "schools.xlsx", "韩静")
        phase = reviews.phase_for_level(session, campaign, "市级")
        review = reviews.open_review(session, campaign, phase, "市级", dt.date(2027, 5, 20), actor="韩静")
        return review.id


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _short(session: Session, dept_id: int | None) -> str | None:
    return session.get(Department, dept_id).short_name if dept_id else None


def test_the_example_findings_become_tasks_of_the_review_phase(engine, city_review):
    findings = reviews.read_findings_sheet(FINDINGS)
    assert [f.seq for f in findings] == list(range(1, 9)) and findings[0].row == 2
    assert findings[0].units == ["计财股", "城关镇"] and findings[0].due_on == dt.date(2027, 8, 31)
    with session_scope(engine) as session:
        review = session.get(Review, city_review)
        tasks = reviews.add_findings(session, review, findings, "韩静")
        assert len(tasks) == 8 and all(t.origin == "finding" for t in tasks)
        assert {t.phase_id for t in tasks} == {review.phase_id}  # the review's gate waits for them
        assert [t.due_on for t in tasks] == [f.due_on for f in findings]
        first = tasks[0]
        assert _short(session, first.department_id) == "计财股"
        assert first.title.startswith("【市级反馈问题1】城关镇第一小学")
        assert first.indicator == "5" and "2027-08-31" in first.measures
        coop = session.exec(select(TaskCooperator.department_id).where(TaskCooperator.task_id == first.id)).all()
        assert [_short(session, d) for d in coop] == ["城关镇"]
        # a school named first is the responsible unit itself
        school = session.exec(select(School).where(School.name == "石桥镇中心小学")).one()
        assert tasks[3].responsible_school_id == school.id and tasks[3].department_id is None
        assert tasks[7].indicator is None
        stored = session.exec(select(ReviewFinding).order_by(ReviewFinding.seq)).all()
        assert [f.seq for f in stored] == list(range(1, 9))
        assert all(t.finding_id == f.id for t, f in zip(tasks, stored))
        event = session.exec(select(Event).where(Event.type == "review.findings_added")).one()
        assert event.payload["review_id"] == review.id and len(event.payload["tasks"]) == 8

    # entering the same sheet again creates nothing
    with session_scope(engine) as session:
        review = session.get(Review, city_review)
        tasks, findings_before = _count(session, Task), _count(session, ReviewFinding)
        again = reviews.add_findings(session, review, reviews.read_findings_sheet(FINDINGS), "韩静")
        assert len(again) == 8 and _count(session, Task) == tasks and _count(session, ReviewFinding) == findings_before


def test_the_review_gate_waits_for_the_verdict_and_the_findings(engine, city_review):
    with session_scope(engine) as session:
        review = session.get(Review, city_review)
        phase = session.get(Phase, review.phase_id)
        assert not check_gate(session, phase).passed  # no verdict yet
        reviews.add_findings(session, review, reviews.read_findings_sheet(FINDINGS)[:1], "韩静")
        reviews.record_verdict(session, review, "通过", "韩静", note="专家组意见")
        event = session.exec(select(Event).where(Event.type == "review.verdict")).one()
        assert event.payload == {"review_id": review.id, "phase_id": phase.id, "level": "市级", "verdict": "通过",
                                 "note": "专家组意见"}
        result = check_gate(session, phase)
        assert not result.passed and any("未销号" in r for r in result.reasons)
        task = session.exec(select(Task).where(Task.origin == "finding")).one()
        task.status = TaskStatus.verified.value  # (the lifecycle is tested elsewhere)
        session.add(task)
        session.flush()
        assert check_gate(session, phase).passed


def test_verdicts_are_checked(engine, city_review):
    with session_scope(engine) as session:
        review = session.get(Review, city_review)
        with pytest.raises(reviews.ReviewError, match="结论「优秀」无效"):
            reviews.record_verdict(session, review, "优秀", "韩静")
        reviews.record_verdict(session, review, "不通过", "韩静")
        with pytest.raises(reviews.ReviewError, match="已录入结论「不通过」"):
            reviews.record_verdict(session, review, "通过", "韩静")
        with pytest.raises(reviews.ReviewError, match="评估级别「区级」无效"):
            reviews.open_review(session, session.get(Campaign, review.campaign_id),
                                session.get(Phase, review.phase_id), "区级", None)


def test_sheet_errors_name_the_row_and_column(tmp_path):
    path = write_sheet(tmp_path / "findings.xlsx", [
        [1, "操场面积不足", "5", "计财股", "2027-08-31"],
        [1, "重复的序号", "5", "计财股", "2027年8月31日"],
        ["一", "序号不是数字", None, "计财股", dt.datetime(2027, 6, 30)],
        [4, None, "6", "计财股", "2027-06-30"],
        [5, "没有责任单位", "6", None, "2027/6/30"],
        [6, "时限写错", "6", "计财股", "六月底"],
        [7, "没有这一天", "6", "计财股", "2027-02-30"],
    ])
    with pytest.raises(reviews.FindingsError) as caught:
        reviews.read_findings_sheet(path)
    problems = caught.value.problems
    assert "第 3 行「序号」：序号 1 与第 2 行重复" in problems
    assert "第 4 行「序号」：「一」不是正整数" in problems
    assert "第 5 行「问题」：不能为空" in problems
    assert "第 6 行「责任单位」：不能为空" in problems
    assert any(p.startswith("第 7 行「整改时限」：「六月底」不是日期") for p in problems)
    assert any(p.startswith("第 8 行「整改时限」：「2027-02-30」不是日期") for p in problems)
    assert len(problems) == 6


def test_a_csv_sheet_with_a_title_row_reads_and_a_missing_column_is_named(tmp_path):
    path = tmp_path / "findings.csv"
    path.write_text("市级复评反馈问题清单\n序号,问题,指标,责任单位,整改时限\n"
                    "1,部分村小无体育专任教师,3,人事股、编办,2027-08-31前\n", encoding="utf-8-sig")
    (finding,) = reviews.read_findings_sheet(path)
    assert finding.row == 3 and finding.units == ["人事股", "编办"] and finding.due_on == dt.date(2027, 8, 31)
    missing = write_sheet(tmp_path / "missing.csv", [[1, "问题", "计财股"]], header=["序号", "问题", "责任单位"])
    with pytest.raises(reviews.FindingsError, match="第 1 行表头缺少列：整改时限"):
        reviews.read_findings_sheet(missing)
    with pytest.raises(reviews.FindingsError, match="不支持的文件类型"):
        reviews.read_findings_sheet(write_sheet(tmp_path / "x.xlsx", []).rename(tmp_path / "x.ods"))
    with pytest.raises(reviews.FindingsError, match="找不到文件"):
        reviews.read_findings_sheet(tmp_path / "nope.xlsx")


def test_unknown_units_and_indicators_store_nothing(engine, city_review, tmp_path):
    path = write_sheet(tmp_path / "findings.xlsx", [
        [1, "操场面积不足", "5", "计财股、城关镇", "2027-08-31"],
        [2, "水毁校舍未修复", "4", "水利局", "2027-08-31"],
        [3, "指标写错", "99", "计财股", "2027-08-31"],
    ])
    findings = reviews.read_findings_sheet(path)
    with session_scope(engine) as session:
        before = (_count(session, ReviewFinding), _count(session, Task), _count(session, Event))
    with pytest.raises(reviews.FindingsError) as caught, session_scope(engine) as session:
        reviews.add_findings(session, session.get(Review, city_review), findings, "韩静")
    assert caught.value.problems == [
        "第 3 行「责任单位」：未知单位「水利局」（须是方案中的责任单位或本县学校的名称）",
        "第 4 行「指标」：未知的指标「99」（标准 national-2017 中没有）",
    ]
    with session_scope(engine) as session:
        assert (_count(session, ReviewFinding), _count(session, Task), _count(session, Event)) == before


def test_a_number_entered_again_with_other_text_is_refused(engine, city_review, tmp_path):
    first = reviews.read_findings_sheet(write_sheet(tmp_path / "a.xlsx", [[1, "操场面积不足", "5", "计财股", "2027-08-31"]]))
    other = reviews.read_findings_sheet(write_sheet(tmp_path / "b.xlsx", [[1, "另一个问题", "5", "计财股", "2027-08-31"]]))
    with session_scope(engine) as session:
        review = session.get(Review, city_review)
        reviews.add_findings(session, review, first, "韩静")
        with pytest.raises(reviews.FindingsError, match="序号 1 已录入为「操场面积不足」"):
            reviews.add_findings(session, review, other, "韩静")


def test_a_failed_review_holds_the_gate_until_a_later_review_passes(engine, city_review):
    with session_scope(engine) as session:
        review = session.get(Review, city_review)
        phase = session.get(Phase, review.phase_id)
        reviews.record_verdict(session, review, "不通过", "韩静")
        result = check_gate(session, phase)
        assert not result.passed and any("不通过" in r for r in result.reasons)
        again = reviews.open_review(session, session.get(Campaign, review.campaign_id), phase, "市级",
                                    dt.date(2027, 6, 1))
        reviews.record_verdict(session, again, "通过", "韩静")
        assert check_gate(session, phase).passed


def test_a_finding_entered_after_its_deadline_gets_working_days(engine, city_review, tmp_path):
    """The reviewers' sheet is entered on Wednesday 2026-09-30 with finding 1 due 09-25 (past)
    and finding 2 due 10-15: the first keeps 09-25 on the finding and as its task's 原定时限 and
    is due five working days on, after 国庆 (10-01..10-07, 调休 Saturday 10-10 counts): 10-13;
    the second keeps its date."""
    sheet = write_sheet(tmp_path / "反馈问题.xlsx", [
        [1, "部分学校音乐专用教室面积不足", 10, "计财股", "2026-09-25"],
        [2, "农村学校体育艺术专任教师不足", 3, "人事股、基教股", "2026年10月15日"],
    ])
    now = dt.datetime(2026, 9, 30, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(now, tick=False), session_scope(engine) as session:
        today = now.date()
        review = session.get(Review, city_review)
        late, timely = reviews.add_findings(session, review, reviews.read_findings_sheet(sheet), "韩静")
        assert (late.planned_due_on, late.due_on) == (dt.date(2026, 9, 25), add_working_days(today, 5))
        assert late.due_on == dt.date(2026, 10, 13)
        assert not lifecycle.is_overdue(late, today)
        assert "原定整改时限 2026-09-25 已过，限 2026-10-13 前整改到位" in late.measures
        assert (timely.planned_due_on, timely.due_on) == (None, dt.date(2026, 10, 15))
        assert "限 2026-10-15 前整改到位" in timely.measures and "原定" not in timely.measures
        finding = session.exec(select(ReviewFinding).where(ReviewFinding.seq == 1)).one()
        assert finding.due_on == dt.date(2026, 9, 25)  # the reviewers' deadline stays on record
        created = session.exec(select(Event).where(Event.task_id == late.id, Event.type == "task.created")).one()
        assert (created.payload["planned_due_on"], created.payload["due_on"]) == ("2026-09-25", "2026-10-13")
        added = session.exec(select(Event).where(Event.type == "review.findings_added")).one()
        assert added.payload["redated"] == [late.id]
