"""Stage sections and the splitting of shared facilities (domain.md, "Splitting shared facilities")."""

from __future__ import annotations

import pytest

from tracker.assessment.sections import excluded_schools, split_sections
from tracker.standards.records import SchoolRecord
from tracker.settings import get_settings
from tracker.standards import load_standard


@pytest.fixture(scope="module")
def national():
    return load_standard("national-2017")


def test_nine_year_school_split_as_in_domain_example(national):
    # 600 primary + 400 junior sharing 5000 m²: weighted 600×1 + 400×1.1 = 1040,
    # primary 5000 × 600/1040 = 2884.615 m² (4.81/pupil), junior 5000 × 440/1040 = 2115.385 m² (5.29/pupil)
    school = SchoolRecord(row=2, name="实验学校", school_type="九年一贯制", primary_students=600,
                          junior_students=400, teaching_area=5000, primary_qualified_teachers=30,
                          junior_qualified_teachers=25)
    primary, junior = split_sections([school], national, kindergarten_weight=1.0)
    assert (primary.stage, junior.stage) == ("primary", "junior")
    assert primary.teaching_area == pytest.approx(2884.615, abs=5e-4)
    assert junior.teaching_area == pytest.approx(2115.385, abs=5e-4)
    assert round(primary.teaching_area / 600, 2) == 4.81
    assert round(junior.teaching_area / 400, 2) == 5.29
    # teachers are each section's own, never split
    assert (primary.qualified_teachers, junior.qualified_teachers) == (30, 25)
    # a section of a mixed school carries the school's name
    assert primary.school == junior.school == "实验学校"


def test_twelve_year_school_senior_takes_a_share_but_no_section(national):
    # 1 : 1.1 : 1.32 → 100 + 110 + 132 = 342 weighted pupils for 100 pupils of each stage
    school = SchoolRecord(row=2, name="十二年制学校", school_type="十二年一贯制", primary_students=100,
                          junior_students=100, senior_students=100, sports_area=3420, multimedia_rooms=34.2)
    sections = split_sections([school], national, kindergarten_weight=1.0)
    assert [s.stage for s in sections] == ["primary", "junior"]
    assert sections[0].sports_area == pytest.approx(1000)
    assert sections[1].sports_area == pytest.approx(1100)
    assert sections[1].multimedia_rooms == pytest.approx(11)
    assert sum(s.share for s in sections) == pytest.approx(210 / 342)


def test_complete_middle_school_junior_to_senior_one_to_one_point_two(national):
    school = SchoolRecord(row=2, name="第一中学", school_type="完全中学", junior_students=600,
                          senior_students=500, equipment_value=1200)
    (junior,) = split_sections([school], national, kindergarten_weight=1.0)
    assert junior.stage == "junior"
    # 600 : 500 × 1.2 = 600 : 600
    assert junior.equipment_value == pytest.approx(600)


def test_attached_kindergarten_takes_its_weighted_share(national, monkeypatch):
    school = SchoolRecord(row=2, name="中心小学", school_type="小学", primary_students=400,
                          kindergarten_students=100, teaching_area=2500)
    (section,) = split_sections([school], national, kindergarten_weight=1.0)
    assert section.teaching_area == pytest.approx(2000)  # 400 of 500 weighted pupils
    (section,) = split_sections([school], national, kindergarten_weight=0.6)
    assert section.teaching_area == pytest.approx(2500 * 400 / 460)
    # the default comes from the setting JUNHENG_KINDERGARTEN_WEIGHT
    monkeypatch.setenv("JUNHENG_KINDERGARTEN_WEIGHT", "0.5")
    get_settings.cache_clear()
    try:
        (section,) = split_sections([school], national)
    finally:
        get_settings.cache_clear()
    assert section.teaching_area == pytest.approx(2500 * 400 / 450)


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_kindergarten_weight_setting_means_unset(national, monkeypatch, value):
    school = SchoolRecord(row=2, name="中心小学", school_type="小学", primary_students=400,
                          kindergarten_students=100, teaching_area=2500)
    monkeypatch.setenv("JUNHENG_KINDERGARTEN_WEIGHT", value)
    get_settings.cache_clear()
    try:
        (section,) = split_sections([school], national)
    finally:
        get_settings.cache_clear()
    assert section.teaching_area == pytest.approx(2000)  # the default weight 1


def test_a_bad_kindergarten_weight_setting_is_a_chinese_error(national, monkeypatch):
    from tracker.settings import SettingsError

    monkeypatch.setenv("JUNHENG_KINDERGARTEN_WEIGHT", "abc")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="JUNHENG_KINDERGARTEN_WEIGHT「abc」应为正数"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_split_shared_addition_follows_the_split(national):
    from tracker.assessment.sections import split_shared_addition, whole_school_amount

    school = SchoolRecord(row=2, name="一贯制", school_type="九年一贯制", primary_students=600,
                          junior_students=400, kindergarten_students=100)
    parts = split_shared_addition(school, national, 1000.0, kindergarten_weight=1 / 1.1)
    weighted = {"primary": 600, "junior": 440, "kindergarten": 100 / 1.1}
    total = sum(weighted.values())
    assert parts == pytest.approx({k: 1000 * v / total for k, v in weighted.items()})
    assert whole_school_amount(parts["junior"], weighted["junior"] / total) == pytest.approx(1000)
    single = SchoolRecord(row=3, name="小学", school_type="小学", primary_students=300)
    assert split_shared_addition(single, national, 50.0, kindergarten_weight=1.0) == {"primary": 50.0}


def test_small_teaching_points_and_special_schools_are_left_out(national):
    records = [
        SchoolRecord(row=2, name="甲教学点", school_type="教学点", primary_students=49),
        SchoolRecord(row=3, name="乙教学点", school_type="教学点", primary_students=50),
        SchoolRecord(row=4, name="特教学校", school_type="特殊教育学校", primary_students=80, junior_students=40),
        SchoolRecord(row=5, name="丙小学", school_type="小学", primary_students=300),
    ]
    sections = split_sections(records, national, kindergarten_weight=1.0)
    assert [s.school for s in sections] == ["乙教学点", "丙小学"]
    assert all(s.stage == "primary" for s in sections)
    excluded = {e.name: e.reason for e in excluded_schools(records, national)}
    assert set(excluded) == {"甲教学点", "特教学校"}
    assert "不足 50 人" in excluded["甲教学点"]
    assert "特殊教育学校" in excluded["特教学校"]


def test_a_stage_without_pupils_makes_no_section(national):
    school = SchoolRecord(row=2, name="九年制", school_type="九年一贯制", primary_students=300, teaching_area=900)
    (section,) = split_sections([school], national, kindergarten_weight=1.0)
    assert section.stage == "primary"
    assert section.teaching_area == pytest.approx(900)
