"""The region level (issue 15 §2): the regions file, the roll-up's figures against each county's
own `campaign status`, lights and ranks, and the CLI — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories_db import build_world, with_evidence
from tracker.assessment.models import AssessmentSnapshot
from tracker.db import session_scope
from tracker.errors import ErrorKind
from tracker.regions.models import CountyAssessmentSummary, Region, RegionCounty
from tracker.regions.rollup import region_rollup
from tracker.regions.service import RegionError, apply_regions, region_by_code
from tracker.schooldata.models import DataSubmission
from tracker.surveys.models import Survey, SurveyResponse
from tracker.surveys.service import close_survey, issue_codes, open_survey, submit_online
from tracker.tasks import lifecycle
from tracker.org.models import Campaign, Person
from tracker.tasks.models import Task, TaskStatus
from tracker.tasks.service import campaign_status

TODAY = dt.date(2026, 12, 21)
REGIONS = """\
省: {编号: sd, 名称: 山东省}
市:
  - 编号: wf
    名称: 潍坊市
    县: [east, west]
  - 编号: qd
    名称: 青岛市
    县: [north]
"""
runner = CliRunner()


def _county(session: Session, code: str, county: str, *, tasks: int, verified: int, late: int):
    """A campaign with ``tasks`` tasks of 财政局: ``verified`` verified on time, ``late`` overdue on TODAY."""
    world = build_world(session, code=code)
    world.campaign.county = county
    session.add(world.campaign)
    for i in range(tasks):
        due = dt.date(2026, 12, 18) if i < late else dt.date(2026, 12, 31)
        task = world.task(session, f"{code}-{i}", due_on=due)
        if late <= i < late + verified:
            with_evidence(session, task)
            at = dt.datetime(2026, 12, 10, 2, tzinfo=dt.timezone.utc)
            lifecycle.accept(session, task, world.people["李科长"], at=at)
            lifecycle.submit(session, task, world.people["李科长"], "已完成", at=at)
            lifecycle.verify(session, task, world.people["王主任"], at=at)
    session.flush()
    return world


@pytest.fixture
def province(engine):
    with session_scope(engine) as session:
        worlds = {"east": _county(session, "east", "东县", tasks=6, verified=4, late=0),
                  "west": _county(session, "west", "西县", tasks=5, verified=1, late=2),
                  "north": _county(session, "north", "北县", tasks=3, verified=0, late=0),
                  "outside": _county(session, "outside", "外县", tasks=2, verified=0, late=2)}
        apply_regions(session, REGIONS)
        # east has a stored assessment with CVs
        east = worlds["east"].campaign
        sub = DataSubmission(campaign_id=east.id, label="自查")
        session.add(sub)
        session.flush()
        session.add(AssessmentSnapshot(campaign_id=east.id, submission_id=sub.id, standard_id="national-2017", result={
            "as_of": "2026-12-20", "stages": {"primary": {
                "indicators": {"1": {"cv": 0.41, "cv_limit": 0.5}, "6": {"cv": 0.62, "cv_limit": 0.5}},
                "schools": [{"ok": True}, {"ok": False}, {"ok": True}, {"ok": True}]}}}))
    return worlds


def test_roll_up_task_figures_equal_each_countys_own_status(engine, province):
    with Session(engine) as session:
        figures = region_rollup(session, region_by_code(session, "sd"), TODAY)
        session.commit()
        assert [c["campaign"] for c in figures["counties"]] != []
        assert {c["campaign"] for c in figures["counties"]} == {"east", "west", "north"}  # not outside
        for county in figures["counties"]:
            own = campaign_status(session, province[county["campaign"]].campaign, TODAY)
            assert county["tasks"]["total"] == own["tasks"]["total"]
            assert county["tasks"]["done"] == own["tasks"]["by_status"][TaskStatus.verified.value]
            assert county["tasks"]["overdue"] == own["tasks"]["overdue"]
            assert county["phase"] == own["phase"]
    by_code = {c["campaign"]: c for c in figures["counties"]}
    assert by_code["west"]["tasks"] == {"total": 5, "done": 1, "overdue": 2, "withdrawn": 0, "open": 4}
    assert by_code["east"]["cvs"]["primary"]["6"] == 0.62 and by_code["east"]["cvs"]["primary"]["2"] is None
    assert set(by_code["east"]["cvs"]) == {"primary", "junior"}
    assert set(by_code["east"]["cvs"]["junior"]) == {str(n) for n in range(1, 8)}
    assert by_code["east"]["cv_over"] == [{"stage": "primary", "indicator": "6", "cv": 0.62, "limit": 0.5}]
    assert by_code["east"]["school_pass_rate"] == 0.75
    assert by_code["north"]["school_pass_rate"] is None and by_code["north"]["survey_rate"] is None
    # lights and the rule: west 40% overdue is red and last; east yellow (a CV over), north yellow
    # (its gate, 2026-12-23, within 10 working days with nothing done): east has done more
    assert [(c["campaign"], c["light"], c["rank"]) for c in figures["counties"]] == [
        ("east", "yellow", 1), ("north", "yellow", 2), ("west", "red", 3)]
    assert any("距关口" in r for r in by_code["north"]["reasons"])
    assert by_code["east"]["on_time_rate"] == 1.0 and by_code["west"]["on_time_rate"] == pytest.approx(1 / 3, abs=1e-3)


def test_a_city_sees_its_own_counties_and_the_summary_follows_new_assessments(engine, province):
    with Session(engine) as session:
        city = region_by_code(session, "wf")
        assert {c["campaign"] for c in region_rollup(session, city, TODAY)["counties"]} == {"east", "west"}
        session.commit()
        first = session.exec(select(CountyAssessmentSummary)).one().assessment_id
        east = province["east"].campaign
        sub = DataSubmission(campaign_id=east.id, label="复测")
        session.add(sub)
        session.flush()
        session.add(AssessmentSnapshot(campaign_id=east.id, submission_id=sub.id, standard_id="national-2017",
                                       result={"stages": {"primary": {"indicators": {"6": {"cv": 0.3, "cv_limit": 0.5}},
                                                                      "schools": [{"ok": True}]}}}))
        session.commit()
        east_line = next(c for c in region_rollup(session, city, TODAY)["counties"] if c["campaign"] == "east")
        session.commit()
        assert east_line["cvs"]["primary"]["6"] == 0.3 and east_line["cv_over"] == []
        assert session.exec(select(CountyAssessmentSummary)).one().assessment_id != first


def test_a_bad_regions_file_names_each_problem_and_stores_nothing(engine, province):
    bad = """\
