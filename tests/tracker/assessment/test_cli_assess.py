"""`junheng assess FILE`: runs on a real sheet, exits 0 whatever the verdict, 2 on bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from junheng.cli import app
from tests.factories import make_school_rows, write_csv, write_xlsx

runner = CliRunner()


def test_assess_an_xlsx_writes_json_and_tables(tmp_path):
    sheet = write_xlsx(tmp_path / "county.xlsx", make_school_rows(30, seed=11))
    out_json, out_xlsx = tmp_path / "out" / "result.json", tmp_path / "tables.xlsx"
    result = runner.invoke(app, ["assess", str(sheet), "--json", str(out_json), "--xlsx", str(out_xlsx),
                                 "--as-of", "2024-06-01"])
    assert result.exit_code == 0, result.output
    assert "资源配置结论" in result.output and "问题清单" in result.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["standard"] == "national-2017"
    assert data["ok"] in (True, False, None)
    assert set(data["stages"]) == {"primary", "junior"}
    assert data["shortfalls"], "the factory county has schools below the thresholds"
    assert out_xlsx.stat().st_size > 0


def test_hunan_standard_and_county_inputs(tmp_path):
    sheet = write_xlsx(tmp_path / "county.xlsx", make_school_rows(12, seed=2))
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text('"8": 9\n"9": 5\n"10": 通过\n', encoding="utf-8")
    out_json = tmp_path / "r.json"
    result = runner.invoke(app, ["assess", str(sheet), "--standard", "hunan-2023", "--inputs", str(inputs),
                                 "--json", str(out_json)])
    assert result.exit_code == 0, result.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["standard"] == "hunan-2023"
    scored = {i["code"]: i["points"] for i in data["scoring"]["items"]}
    assert scored["8"] == 9 and scored["9"] == 5 and scored["23"] is None


def test_bad_sheet_exits_2_with_the_problems_in_chinese(tmp_path):
    rows = make_school_rows(5, seed=1)
    rows[2]["学校类型"] = "大学"
    rows[3]["小学在校生数"] = -5
    sheet = write_xlsx(tmp_path / "bad.xlsx", rows)
    result = runner.invoke(app, ["assess", str(sheet), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "错误" in result.output and "bad.xlsx" in result.output
    assert "第 4 行「学校类型」" in result.output and "第 5 行「小学在校生数」" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.json").exists()


def test_unknown_standard_and_missing_file_exit_2(tmp_path):
    sheet = write_xlsx(tmp_path / "county.xlsx", make_school_rows(5, seed=1))
    result = runner.invoke(app, ["assess", str(sheet), "--standard", "mars-2030"])
    assert result.exit_code == 2 and "mars-2030" in result.output and "national-2017" in result.output
    result = runner.invoke(app, ["assess", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2 and "找不到文件" in result.output


def test_bad_county_inputs_exit_2(tmp_path):
    sheet = write_xlsx(tmp_path / "county.xlsx", make_school_rows(5, seed=1))
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text('"19": 很好\n"77": 1\n', encoding="utf-8")
    result = runner.invoke(app, ["assess", str(sheet), "--inputs", str(inputs)])
    assert result.exit_code == 2
    assert "指标 19" in result.output and "「77」" in result.output
    assert "Traceback" not in result.output


def test_a_utf8_csv_gives_the_same_assessment_as_the_xlsx(tmp_path):
    rows = make_school_rows(30, seed=11)
    outputs = []
    for sheet in (write_xlsx(tmp_path / "county.xlsx", rows), write_csv(tmp_path / "county.csv", rows,
                                                                        encoding="utf-8-sig")):
        out = tmp_path / f"{sheet.suffix[1:]}.json"
        result = runner.invoke(app, ["assess", str(sheet), "--json", str(out), "--as-of", "2024-06-01"])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(out.read_text(encoding="utf-8")))
    from_xlsx, from_csv = outputs
    assert from_csv == from_xlsx
    school = from_csv["stages"]["primary"]["schools"][0]
    assert set(school["values"]) == {str(i) for i in range(1, 8)} and isinstance(school["ok"], bool)


def test_indoor_sports_area_above_the_teaching_area_exits_2(tmp_path):
    rows = make_school_rows(5, seed=1)
    rows[1]["室内体育用房面积"] = rows[1]["教学及辅助用房面积"] + 1
    result = runner.invoke(app, ["assess", str(write_csv(tmp_path / "bad.csv", rows))])
    assert result.exit_code == 2
    assert "第 3 行「室内体育用房面积」" in result.output and "大于「教学及辅助用房面积」" in result.output
    assert "Traceback" not in result.output
