"""Shortfalls in the units people act on."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.tracker.assessment.schools import county, primary_school
from tracker.assessment import assess
from tracker.assessment.shortfalls import format_amount, round_up
from tracker.standards import load_standard


@pytest.fixture(scope="module")
def result():
    # 1000 pupils; thresholds need 9 PE/art teachers, 4500 m² net teaching area,
    # 200 万元 of equipment, 23 multimedia rooms
    school = primary_school(
        "红星小学", 1000,
        primary_pe_art_teachers=6,            # 3 teachers short
        teaching_area=4580, indoor_sports_area=500,  # 4580 − 500 = 4080 m²: 420 m² short
        equipment_value=114,                  # 86 万元 short
        multimedia_rooms=21,                  # 2 rooms short
    )
    return assess(load_standard("national-2017"), [school] + county(2, 2), as_of=dt.date(2024, 6, 1))


def by_indicator(result, school="红星小学"):
    return {s.indicator: s for s in result.shortfalls if s.school == school and s.kind == "school_value"}


def test_action_texts(result):
    found = by_indicator(result)
    assert found["3"].text == "需增加体育艺术专任教师 3 人"
    assert found["4"].text == "缺口 420 m²"
    assert found["6"].text == "缺口 86 万元"
    assert found["7"].text == "需增加网络多媒体教室 2 间"
    assert set(found) == {"3", "4", "6", "7"}


def test_figures_units_and_departments(result):
    found = by_indicator(result)
    teachers = found["3"]
    assert (teachers.actual, teachers.required, teachers.missing, teachers.unit) == (0.6, 0.9, 3, "人")
    assert teachers.stage == "primary" and teachers.school_key == "红星小学"
    area = found["4"]
    assert area.actual == pytest.approx(4.08) and area.required == 4.5 and area.missing == 420 and area.unit == "m²"
    assert "各乡镇" in area.departments  # kept as written: the campaign resolves it to the township
    money = found["6"]
    assert money.actual == pytest.approx(1140) and money.missing == 86 and money.unit == "万元"
    assert found["7"].unit == "间"
    # four unmet: the one closest to its threshold and ≥ 85 % (7: 91.3 %, ahead of 4: 90.7 %) may stay
    assert {code: s.blocking for code, s in found.items()} == {"3": True, "4": True, "6": True, "7": False}
    assert "红星小学（小学）" in found["3"].description


def test_teacher_gaps_round_up_to_whole_people():
    school = primary_school("小学", 1050, primary_pe_art_teachers=9)  # needs 9.45 → 10
    result = assess(load_standard("national-2017"), [school] + county(1, 2), as_of=dt.date(2024, 6, 1))
    (s,) = [x for x in result.shortfalls if x.school == "小学"]
    assert s.missing == 1 and s.text == "需增加体育艺术专任教师 1 人"


def test_rounding_helpers():
    assert round_up(419.91, 0.1) == 420.0
    assert round_up(420.0000000001, 0.1) == 420.0  # float noise is not a gap
    assert round_up(85.31, 0.1) == 85.4
    assert round_up(2.2, 1) == 3
    assert format_amount(420.0) == "420" and format_amount(85.4) == "85.4"
