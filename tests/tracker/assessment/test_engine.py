"""assess(): per-school rule, CVs and the resource verdict, county-level items, Hunan scoring."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from tests.tracker.assessment.schools import county, junior_school, primary_school
from tracker.assessment import AssessmentInputError, DifferenceCoefficient, assess
from tracker.assessment.resource import SectionTable, compute_resource
from tracker.assessment.sections import split_sections
from tracker.standards import load_standard

AS_OF = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def national():
    return load_standard("national-2017")


@pytest.fixture(scope="module")
def hunan():
    return load_standard("hunan-2023")


def section(result, name, stage="primary"):
    return next(s for s in result.stages[stage].schools if s.school == name)


# ------------------------------------------------------------------ the per-school rule


def test_a_county_where_everything_meets_is_ok(national):
    result = assess(national, county(), as_of=AS_OF)
    assert result.ok is True and result.verdict_reasons() == []
    for stage in ("primary", "junior"):
        for ind in result.stages[stage].indicators.values():
            assert ind.cv == pytest.approx(0.0, abs=1e-12) and ind.cv_ok is True
    assert not [s for s in result.shortfalls if s.kind in ("school_value", "cv")]


def test_national_six_of_seven_with_the_seventh_at_85_percent(national):
    # 1000 pupils need 4500 m² (4.5 m²/pupil); 3825 m² is exactly 85 %
    at_85 = primary_school("甲小学", 1000, teaching_area=3825)
    below_85 = primary_school("乙小学", 1000, teaching_area=3824)
    result = assess(national, [at_85, below_85] + county(1, 2), as_of=AS_OF)
    a, b = section(result, "甲小学"), section(result, "乙小学")
    assert "4" not in a.met and len(a.met) == 6 and a.ok is True and a.blocking == []
    assert "4" not in b.met and len(b.met) == 6 and b.ok is False and b.blocking == ["4"]
    assert result.ok is False
    shortfall_a = next(s for s in result.shortfalls if s.school == "甲小学")
    assert shortfall_a.blocking is False and shortfall_a.indicator == "4"


def test_national_two_unmet_fail_and_the_closer_one_may_stay(national):
    # indicator 6 at 95 % and indicator 7 at 90 %: fixing 7 alone would make the school pass
    school = primary_school("丙小学", 1000, equipment_value=190, multimedia_rooms=20.7)
    result = assess(national, [school] + county(2, 2), as_of=AS_OF)
    s = section(result, "丙小学")
    assert s.ok is False
    assert s.blocking == ["7"]
    blocking = {x.indicator: x.blocking for x in result.shortfalls if x.school == "丙小学"}
    assert blocking == {"6": False, "7": True}


def test_verdicts_use_unrounded_values(national):
    # 4.1996 rounds to 4.20 on the form but is below 4.2: not met
    school = primary_school("丁小学", 10000, primary_qualified_teachers=419.96)
    result = assess(national, [school] + county(2, 2), as_of=AS_OF)
    s = section(result, "丁小学")
    assert round(s.values["1"], 2) == 4.2
    assert "1" not in s.met


def test_hunan_every_school_must_meet_all_seven(hunan):
    school = primary_school("甲小学", 1000, teaching_area=4455)  # 99 % of 4.5
    result = assess(hunan, [school] + county(2, 2), as_of=AS_OF)
    s = section(result, "甲小学")
    assert s.ok is False and s.blocking == ["4"]
    assert result.ok is False


def test_hunan_the_county_must_meet_too(hunan):
    # two primary schools far below on indicator 2 pull the county value below 1.0
    records = [primary_school(f"弱{i}", 1000, primary_backbone_teachers=2, row=2 + i) for i in range(2)]
    records += [primary_school("强", 1000, primary_backbone_teachers=12, row=4)] + county(0, 2)
    result = assess(hunan, records, as_of=AS_OF)
    ind = result.stages["primary"].indicators["2"]
    assert ind.county_met is False
    county_shortfall = next(s for s in result.shortfalls if s.kind == "county" and s.indicator == "2")
    assert county_shortfall.school is None and county_shortfall.stage == "primary"
    # county 2 + 2 + 12 = 16 backbone teachers for 3000 pupils; 1.0 per 100 needs 30: 14 missing
    assert county_shortfall.missing == 14 and county_shortfall.text == "全县需增加县级以上骨干教师 14 人"


# ------------------------------------------------------------------ CVs and the verdict


def test_cv_undefined_below_two_sections_makes_the_verdict_unknown(national):
    records = county(3, 1)
    result = assess(national, records, as_of=AS_OF)
    junior = result.stages["junior"].indicators["1"]
    assert junior.sections == 1 and junior.cv is None and junior.cv_ok is None
    assert result.ok is None
    assert any("差异系数无法计算" in n for n in result.notes)
    assert result.verdict_reasons() == ["初中差异系数无法计算（少于 2 个学段或均值为 0）"]


def test_a_known_failure_outweighs_an_unknown_cv(national):
    records = county(3, 1)
    records[0] = replace(records[0], primary_pe_art_teachers=1)
    records[1] = replace(records[1], primary_pe_art_teachers=1)
    assert assess(national, records, as_of=AS_OF).ok is False


def test_cv_over_the_limit_names_the_schools_pulling_it_away(national):
    # seven primary schools at the same level but one with a tiny multimedia-room count
    # and one with a huge one: the CV of indicator 7 passes 0.50
    records = county(6, 2)
    records[0] = replace(records[0], multimedia_rooms=80.0)  # 800 pupils: 10 per 100
    records[1] = replace(records[1], multimedia_rooms=2.0)
    result = assess(national, records, as_of=AS_OF)
    ind = result.stages["primary"].indicators["7"]
    assert ind.cv > 0.5 and ind.cv_ok is False
    assert result.ok is False
    assert "小学指标 7 的差异系数超过 0.5" in result.verdict_reasons()
    cv = next(s for s in result.shortfalls if s.kind == "cv")
    assert (cv.indicator, cv.stage, cv.school) == ("7", "primary", None)
    assert cv.actual == pytest.approx(ind.cv) and cv.required == 0.5
    assert 3 <= len(cv.schools) <= 5
    assert cv.schools[0]["name"] == "第1小学" and cv.schools[0]["direction"] == "偏高"
    assert "第1小学" in cv.text and "差异系数" in cv.text
    shares = [s["share"] for s in cv.schools]
    assert shares == sorted(shares, reverse=True)


def test_county_value_is_the_ratio_of_totals(national):
    records = [primary_school("甲", 500, level=1.0), primary_school("乙", 1500, level=2.0)] + county(0, 2)
    result = assess(national, records, as_of=AS_OF)
    # qualified teachers: 21 + 126 = 147 for 2000 pupils → 7.35 per 100
    assert result.stages["primary"].indicators["1"].county_value == pytest.approx(7.35)


def test_array_path_matches_the_sections(national):
    records = county(4, 3)
    table = SectionTable.from_sections(split_sections(records, national, kindergarten_weight=1.0))
    arrays = compute_resource(national, table)
    assert arrays.values.shape == (7, 7)
    for k in range(7):
        for g, (a, b) in enumerate(table.bounds):
            dc = DifferenceCoefficient.of(arrays.values[k, a:b], table.students[a:b])
            assert arrays.county_value[k, g] == pytest.approx(dc.mean, rel=1e-12)
            assert arrays.std[k, g] == pytest.approx(dc.std, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------ county-level indicators


def test_county_level_indicators_are_unknown_until_entered(national):
    result = assess(national, county(), as_of=AS_OF)
    assert {c.status for c in result.county} == {"unknown"}
    assert result.county_ok is None  # never a silent pass


def test_county_figures_attestations_and_vetoes(national):
    inputs = {
        "19": 98,  # 教师资格证上岗率 must be 100 %
        "18": {"rotation_share": 12, "backbone_share": 25},
        "8": "通过",
        "9": "不通过",
        "V1": "未发生",
        "V2": "存在",
    }
    result = assess(national, county(), inputs, as_of=AS_OF)
    status = {c.code: c.status for c in result.county}
    assert status["19"] == "fail" and status["18"] == "pass" and status["8"] == "pass"
    assert status["9"] == "fail" and status["V1"] == "pass" and status["V2"] == "fail"
    assert status["14"] == "unknown"
    assert result.county_ok is False
    county_shortfalls = {s.indicator: s for s in result.shortfalls if s.kind == "county"}
    assert county_shortfalls["19"].actual == 98 and county_shortfalls["19"].required == 100
    assert county_shortfalls["19"].missing == 2 and county_shortfalls["19"].unit == "%"
    assert county_shortfalls["9"].text == "未通过认定"
    assert "一票否决" in county_shortfalls["V2"].text
    assert set(county_shortfalls) == {"19", "9", "V2"}


def test_one_of_two_figures_failing_fails_the_indicator(national):
    result = assess(national, county(), {"18": {"rotation_share": 12, "backbone_share": 15}}, as_of=AS_OF)
    item = next(c for c in result.county if c.code == "18")
    assert item.status == "fail"
    (shortfall,) = [s for s in result.shortfalls if s.indicator == "18"]
    assert shortfall.actual == 15 and shortfall.required == 20


def test_bad_county_inputs_are_rejected_with_chinese_problems(national):
    with pytest.raises(AssessmentInputError) as err:
        assess(national, county(), {"19": "很好", "99": 1, "1": 5, "8": 3}, as_of=AS_OF)
    problems = "\n".join(err.value.problems)
    assert "指标 19" in problems and "「很好」" in problems
    assert "未知的指标代码「99」" in problems
    assert "由学校数据计算" in problems
    assert "指标 8" in problems


# ------------------------------------------------------------------ Hunan scoring


def _scores(hunan, **overrides):
    scores = {i.code: i.points for i in hunan.indicators if i.judged.value == "scored"}
    scores.update(overrides)
    return scores


def _lose(hunan, points):
    """Full marks less ``points``, taken from the items in turn, each keeping ≥ 80 %."""
    scores = _scores(hunan)
    for ind in hunan.indicators:
        if ind.judged.value == "scored" and points > 0:
            take = min(points, 0.2 * ind.points)
            scores[ind.code] = ind.points - take
            points -= take
    return scores


@pytest.mark.parametrize(
    ("lost", "total", "grade"),
    [(0, 100, "优秀"), (9, 91, "优秀"), (9.5, 90.5, "良好"), (14, 86, "良好"), (14.5, 85.5, "合格"), (20, 80, "合格")],
)
def test_hunan_grades(hunan, lost, total, grade):
    # bands 80–85 合格, 86–90 良好, 91–100 优秀; a total between bands (85.5) stays in the lower one
    result = assess(hunan, county(), _lose(hunan, lost), as_of=AS_OF)
    assert result.scoring.total == pytest.approx(total)
    assert result.scoring.ok is True
    assert result.scoring.grade == grade


def test_hunan_an_indicator_below_80_percent_fails_scoring(hunan):
    result = assess(hunan, county(), _scores(hunan, **{"9": 3.5}), as_of=AS_OF)
    assert result.scoring.ok is False and result.scoring.grade is None
    (shortfall,) = [s for s in result.shortfalls if s.indicator == "9"]
    assert shortfall.kind == "county" and shortfall.required == 4 and shortfall.missing == 0.5
    assert shortfall.unit == "分"


def test_hunan_scoring_unknown_until_every_item_is_scored(hunan):
    scores = _scores(hunan)
    del scores["35"]
    result = assess(hunan, county(), scores, as_of=AS_OF)
    assert result.scoring.total is None and result.scoring.ok is None and result.scoring.grade is None


def test_hunan_points_above_the_maximum_are_rejected(hunan):
    with pytest.raises(AssessmentInputError, match="0 到 5"):
        assess(hunan, county(), _scores(hunan, **{"9": 6}), as_of=AS_OF)


def test_standard_by_id(national):
    assert assess("national-2017", county(), as_of=AS_OF).standard == "national-2017"
    assert junior_school("x").junior_students == 1000


# ------------------------------------------------------------------ the array path against plain rules


def _plain_rule(values, thresholds, min_met, rest):
    """The per-school rule written out plainly for one section: (ok, blocking codes)."""
    ratios = {c: v / thresholds[c] for c, v in values.items()}
    unmet = [c for c, r in ratios.items() if r < 1]
    near = sorted((c for c in unmet if rest is None or r_ge(ratios[c], rest)), key=lambda c: -ratios[c])
    allowed = len(values) - min_met
    ok = len(unmet) <= allowed and len(near) == len(unmet)
    may_stay = set(near[:allowed])
    return ok, sorted(c for c in unmet if c not in may_stay)


def r_ge(a, b):
    return a >= b - 1e-9


@pytest.mark.parametrize("min_met", [7, 6, 5])
def test_array_path_agrees_with_the_rule_written_plainly(national, min_met):
    from tracker.standards.schema import PerSchoolRule

    rest = None if min_met == 7 else 0.85
    standard = national.model_copy(update={"per_school_rule": PerSchoolRule(
        indicators=list("1234567"), min_met=min_met, rest_min_ratio=rest)})
    rng = np.random.default_rng(min_met)
    records = [primary_school(f"小学{i}", float(rng.integers(60, 2000)), level=float(rng.uniform(0.7, 1.3)),
                              row=2 + i, primary_pe_art_teachers=float(rng.integers(0, 30)),
                              multimedia_rooms=float(rng.integers(1, 50)))
               for i in range(150)]
    records += [junior_school(f"中学{i}", float(rng.integers(100, 2000)), level=float(rng.uniform(0.8, 1.2)),
                              row=200 + i, equipment_value=float(rng.uniform(5, 500)))
                for i in range(80)]
    result = assess(standard, records, as_of=AS_OF)
    for stage in ("primary", "junior"):
        thresholds = {c: i.threshold for c, i in result.stages[stage].indicators.items()}
        for s in result.stages[stage].schools:
            ok, blocking = _plain_rule(s.values, thresholds, min_met, rest)
            assert (s.ok, sorted(s.blocking)) == (ok, blocking), s


def test_today_is_beijings_not_the_machines(national):
    import time_machine

    # 2024-06-30 20:00 UTC is already 1 July in Beijing
    with time_machine.travel(dt.datetime(2024, 6, 30, 20, 0, tzinfo=dt.timezone.utc), tick=False):
        assert assess(national, county()).as_of == dt.date(2024, 7, 1)
