"""The JSON contract (issue 2) and the official xlsx tables."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from tests.tracker.assessment.schools import county, junior_school, primary_school
from tracker.assessment import assess
from tracker.assessment.report import official_round, to_json, write_official_xlsx
from tracker.standards.records import SchoolRecord
from tracker.standards import load_standard

CODES = [str(i) for i in range(1, 8)]


@pytest.fixture(scope="module")
def assessment():
    records = county(3, 1)  # one junior section: junior CVs undefined
    records[0] = replace(records[0], primary_pe_art_teachers=3)
    records.append(SchoolRecord(row=9, name="实验学校", school_type="九年一贯制", primary_students=600,
                                junior_students=400, teaching_area=5000))
    return assess(load_standard("national-2017"), records, as_of=dt.date(2024, 6, 1))


def test_json_contract(assessment):
    data = json.loads(json.dumps(to_json(assessment), ensure_ascii=False))  # serialisable as is
    assert data["standard"] == "national-2017"
    assert data["ok"] is False
    assert set(data["stages"]) == {"primary", "junior"}
    for stage in data["stages"].values():
        for school in stage["schools"]:
            assert {"name", "students", "values", "met", "ok"} <= set(school)
            assert set(school["values"]) == set(CODES)
            assert all(isinstance(v, float) for v in school["values"].values())
            assert set(school["met"]) <= set(CODES) and isinstance(school["ok"], bool)
        assert set(stage["indicators"]) == set(CODES)
        for ind in stage["indicators"].values():
            assert {"county_value", "cv", "cv_limit", "cv_ok"} <= set(ind)
            assert isinstance(ind["county_value"], float) and isinstance(ind["cv_limit"], float)
    junior = data["stages"]["junior"]
    # two junior sections (初中 + the 九年一贯制's junior part) with the school's name
    assert [s["name"] for s in junior["schools"]] == ["第1中学", "实验学校"]
    primary_names = [s["name"] for s in data["stages"]["primary"]["schools"]]
    assert "实验学校" in primary_names
    assert data["stages"]["primary"]["indicators"]["1"]["cv_ok"] is True
    for s in data["shortfalls"]:
        assert {"indicator", "stage", "school", "actual", "required", "missing", "unit", "departments"} <= set(s)
        assert isinstance(s["departments"], list)
    schools = {s["school"] for s in data["shortfalls"] if s["kind"] == "school_value"}
    assert "第1小学" in schools  # 3 PE/art teachers for 800 pupils


def test_json_nulls_where_the_cv_is_undefined():
    result = assess(load_standard("national-2017"), county(3, 1), as_of=dt.date(2024, 6, 1))
    data = to_json(result)
    assert data["ok"] is None
    junior = data["stages"]["junior"]["indicators"]["4"]
    assert junior["cv"] is None and junior["cv_ok"] is None
    assert isinstance(junior["county_value"], float)


def test_official_tables(assessment, tmp_path):
    path = write_official_xlsx(assessment, tmp_path / "tables.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["表Ⅱ-2", "表Ⅲ", "问题清单"]
    per_school = wb["表Ⅱ-2"]
    assert per_school["A1"].value == "表Ⅱ-2 资源配置基本情况（分学校）"
    header = [c.value for c in per_school[2]]
    assert header[:3] == ["学校名称", "学段", "在校生数"] and header[-2:] == ["达标项数", "结论"]
    rows = [[c.value for c in r] for r in per_school.iter_rows(min_row=3) if r[1].value in ("小学", "初中")]
    assert len(rows) == sum(len(s.schools) for s in assessment.stages.values())
    lab = next(r for r in rows if r[0] == "实验学校" and r[1] == "小学")
    assert lab[3 + 3] == 4.81  # indicator 4, 2884.615 m² / 600, rounded to 2 decimals
    texts = [c.value for row in per_school.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("未四舍五入" in t for t in texts)

    county_table = wb["表Ⅲ"]
    assert county_table["A1"].value == "表Ⅲ 县域义务教育校际均衡情况"
    lines = [[c.value for c in r] for r in county_table.iter_rows(min_row=3) if r[1].value in ("小学", "初中")]
    assert len(lines) == 14
    first = lines[0]
    ind = assessment.stages["primary"].indicators["1"]
    assert first[3] == round(ind.county_value, 2) and first[4] == round(ind.cv, 3)
    assert first[7] == "达标"
    texts = [c.value for row in county_table.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("未四舍五入" in t for t in texts)
    assert "资源配置结论：不达标" in texts


def _rows(ws):
    return [[c.value for c in r] for r in ws.iter_rows(min_row=3) if r[1].value in ("小学", "初中")]


@pytest.mark.parametrize(("value", "digits", "shown"), [
    (0.125, 2, 0.13), (2.675, 2, 2.68), (0.0625, 3, 0.063), (4.1996, 2, 4.2), (0.4504, 3, 0.45),
    (7.35, 2, 7.35), (1913 / 302, 2, 6.33), (0.515257, 3, 0.515), (2000.0, 2, 2000.0),
])
def test_official_round_is_half_up_on_the_printed_decimal(value, digits, shown):
    # round() is half to even on the binary float: round(0.125, 2) == 0.12, round(2.675, 2) == 2.67
    assert official_round(value, digits) == shown


def test_table_shows_a_rounded_value_that_meets_but_the_verdict_uses_the_unrounded_one(tmp_path):
    # Hunan: every school must meet all seven. 419.96 teachers for 10,000 pupils is 4.1996 per 100:
    # the form shows 4.20 (= the threshold 4.2), but the school is below it and fails.
    records = [primary_school("临界小学", 10000, primary_qualified_teachers=419.96),
               primary_school("半数小学", 800, row=3, primary_qualified_teachers=33)] + county(2, 2)
    result = assess(load_standard("hunan-2023"), records, as_of=dt.date(2024, 6, 1))
    wb = load_workbook(write_official_xlsx(result, tmp_path / "t.xlsx"))
    ws = wb["表Ⅱ-2"]
    rows = {r[0]: r for r in _rows(ws)}
    edge = rows["临界小学"]
    assert edge[3] == 4.2 and edge[-2] == 6 and edge[-1] == "不达标"
    cell = next(r[3] for r in ws.iter_rows(min_row=3) if r[0].value == "临界小学")
    assert cell.number_format == "0.00" and cell.fill.fgColor.rgb.endswith("FFF2CC")  # marked unmet
    # 100 × 33 ÷ 800 = 4.125 exactly: 四舍五入 gives 4.13 (round() would give 4.12)
    assert rows["半数小学"][3] == 4.13
    assert result.ok is False


def test_table_shows_a_cv_at_the_limit_but_the_verdict_uses_the_unrounded_one(tmp_path):
    # two junior schools of 1000 pupils with 725.2 and 274.8 万元 of equipment: 7252 and 2748 元/pupil.
    # X̄ = 5000, S = |7252 − 2748| ÷ 2 = 2252, CV = 2252 ÷ 5000 = 0.4504: shown 0.450, over 0.45.
    records = county(2, 0) + [junior_school("甲中学", 1000, row=5, equipment_value=725.2),
                              junior_school("乙中学", 1000, row=6, equipment_value=274.8)]
    result = assess(load_standard("national-2017"), records, as_of=dt.date(2024, 6, 1))
    ind = result.stages["junior"].indicators["6"]
    assert ind.cv == pytest.approx(0.4504, abs=1e-9) and ind.cv_ok is False
    assert result.ok is False
    assert to_json(result)["stages"]["junior"]["indicators"]["6"]["cv"] == pytest.approx(0.4504, abs=1e-9)
    wb = load_workbook(write_official_xlsx(result, tmp_path / "t.xlsx"))
    line = next(r for r in wb["表Ⅲ"].iter_rows(min_row=3) if r[0].value.startswith("6.") and r[1].value == "初中")
    assert line[4].value == 0.45 and line[4].number_format == "0.000"
    assert line[3].value == 5000 and line[5].value == "≤ 0.45" and line[7].value == "不达标"
    cv_problem = next(r for r in wb["问题清单"].iter_rows(min_row=3, values_only=True) if r[3] == "差异系数")
    assert cv_problem[4] == 0.45 and cv_problem[9] == "是"
    # the text shows enough digits not to read "0.450，超过 0.45"
    (cv_text,) = [s.text for s in result.shortfalls if s.kind == "cv"]
    assert cv_text.startswith("差异系数 0.4504，超过 0.45；")


def test_distinct_digits():
    from tracker.assessment.shortfalls import distinct_digits

    assert distinct_digits(0.5151, 0.5) == "0.515"
    assert distinct_digits(0.4503, 0.45) == "0.4503"
    assert distinct_digits(0.45000012, 0.45) == "0.4500001"


@pytest.mark.parametrize(("value", "digits"), [(1e308, 2), (1e30, 3), (-1e300, 2), (1.7976931348623157e308, 3)])
def test_official_round_takes_huge_values(value, digits):
    # the default decimal context (28 digits) raised InvalidOperation on these (issue 11)
    assert official_round(value, digits) == value
    assert official_round(float("inf"), 2) == float("inf")


def test_tables_and_json_survive_absurd_values(tmp_path):
    """Records that did not come through the sheet's bounds (1e308 m², 10^30 万元): the assessment,
    the JSON and the official tables are produced, nothing raises (it crashed in report.py)."""
    records = county(3, 2)
    records[0] = replace(records[0], teaching_area=1e308, sports_area=1e308)
    records[3] = replace(records[3], equipment_value=float(10**30))
    result = assess(load_standard("national-2017"), records, as_of=dt.date(2024, 6, 1))
    json.dumps(to_json(result), allow_nan=False)
    wb = load_workbook(write_official_xlsx(result, tmp_path / "t.xlsx"))
    values = [c.value for row in wb["表Ⅱ-2"].iter_rows() for c in row]
    assert 1e308 / 800 in values or any(isinstance(v, float) and v > 1e300 for v in values)
