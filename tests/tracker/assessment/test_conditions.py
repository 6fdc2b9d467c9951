"""Application conditions the data decides (issue 13 §5): E4 from the assessment's CVs (an entry
that contradicts them refused, naming them), E2 from the CV history (imported sheets and stored
assessments)."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from tests.factories_db import build_world
from tests.tracker.assessment.schools import county, primary_school
from tracker.assessment.conditions import (
    assess_campaign,
    current_decisions,
    cv_history,
    decide_cv_condition,
    decide_history_condition,
)
from tracker.assessment.county_inputs import set_county_input
from tracker.assessment.cv_history import import_cv_history, write_cv_template
from tracker.assessment.models import AssessmentSnapshot, CountyInput, CvHistory
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.sheet import SheetError
from tracker.schooldata.submissions import SelfCheckError
from tracker.standards import load_standard

NATIONAL = load_standard("national-2017")
AS_OF = dt.date(2027, 3, 1)


def test_e4_is_decided_by_every_cv_against_its_stages_limit():
    # limits: 小学 0.50, 初中 0.45 (the condition's params)
    passing = decide_cv_condition(NATIONAL, {"primary": {"1": 0.31, "4": 0.50}, "junior": {"1": 0.45}})
    assert passing.status == "pass"
    assert "小学最大差异系数 0.500（指标4），限 0.5" in passing.detail
    failing = decide_cv_condition(NATIONAL, {"primary": {"1": 0.31, "4": 0.52}, "junior": {"1": 0.46, "2": 0.2}})
    assert failing.status == "fail"
    assert failing.failing == [("小学指标4", 0.52, 0.5), ("初中指标1", 0.46, 0.45)]
    assert "超限：指标4 0.520" in failing.detail and "超限：指标1 0.460" in failing.detail
    unknown = decide_cv_condition(NATIONAL, {"primary": {"1": 0.31, "4": None}, "junior": {"1": 0.2}})
    assert unknown.status == "unknown"
    assert decide_cv_condition(load_standard("hunan-2023"), {}) is None  # Hunan has no application conditions


def _snapshot(session, world, as_of: dt.date, cvs: dict[str, dict[str, float | None]]) -> AssessmentSnapshot:
    submission = DataSubmission(campaign_id=world.campaign.id, label="历年数据")
    session.add(submission)
    session.flush()
    result = {"as_of": as_of.isoformat(),
              "stages": {stage: {"indicators": {code: {"cv": cv} for code, cv in inds.items()}}
                         for stage, inds in cvs.items()}}
    snapshot = AssessmentSnapshot(campaign_id=world.campaign.id, submission_id=submission.id,
                                  standard_id="national-2017", result=result)
    session.add(snapshot)
    session.flush()
    return snapshot


def test_an_entered_e4_that_contradicts_the_latest_cvs_is_refused_with_them(engine):
    with Session(engine) as session:
        world = build_world(session)
        set_county_input(session, world.campaign, "E4", "通过", "王主任")  # no assessment yet: taken
        snapshot = _snapshot(session, world, AS_OF, {"primary": {"1": 0.31, "4": 0.523}, "junior": {"1": 0.2}})
        with pytest.raises(SelfCheckError) as caught:
            set_county_input(session, world.campaign, "E4", "通过", "王主任")
        assert caught.value.message == (
            f"申报条件 E4 的录入值「通过」与最新评估（#{snapshot.id}）计算的差异系数不符，应为「不通过」。"
            "按最新评估的差异系数：小学最大差异系数 0.523（指标4），限 0.5；超限：指标4 0.523；"
            "初中最大差异系数 0.200（指标1），限 0.45")
        entry = set_county_input(session, world.campaign, "E4", "不通过", "王主任")  # agrees: taken
        assert entry.status == "fail"
        assert len(session.exec(select(CountyInput).where(CountyInput.indicator == "E4")).all()) == 2


def _fill(path, rows):
    wb = load_workbook(path)
    ws = wb.active
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(r, c, value)
    wb.save(path)
    return path


def test_e2_takes_the_cv_history_from_imported_sheets_and_stored_assessments(engine, tmp_path):
    with Session(engine) as session:
        world = build_world(session)
        sheet = _fill(write_cv_template(tmp_path / "2024.xlsx", 2024), [[2024, "小学", 0.41], [2024, "初中", "0.38"]])
        import_cv_history(session, world.campaign, sheet, "王主任")
        # 2025 from a stored assessment: the mean of the stage's CVs, (0.3 + 0.5) / 2 = 0.4 and 0.2
        _snapshot(session, world, dt.date(2025, 9, 1), {"primary": {"1": 0.3, "4": 0.5}, "junior": {"1": 0.2}})
        history = cv_history(session, world.campaign.id)
        assert history[(2025, "primary")].cv == pytest.approx(0.4)
        assert history[(2024, "junior")].source == "导入「2024.xlsx」"

        # applying in 2027: 2024, 2025 and 2026 are needed; 2026 is missing
        e2 = decide_history_condition(NATIONAL, history, 2027)
        assert e2.status == "unknown"
        assert "缺少 2026年小学、2026年初中 的差异系数" in e2.detail

        sheet = _fill(write_cv_template(tmp_path / "2026.xlsx", 2026), [[2026, "小学", 0.55], [2026, "初中", 0.49]])
        import_cv_history(session, world.campaign, sheet, "王主任")
        e2 = decide_history_condition(NATIONAL, cv_history(session, world.campaign.id), 2027)
        assert e2.status == "pass"
        assert e2.detail == ("按差异系数历史：2024年小学 0.410（≤ 0.6，导入「2024.xlsx」）；2024年初中 0.380（≤ 0.5，导入「2024.xlsx」）；"
                             f"2025年小学 0.400（≤ 0.6，评估 #{session.exec(select(AssessmentSnapshot.id)).first()}）；"
                             f"2025年初中 0.200（≤ 0.5，评估 #{session.exec(select(AssessmentSnapshot.id)).first()}）；"
                             "2026年小学 0.550（≤ 0.6，导入「2026.xlsx」）；2026年初中 0.490（≤ 0.5，导入「2026.xlsx」）")

        # an imported figure wins over the assessment of its year, and one over its limit fails E2
        sheet = _fill(write_cv_template(tmp_path / "2025.xlsx", 2025), [[2025, "初中", 0.52]])
        import_cv_history(session, world.campaign, sheet, "王主任")
        e2 = decide_history_condition(NATIONAL, cv_history(session, world.campaign.id), 2027)
        assert e2.status == "fail" and e2.failing == [("2025年初中", 0.52, 0.5)]

        # E2 is not an attestation: an entry is refused, saying what the history decides
        with pytest.raises(SelfCheckError, match="申报条件 E2 由近三年差异系数历史判定，不能直接录入"):
            set_county_input(session, world.campaign, "E2", "通过", "王主任")


def test_a_history_sheet_with_errors_names_row_and_column_and_stores_nothing(engine, tmp_path):
    with Session(engine) as session:
        world = build_world(session)
        sheet = _fill(write_cv_template(tmp_path / "bad.xlsx", 2024),
                      [[2024, "高中", 0.4], [2024, "初中", "很低"], [1899, "小学", 0.3], [2023, "小学", 0.3],
                       [2023, "小学", 0.31]])
        with pytest.raises(SheetError) as caught:
            import_cv_history(session, world.campaign, sheet, "王主任")
        assert [(d.row, d.column) for d in caught.value.details] == [(2, "学段"), (3, "综合差异系数"), (4, "年度"),
                                                                     (6, "学段")]
        assert caught.value.details[1].message == "第 3 行「综合差异系数」应为 0 到 5 之间的数，现为「很低」"
        assert caught.value.details[3].message == "第 6 行与第 5 行重复（2023年小学）"
        assert session.exec(select(CvHistory)).all() == []


def test_the_assessment_puts_the_datas_verdicts_in_place_of_the_entries(engine):
    with Session(engine) as session:
        world = build_world(session)
        even = county(3, 3)  # every school alike: every CV 0
        result = assess_campaign(session, world.campaign, NATIONAL, even, AS_OF)
        e4 = next(c for c in result.county if c.code == "E4")
        assert e4.status == "pass" and e4.detail.startswith("按最新评估的差异系数：小学最大差异系数 0.000")
        e2 = next(c for c in result.county if c.code == "E2")
        assert e2.status == "unknown" and "缺少 2024年小学" in e2.detail

        # two poorly equipped primary schools pull the primary CVs over 0.50 (levels 1.2 ×3, 0.1 ×2:
        # mean 0.76, standard deviation 0.539, CV 0.709)
        uneven = [*county(3, 3), primary_school("村小甲", level=0.1, row=9), primary_school("村小乙", level=0.1, row=10)]
        set_county_input(session, world.campaign, "E4", "通过", "王主任")  # before any stored assessment: taken
        result = assess_campaign(session, world.campaign, NATIONAL, uneven, AS_OF)
        e4 = next(c for c in result.county if c.code == "E4")
        assert e4.status == "fail" and "超限" in e4.detail  # the data, not the entry
        over = [ind for ind in result.stages["primary"].indicators.values() if ind.cv is not None and ind.cv > 0.5]
        assert over and result.county_ok is False
        # its failure is the CV shortfalls themselves, not one more
        assert not [s for s in result.shortfalls if s.indicator == "E4"]
        assert {s.indicator for s in result.shortfalls if s.kind == "cv"} >= {i.code for i in over}

        decisions = {d.code: d.status for d in current_decisions(session, world.campaign, NATIONAL)}
        assert decisions == {"E2": "unknown"}  # no stored assessment yet: E4 not decided
