"""`junheng standards list|show` through the real Typer app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from junheng.cli import app
from tracker.settings import get_settings
from tracker.standards import BUNDLED_DIR

runner = CliRunner()


@pytest.fixture(autouse=True)
def county_data_dir(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(data))
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that table cells do not wrap
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_list_shows_both_standards_with_counts():
    result = runner.invoke(app, ["standards", "list"])
    assert result.exit_code == 0, result.output
    for text in ("national-2017", "hunan-2023", "教督〔2017〕6号", "县域义务教育优质均衡发展督导评估办法",
                 "共 32 项", "共 36 项", "按校计算 7", "逐校检查 3", "计分 10"):
        assert text in result.output, text


def test_show_national_lists_indicators_conditions_vetoes_allowances():
    result = runner.invoke(app, ["standards", "show", "national-2017"])
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        "A 资源配置（7 项）", "B 政府保障程度（15 项）", "C 教育质量（9 项）", "D 社会认可度（1 项）",
        "每百名学生拥有高于规定学历教师数", "小学 ≥ 4.2 人/百生；初中 ≥ 5.3 人/百生",
        "责任单位：教育局、编办、人社局（科室：人事科）",
        "班额：小学 ≤ 45 人，初中 ≤ 50 人", "特殊教育学校生均公用经费 ≥ 6000 元/生",
        "每所学校指标 1、2、3、4、5、6、7 中至少 6 项达标，余项不低于标准的 85%",
        "申报条件", "通过国家义务教育基本均衡发展认定三年以上",
        "一票否决", "有弄虚作假行为",
        "放宽条件", "rooms_built_2016", "须做建设规划，认定后 3 年内达标",
    ):
        assert text in out, text


def test_show_hunan_has_classes_points_and_grades():
    result = runner.invoke(app, ["standards", "show", "hunan-2023"])
    assert result.exit_code == 0, result.output
    out = result.output
    for text in ("保障教育优先发展  [B类] （计分）", "要求：10 分（4 个分项）", "要求：20 分（5 个分项）", "生态文明等教育（6 分）",
                 "每所学校指标 1、2、3、4、5、6、7 全部达标；全县数值也须逐项达标",
                 "80–85 分合格，86–90 分良好，91–100 分优秀", "F 社会认可度（1 项）",
                 "85 与 86 之间（如 85.5 分）定为合格", "按分项录入得分（如 8.1、8.2）", "· 8.1 党委、政府"):
        assert text in out, text


def test_show_accepts_a_path_to_a_county_file(tmp_path):
    copy = tmp_path / "本县标准.yaml"
    shutil.copy(BUNDLED_DIR / "hunan-2023.yaml", copy)
    result = runner.invoke(app, ["standards", "show", str(copy)])
    assert result.exit_code == 0, result.output
    assert "湖南省县域义务教育优质均衡发展督导评估实施细则及计分办法（试行）" in result.output


def test_unknown_standard_is_a_chinese_error_without_traceback():
    result = runner.invoke(app, ["standards", "show", "shandong-2018"])
    assert result.exit_code == 2
    assert "错误：标准文件 shandong-2018.yaml：没有编号为“shandong-2018”的标准" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_broken_file_names_file_and_field(tmp_path):
    broken = tmp_path / "broken.yaml"
    text = (BUNDLED_DIR / "national-2017.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("thresholds: {primary: 4.5, junior: 5.8}",
                                   "thresholds: {primary: 四点五, junior: 5.8}"), encoding="utf-8")
    result = runner.invoke(app, ["standards", "show", str(broken)])
    assert result.exit_code == 2
    assert f"标准文件 {broken}：indicators[3].thresholds.primary：应为数字" in result.output
    assert "Traceback" not in result.output


def test_list_fails_cleanly_on_a_broken_county_file(county_data_dir):
    own = county_data_dir / "standards"
    own.mkdir(parents=True)
    (own / "mine.yaml").write_text("id: mine\ntitle: 本县\n", encoding="utf-8")
    result = runner.invoke(app, ["standards", "list"])
    assert result.exit_code == 2
    assert f"标准文件 {own / 'mine.yaml'}：document：缺少必填字段" in result.output
    assert "Traceback" not in result.output
