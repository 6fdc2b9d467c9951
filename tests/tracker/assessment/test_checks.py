"""Per-school checks (class size, school size, music/art rooms) and the 2019 allowances."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.tracker.assessment.schools import county, junior_school, primary_school
from tracker.assessment import assess
from tracker.standards import load_standard

AFTER_2019 = dt.date(2021, 6, 1)  # within the allowances' "近三年评估中" (to 2022-12-31)
BEFORE_2019 = dt.date(2018, 6, 1)
AFTER_THE_ALLOWANCES = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def national():
    return load_standard("national-2017")


def checks(result):
    return {c.indicator: c for c in result.checks}


def findings(result, school):
    return [s for s in result.shortfalls if s.kind == "school_check" and s.school == school]


def rooms(**changes):
    # 24 classes need 2 music and 2 art rooms of 96 / 90 m²
    base = dict(primary_classes=24, primary_max_class_size=44, music_rooms=2, music_room_min_area=96,
                art_rooms=2, art_room_min_area=90, year_built=2018, migrant_share=0.1, rural_small_school=False)
    base.update(changes)
    return base


def test_checks_are_unknown_without_their_columns(national):
    result = assess(national, county(), as_of=AFTER_2019)
    status = {code: c.status for code, c in checks(result).items()}
    assert status == {"10": "unknown", "11": "pass", "12": "unknown"}  # school size needs only pupils
    assert len(checks(result)["10"].schools_unknown) == 6


def test_all_checks_pass_with_full_data(national):
    records = [primary_school(f"第{i}小学", 1000, **rooms()) for i in range(2)]
    records += [junior_school(f"第{i}中学", 1000, **rooms(primary_classes=None, junior_classes=20,
                                                        junior_max_class_size=50)) for i in range(2)]
    result = assess(national, records, as_of=AFTER_2019)
    assert {c.status for c in result.checks} == {"pass"}
    assert not [s for s in result.shortfalls if s.kind == "school_check"]


def test_class_size_over_the_limit(national):
    school = primary_school("甲小学", 1000, **rooms(primary_max_class_size=52))
    result = assess(national, [school] + county(1, 2), as_of=AFTER_2019)
    (f,) = findings(result, "甲小学")
    assert (f.indicator, f.stage, f.actual, f.required, f.missing, f.unit) == ("12", "primary", 52, 45, 7, "人")
    assert f.blocking is True
    assert f.text == "最大班额 52 人，超过 45 人，需减少 7 人"


def test_rooms_count_per_twelve_classes(national):
    school = primary_school("乙小学", 1000, **rooms(primary_classes=25, music_rooms=2, art_rooms=3))
    result = assess(national, [school] + county(1, 2), as_of=AFTER_2019)
    (f,) = findings(result, "乙小学")  # 25 classes need 3 of each
    assert f.indicator == "10" and f.missing == 1 and f.unit == "间"
    assert f.text == "需增加音乐专用教室 1 间"
    assert checks(result)["10"].status == "fail"


def test_room_area_relaxed_for_schools_built_2016_or_earlier(national):
    old = primary_school("丙小学", 1000, **rooms(music_room_min_area=80, year_built=2015))
    new = primary_school("丁小学", 1000, **rooms(music_room_min_area=80, year_built=2017), row=3)
    result = assess(national, [old, new] + county(0, 2), as_of=AFTER_2019)
    (relaxed,) = findings(result, "丙小学")
    assert relaxed.blocking is False and relaxed.plan_required is True
    assert relaxed.allowance == "rooms_built_2016" and relaxed.years_to_full_standard == 3
    assert relaxed.missing == 16 and "建设规划" in relaxed.text
    (strict,) = findings(result, "丁小学")
    assert strict.blocking is True and strict.allowance is None
    assert any("建设规划" in n for n in result.notes)


def test_allowances_only_apply_while_in_force(national):
    old = primary_school("丙小学", 1000, **rooms(music_room_min_area=80, year_built=2015))
    result = assess(national, [old] + county(1, 2), as_of=BEFORE_2019)
    (f,) = findings(result, "丙小学")
    assert f.blocking is True and f.allowance is None


def test_allowance_does_not_go_below_its_own_floor(national):
    old = primary_school("丙小学", 1000, **rooms(music_room_min_area=70, year_built=2015))
    result = assess(national, [old] + county(1, 2), as_of=AFTER_2019)
    (f,) = findings(result, "丙小学")
    assert f.blocking is True and f.missing == 26  # still measured against the full 96 m²


def test_rural_small_school_room_areas(national):
    small = primary_school("戊教学点", 80, **rooms(primary_classes=6, primary_max_class_size=20,
                                                 music_rooms=1, music_room_min_area=56, art_rooms=1,
                                                 art_room_min_area=55, rural_small_school=True))
    result = assess(national, [small] + county(1, 2), as_of=AFTER_2019)
    music, art = findings(result, "戊教学点")
    assert music.allowance == art.allowance == "rooms_rural_small"
    assert not music.blocking and not art.blocking


def test_school_size_with_the_old_or_migrant_allowance(national):
    big_old = primary_school("大小学", 2300, **rooms(primary_classes=48, music_rooms=4, art_rooms=4,
                                                    year_built=2008))
    big_new = primary_school("新小学", 2300, **rooms(primary_classes=48, music_rooms=4, art_rooms=4,
                                                    year_built=2012, migrant_share=0.3), row=3)
    too_big = primary_school("超大小学", 2500, **rooms(primary_classes=52, music_rooms=5, art_rooms=5,
                                                      year_built=2008), row=4)
    result = assess(national, [big_old, big_new, too_big] + county(0, 2), as_of=AFTER_2019)
    (old,) = findings(result, "大小学")
    assert old.indicator == "11" and not old.blocking and old.plan_required and old.missing == 300
    (new,) = findings(result, "新小学")
    assert new.blocking and new.text == "学校规模 2300 人，超过 2000 人，超出 300 人"
    (over,) = findings(result, "超大小学")
    assert over.blocking and over.missing == 500  # above even 2400: measured against 2000
    assert checks(result)["11"].status == "fail" and checks(result)["11"].schools_failed == 2


def test_nine_year_school_size_counts_both_stages(national):
    from tracker.standards.records import SchoolRecord

    school = SchoolRecord(row=2, name="九年制", school_type="九年一贯制", primary_students=1500,
                          junior_students=1100, senior_students=0)
    result = assess(national, [school] + county(1, 1), as_of=AFTER_2019)
    (f,) = [s for s in findings(result, "九年制") if s.indicator == "11"]
    assert f.actual == 2600 and f.required == 2500 and f.stage is None
    assert "义务教育阶段规模" in f.text


def test_attested_result_used_only_where_data_cannot_decide(national):
    result = assess(national, county(), {"12": "通过"}, as_of=AFTER_2019)
    assert checks(result)["12"].status == "pass"
    school = primary_school("甲小学", 1000, **rooms(primary_max_class_size=52))
    result = assess(national, [school] + county(0, 2), {"12": "通过"}, as_of=AFTER_2019)
    assert checks(result)["12"].status == "fail"
    assert "未采用" in checks(result)["12"].detail


# --- the 2019 allowances end --------------------------------------------------------------------


def test_an_assessment_after_the_allowances_end_does_not_apply_them_and_says_why(national):
    old = primary_school("丙小学", 1000, **rooms(music_room_min_area=80, year_built=2015))
    result = assess(national, [old] + county(1, 2), as_of=AFTER_THE_ALLOWANCES)
    (f,) = findings(result, "丙小学")
    assert f.blocking is True and f.allowance is None and not f.plan_required
    assert "适用至 2022-12-31" in f.text and "2024-06-01 已过" in f.text
    assert checks(result)["10"].status == "fail"
    assert any("rooms" not in n and "适用至 2022-12-31" in n for n in result.notes)
    last_day = assess(national, [old] + county(1, 2), as_of=dt.date(2022, 12, 31))
    assert findings(last_day, "丙小学")[0].allowance == "rooms_built_2016"


def test_allowance_end_is_data_in_the_standard(national):
    for allowance_id in ("rooms_built_2016", "rooms_rural_small", "school_size_2019", "sports_dense_city"):
        assert national.allowance(allowance_id).valid_until == dt.date(2022, 12, 31)


# --- data that decides an allowance but is missing -----------------------------------------------


def test_missing_year_built_makes_the_check_unknown_naming_the_column(national):
    # 80 m² passes under the 2016 allowance (73 m²) if the school is old enough: the sheet cannot tell
    school = primary_school("丙小学", 1000, **rooms(music_room_min_area=80, year_built=None))
    result = assess(national, [school] + county(1, 2), as_of=AFTER_2019)
    outcome = checks(result)["10"]
    assert outcome.status == "unknown" and outcome.schools_failed == 0
    assert "丙小学" in outcome.schools_unknown and "丙小学缺「建校年份」" in outcome.detail
    (f,) = findings(result, "丙小学")
    assert f.blocking is False and "缺少「建校年份」" in f.text


def test_missing_year_built_does_not_hide_a_failure_no_allowance_reaches(national):
    school = primary_school("丙小学", 1000, **rooms(music_room_min_area=60, year_built=None))  # < 73 anyway
    result = assess(national, [school] + county(1, 2), as_of=AFTER_2019)
    assert checks(result)["10"].status == "fail"


def test_missing_largest_class_of_a_rural_small_school_is_unknown(national):
    small = primary_school("戊村小", 80, **rooms(primary_classes=6, primary_max_class_size=None, music_rooms=1,
                                               music_room_min_area=56, art_rooms=1, art_room_min_area=55,
                                               rural_small_school=True, year_built=2018))
    result = assess(national, [small] + county(1, 2), as_of=AFTER_2019)
    outcome = checks(result)["10"]
    assert outcome.status == "unknown" and "戊村小缺「小学最大班额」" in outcome.detail
    assert not [s for s in findings(result, "戊村小") if s.blocking]


def test_missing_migrant_share_of_a_newer_big_school_is_unknown(national):
    big = primary_school("新小学", 2300, **rooms(primary_classes=48, music_rooms=4, art_rooms=4,
                                                year_built=2012, migrant_share=None))
    result = assess(national, [big] + county(0, 2), as_of=AFTER_2019)
    outcome = checks(result)["11"]
    assert outcome.status == "unknown" and "新小学缺「随迁子女占比」" in outcome.detail


# --- music and art rooms per stage -----------------------------------------------------------


def test_a_stage_without_classes_needs_no_room(national):
    school = primary_school("己小学", 1000, **rooms(primary_classes=0, music_rooms=0, art_rooms=0))
    result = assess(national, [school] + county(1, 2), as_of=AFTER_2019)
    assert findings(result, "己小学") == []


def _through(**changes):
    from tracker.standards.records import SchoolRecord

    fields = dict(primary_students=1200, junior_students=450, primary_classes=30, junior_classes=10,
                  primary_max_class_size=40, junior_max_class_size=45, music_rooms=4, art_rooms=4,
                  music_room_min_area=96, art_room_min_area=90, year_built=2018, migrant_share=0.1,
                  rural_small_school=False)
    fields.update(changes)
    return SchoolRecord(row=2, name="九年制", school_type="九年一贯制", **fields)


def test_a_through_school_needs_rooms_per_stage_when_the_sheet_gives_them(national):
    # 30 + 10 classes: 4 rooms of each for the whole school pass; per stage the primary needs 3, has 2
    per_stage = dict(primary_music_rooms=2, primary_music_room_min_area=96, primary_art_rooms=3,
                     primary_art_room_min_area=90, junior_music_rooms=2, junior_music_room_min_area=96,
                     junior_art_rooms=1, junior_art_room_min_area=90)
    result = assess(national, [_through(**per_stage)] + county(1, 1), as_of=AFTER_2019)
    (f,) = [s for s in findings(result, "九年制") if s.indicator == "10"]
    assert (f.stage, f.missing, f.text) == ("primary", 1, "需增加音乐专用教室 1 间")
    assert not any("未按学段填报" in n for n in result.notes)
    # a stage without classes needs none of its own
    per_stage.update(junior_art_rooms=0, junior_art_room_min_area=None, primary_music_rooms=3)
    ok = assess(national, [_through(junior_classes=0, **per_stage)] + county(1, 1), as_of=AFTER_2019)
    assert [s for s in findings(ok, "九年制") if s.indicator == "10"] == []


def test_a_through_school_without_per_stage_rooms_is_checked_as_a_whole_with_a_note(national):
    result = assess(national, [_through()] + county(1, 1), as_of=AFTER_2019)
    assert [s for s in findings(result, "九年制") if s.indicator == "10"] == []
    assert any(n.startswith("九年制未按学段填报音乐、美术专用教室") for n in result.notes)


def test_a_known_large_class_decides_the_rural_allowance_without_the_rest(national):
    school = primary_school("庚村小", 80, **rooms(primary_classes=6, primary_max_class_size=35, music_rooms=1,
                                                music_room_min_area=56, art_rooms=1, art_room_min_area=55,
                                                rural_small_school=None, year_built=2018))
    result = assess(national, [school] + county(1, 2), as_of=AFTER_2019)
    assert checks(result)["10"].status == "fail"  # 35 ≥ 30: not a small school's allowance, known