市:
  - 编号: wf
    名称: 潍坊市
    县: [east, nowhere]
  - 编号: wf
    名称: 又一个
    县: [east]
    区: []
"""
    with Session(engine) as session:
        before = session.exec(select(Region)).all()
        with pytest.raises(RegionError) as caught:
            apply_regions(session, bad)
        session.rollback()
        assert caught.value.kind is ErrorKind.invalid
        text = "\n".join(d.message for d in caught.value.details)
        assert "第 8 行" in text and "不认识的键" in text  # 区
        with pytest.raises(RegionError) as caught:
            apply_regions(session, bad.replace("    区: []\n", ""))
        text = "\n".join(d.message for d in caught.value.details)
        assert "第 5 行" in text and "编号「wf」重复" in text
        assert "已列在第 1 个市下" in text
        assert len(session.exec(select(Region)).all()) == len(before)
    with Session(engine) as session:
        with pytest.raises(RegionError) as caught:
            apply_regions(session, "市:\n  - {编号: x, 名称: X市, 县: [nowhere]}\n")
        assert "没有编号为「nowhere」的创建工作" in caught.value.details[0].message
        session.rollback()
        assert session.exec(select(Region).where(Region.code == "x")).first() is None


def test_a_school_programme_is_refused_by_name_and_nothing_is_stored(engine, province):
    """Only a county's campaign belongs to a region: a 示范校 programme named in the file is refused."""
    with session_scope(engine) as session:
        session.add(Campaign(code="sfx", name="示范校创建", county="东县", standard_id="national-2017",
                             kind="school-programme"))
    with Session(engine) as session:
        before = session.exec(select(RegionCounty.campaign_id, RegionCounty.region_id)).all()
        with pytest.raises(RegionError) as caught:
            apply_regions(session, "市:\n  - {编号: zb, 名称: 淄博市, 县: [north, sfx]}\n")
        session.rollback()
        assert caught.value.kind is ErrorKind.invalid and len(caught.value.details) == 1
        message = caught.value.details[0].message
        assert "「sfx」（示范校创建）是学校项目" in message and "县的创建工作" in message
        assert session.exec(select(Region).where(Region.code == "zb")).first() is None
        assert session.exec(select(RegionCounty.campaign_id, RegionCounty.region_id)).all() == before


