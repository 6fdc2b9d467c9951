"""The JSON contract (issue 2) and the official xlsx tables."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from tracker.assessment import assess
from tracker.assessment.report import to_json, write_official_xlsx
from tracker.schooldata.records import SchoolRecord
from tracker.standards import load_standard
from tests.tracker.assessment.schools import county

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