def test_importing_again_moves_a_county(engine, province):
    with session_scope(engine) as session:
        result = apply_regions(session, "市:\n  - {编号: qd, 名称: 青岛市, 县: [north, west]}\n")
        assert result.moved == 1
    with Session(engine) as session:
        qd = region_by_code(session, "qd")
        assert {m.campaign_id for m in session.exec(select(RegionCounty).where(RegionCounty.region_id == qd.id))} == {
            province["north"].campaign.id, province["west"].campaign.id}


def test_cli_status_json_equals_each_campaign_status_json(engine, province, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")
    out = runner.invoke(app, ["region", "status", "--region", "wf", "--json", "--today", TODAY.isoformat()])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output)
    assert figures["region"] == "wf"
    for county in figures["counties"]:
        own = runner.invoke(app, ["campaign", "status", "--campaign", county["campaign"], "--json",
                                  "--today", TODAY.isoformat()])
        own = json.loads(own.output)
        assert county["tasks"]["total"] == own["tasks"]["total"]
        assert county["tasks"]["done"] == own["tasks"]["by_status"]["已销号"]
        assert county["tasks"]["overdue"] == own["tasks"]["overdue"]
        assert county["phase"] == own["phase"]
    table = runner.invoke(app, ["region", "status", "--today", TODAY.isoformat()])  # the one province
    assert table.exit_code == 0 and "北县" in table.output and "排名规则" in table.output
    missing = runner.invoke(app, ["region", "status", "--region", "nowhere"])
    assert missing.exit_code == 3 and "没有编号为「nowhere」的地区" in missing.output
    bad = tmp_path / "r.yaml"
    bad.write_text("市: []\n", encoding="utf-8")
    refused = runner.invoke(app, ["region", "import", str(bad)])
    assert refused.exit_code == 2 and "地区文件" in refused.output


def test_cli_briefing_ranks_and_names_those_behind(engine, province, tmp_path):
    out = runner.invoke(app, ["region", "briefing", "--region", "sd", "--week", "2026-W51", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "进度落后：西县" in out.output
    from docx import Document

    doc = Document(str(next(tmp_path.glob("*.docx"))))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "山东省创建工作调度通报" in text and "西县进度落后" in text
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert cells.index("东县") < cells.index("北县") < cells.index("西县")


def test_cli_lists_regions_and_makes_a_region_account(engine, province):
    listed = runner.invoke(app, ["region", "list"])
    assert listed.exit_code == 0 and "wf  潍坊市（市）" in listed.output and "east  东县" in listed.output
    made = runner.invoke(app, ["region", "user", "--region", "wf", "--username", "wfdd"])
    assert made.exit_code == 0 and "已建立督导账号「wfdd」（潍坊市督导），密码：" in made.output
    again = runner.invoke(app, ["region", "user", "--region", "wf", "--username", "wfdd"])
    assert again.exit_code == 2 and "已被使用" in again.output
    refused = runner.invoke(app, ["user", "add", "x1", "--role", "region", "--campaign", "east"],
                            input="correct-horse-9x\ncorrect-horse-9x\n")
    assert refused.exit_code != 0 and "junheng region user" in refused.output


def test_a_kept_answer_gives_way_to_the_next_move(engine, province):
    """The roll-up keeps its answer while the store's change mark holds; a move changes it."""
    with Session(engine) as session:
        province_region = region_by_code(session, "sd")
        first = region_rollup(session, province_region, TODAY)
        session.commit()
        assert region_rollup(session, province_region, TODAY) is first  # nothing changed: the kept answer
        world = province["north"]
        task = session.exec(select(Task).where(Task.campaign_id == world.campaign.id).order_by(Task.id)).first()
        lifecycle.withdraw(session, task, session.get(Person, world.people["王主任"].id), "方案调整")
        session.commit()
        again = region_rollup(session, province_region, TODAY)
        assert again is not first
        north = next(c for c in again["counties"] if c["campaign"] == "north")
        assert north["tasks"]["withdrawn"] == 1 and north["tasks"]["open"] == 2
        assert north["tasks"]["total"] == campaign_status(session, world.campaign, TODAY)["tasks"]["total"] == 3


def test_the_regions_own_rows_are_part_of_the_change_mark(engine, province):
    """A city renamed, a county moved between two cities, a county taken out of the region: with
    nothing else changed (no event, task or snapshot), the next answer shows it."""
    with Session(engine) as session:
        province_region = region_by_code(session, "sd")
        first = region_rollup(session, province_region, TODAY)
        session.commit()
        assert {c["campaign"]: c["city"] for c in first["counties"]} == {"east": "潍坊市", "west": "潍坊市",
                                                                        "north": "青岛市"}
        city = region_by_code(session, "wf")
        city.name = "潍坊"
        session.add(city)
        session.commit()
        renamed = region_rollup(session, province_region, TODAY)
        assert renamed is not first and {c["city"] for c in renamed["counties"] if c["campaign"] != "north"} == {"潍坊"}
        # two counties swap cities: the count and every id stay the same
        east, north = (session.get(RegionCounty, province[code].campaign.id) for code in ("east", "north"))
        east.region_id, north.region_id = north.region_id, east.region_id
        session.add_all([east, north])
        session.commit()
        swapped = region_rollup(session, province_region, TODAY)
        assert {c["campaign"]: c["city"] for c in swapped["counties"]} == {"east": "青岛市", "west": "潍坊",
                                                                          "north": "潍坊"}
        # a county leaves the region (its city now under no province)
        session.add(Region(code="far", name="远市", level="city"))
        session.flush()
        west = session.get(RegionCounty, province["west"].campaign.id)
        west.region_id = region_by_code(session, "far").id
        session.add(west)
        session.commit()
        assert {c["campaign"] for c in region_rollup(session, province_region, TODAY)["counties"]} == {"east", "north"}
        # the province renamed: its own name in the answer
        province_region.name = "鲁"
        session.add(province_region)
        session.commit()
        latest = region_rollup(session, province_region, TODAY)
        assert latest["region_name"] == "鲁" and region_rollup(session, province_region, TODAY) is latest


def test_a_countys_survey_rate_is_its_newest_surveys_overall_rate(engine, province, monkeypatch):
    """The roll-up's survey rate is `survey results --json`'s overall rate (a fraction) for a county
    with answers; null for one without a survey; a newer survey's answers take over."""
    parent = {f"P{i}": "满意" for i in range(1, 8)}
    now = dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC)
    with session_scope(engine) as session:
        east = province["east"]
        survey = open_survey(session, east.campaign, "王主任", illustrative=True)
        codes = issue_codes(session, survey, "家长", 3, east.schools["城关一小"], days=10, now=now)
        submit_online(session, codes[0], parent, now)
        submit_online(session, codes[1], {**parent, "P2": "不满意", "P3": "不了解", "P4": "一般"}, now)
        # a paper answer outside the questionnaire's questions: not counted, as in the results
        session.add(SurveyResponse(survey_id=survey.id, group="家长", channel="paper",
                                   answers={"P1": "不满意", "X9": "满意"}))
        open_survey(session, province["west"].campaign, "王主任")  # a survey without answers
    with Session(engine) as session:
        counties = {c["campaign"]: c for c in region_rollup(session, region_by_code(session, "sd"), TODAY)["counties"]}
        session.commit()
    monkeypatch.setenv("COLUMNS", "240")
    out = runner.invoke(app, ["survey", "results", "--campaign", "east", "--json"])
    assert out.exit_code == 0, out.output
    overall = json.loads(out.output)["overall"]
    assert overall["rate"] == pytest.approx(11 / 14)  # 7 + 4 satisfied of 7 + 6 + 1 counted
    assert counties["east"]["survey_rate"] == overall["rate"]
    assert counties["west"]["survey_rate"] is None and counties["north"]["survey_rate"] is None
    # a newer round with its own answers replaces the figure (the kept answer gives way)
    with session_scope(engine) as session:
        east = province["east"]
        close_survey(session, session.get(Survey, survey.id), "王主任", now)
        newer = open_survey(session, east.campaign, "王主任")
        codes = issue_codes(session, newer, "家长", 1, east.schools["城关一小"], days=10, now=now)
        submit_online(session, codes[0], {**parent, "P1": "不满意"}, now)
    with Session(engine) as session:
        counties = {c["campaign"]: c for c in region_rollup(session, region_by_code(session, "sd"), TODAY)["counties"]}
    assert counties["east"]["survey_rate"] == pytest.approx(6 / 7)
