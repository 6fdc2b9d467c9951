"""The bundled standards load, say what the documents say, and bad files are named precisely."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tracker.standards.records import SchoolSection
from tracker.settings import get_settings
from tracker.standards import (
    BUNDLED_DIR,
    StandardError,
    list_standards,
    load_standard,
    load_standard_file,
)
from tracker.standards.schema import Judged


@pytest.fixture(autouse=True)
def county_data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data dir of our own, so a user's ~/.local standards never leak in."""
    data = tmp_path / "data"
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(data))
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def _by_code(std):
    return {ind.code: ind for ind in std.indicators}


# ---------------------------------------------------------------------------- both files


def test_bundled_standards_are_listed_and_load():
    ids = [s.id for s in list_standards()]
    assert ids == ["hunan-2023", "national-2017"]
    assert load_standard("national-2017").document == "教督〔2017〕6号"
    assert load_standard("hunan-2023").region == "湖南省"


def test_loading_is_cached_until_the_file_changes(tmp_path):
    assert load_standard("national-2017") is load_standard("national-2017")
    copy = tmp_path / "mine.yaml"
    shutil.copy(BUNDLED_DIR / "national-2017.yaml", copy)
    first = load_standard_file(copy)
    assert load_standard_file(copy) is first
    copy.write_text(copy.read_text(encoding="utf-8").replace("title: 县域义务教育优质均衡发展督导评估办法",
                                                             "title: 本县使用的标准副本"), encoding="utf-8")
    later = copy.stat().st_mtime_ns + 10**9  # the cache key is path + mtime + size
    os.utime(copy, ns=(later, later))
    assert load_standard_file(copy).title == "本县使用的标准副本"


@pytest.mark.parametrize("standard_id", ["national-2017", "hunan-2023"])
def test_formulas_name_school_section_fields(standard_id):
    section_fields = {f.name for f in dataclasses.fields(SchoolSection)}
    for ind in load_standard(standard_id).resource_indicators:
        assert ind.formula is not None
        for name in ind.formula.numerator + ind.formula.subtract:
            assert name in section_fields, (ind.code, name)


@pytest.mark.parametrize("standard_id", ["national-2017", "hunan-2023"])
def test_every_indicator_has_responsible_units(standard_id):
    std = load_standard(standard_id)
    for ind in std.indicators:
        assert ind.departments and ind.departments[0] == "教育局", ind.code
    for cond in std.application_conditions + std.vetoes:
        assert cond.departments, cond.code


# ---------------------------------------------------------------------------- national


def test_national_areas_and_counts():
    std = load_standard("national-2017")
    per_area = Counter(ind.area for ind in std.indicators)
    assert [a.title for a in std.areas] == ["资源配置", "政府保障程度", "教育质量", "社会认可度"]
    assert per_area == {"A": 7, "B": 15, "C": 9, "D": 1}
    assert [ind.code for ind in std.indicators] == [str(n) for n in range(1, 33)]
    assert len(std.application_conditions) == 5
    assert [v.title for v in std.vetoes] == [
        "存在以考试方式招生", "存在违规择校行为", "存在重点学校或重点班",
        "存在“有编不补”或长期聘用编外教师的情况", "教育系统存在重大安全责任事故和严重违纪违规事件", "有弄虚作假行为",
    ]
    assert std.scoring is None


def test_national_resource_thresholds_match_the_document():
    std = load_standard("national-2017")
    table = {  # domain.md, table A
        "1": (4.2, 5.3), "2": (1.0, 1.0), "3": (0.9, 0.9), "4": (4.5, 5.8),
        "5": (7.5, 10.2), "6": (2000, 2500), "7": (2.3, 2.4),
    }
    assert [i.code for i in std.resource_indicators] == list(table)
    for code, (primary, junior) in table.items():
        assert std.indicator(code).thresholds == {"primary": primary, "junior": junior}
    six = std.indicator("6")
    assert six.formula.scale == 10000 and six.shortfall_unit == "万元" and six.unit == "元/生"
    four = std.indicator("4")
    assert four.formula.numerator == ["teaching_area"] and four.formula.subtract == ["indoor_sports_area"]
    assert [i.formula.shared for i in std.resource_indicators] == [False] * 3 + [True] * 4
    assert std.cv_limit("primary") == 0.50 and std.cv_limit("junior") == 0.45
    assert std.splitting == {"九年一贯制": [1, 1.1], "十二年一贯制": [1, 1.1, 1.32], "完全中学": [1, 1.2]}
    rule = std.per_school_rule
    assert (rule.indicators, rule.min_met, rule.rest_min_ratio, rule.county_must_meet) == (
        ["1", "2", "3", "4", "5", "6", "7"], 6, 0.85, False)


def test_national_how_each_indicator_is_judged():
    ind = _by_code(load_standard("national-2017"))
    checks = {code: (i.check.kind, i.check.params) for code, i in ind.items() if i.judged is Judged.per_school_check}
    assert checks == {
        "10": ("rooms_per_classes", {"classes_per_room": 12, "music_min_area": 96, "art_min_area": 90}),
        "11": ("school_size", {"max_students": 2000, "max_students_through": 2500}),
        "12": ("class_size", {"primary_max": 45, "junior_max": 50}),
    }
    figures = {code: [(t.op, t.value, t.unit) for t in i.all_thresholds]
               for code, i in ind.items() if i.judged is Judged.county_figure}
    assert figures == {
        "14": [(">=", 6000, "元/生")],
        "16": [(">=", 100, "%")],
        "18": [(">=", 10, "%"), (">=", 20, "%")],
        "19": [(">=", 100, "%")],
        "20": [(">=", 100, "%"), (">=", 95, "%")],
        "21": [(">=", 50, "%")],
        "22": [(">=", 85, "%")],
        "23": [(">=", 95, "%")],
        "24": [(">=", 95, "%")],
        "26": [(">=", 5, "%")],
        "31": [(">=", 3, "级"), ("<", 0.15, "")],
        "32": [(">=", 85, "%")],
    }
    assert [t.stage for t in ind["20"].all_thresholds] == ["primary", "junior"]
    attested = sorted((c for c, i in ind.items() if i.judged is Judged.attestation), key=int)
    assert attested == ["8", "9", "13", "15", "17", "25", "27", "28", "29", "30"]


def test_national_responsible_units_follow_the_seed_tables():
    ind = _by_code(load_standard("national-2017"))
    # seed 001, 附件 3
    assert ind["1"].departments == ["教育局", "编办", "人社局"]
    assert ind["4"].departments == ["教育局", "发改局", "财政局", "住建局", "卫健局", "各乡镇"]
    assert ind["15"].departments == ["教育局", "财政局", "人社局", "绩效办"]
    # seed 002 adds 残联 for disabled children and 妇联/团县委 for left-behind children
    assert "残联" in ind["24"].departments
    assert {"民政局", "妇联", "团县委"} <= set(ind["22"].departments)
    # seed 000 bureau sections
    assert ind["6"].bureau_units == ["教研中心"] and ind["12"].bureau_units == ["基教科"]
    assert {c for c, i in ind.items() if i.school_can_fix} == {"3", "7", "12", "25", "26", "27", "28", "29", "30"}


def test_national_allowances_are_dated_options():
    std = load_standard("national-2017")
    by_id = {a.id: a for a in std.allowances}
    assert {a.id: a.condition for a in std.allowances} == {
        "rooms_built_2016": "built_2016_or_earlier",
        "rooms_rural_small": "rural_small_school",
        "school_size_2019": "built_2010_or_earlier_or_migrant_over_50pct",
        "sports_dense_city": "dense_city_center",
    }
    assert by_id["rooms_built_2016"].params == {"music_min_area": 73, "art_min_area": 67}
    assert by_id["rooms_rural_small"].params == {
        "music_min_area_primary": 54, "art_min_area_primary": 54,
        "music_min_area_junior": 61, "art_min_area_junior": 61}
    assert by_id["rooms_rural_small"].condition_params == {"max_class_size_below": 30}
    assert by_id["school_size_2019"].params == {"max_students": 2400, "max_students_through": 3000}
    assert by_id["school_size_2019"].condition_params == {"built_year_max": 2010, "migrant_share_over": 0.5}
    for aid in ("rooms_built_2016", "rooms_rural_small", "school_size_2019"):
        a = by_id[aid]
        assert a.valid_from is not None and a.valid_from.year == 2019
        assert a.requires_plan and a.years_to_full_standard == 3 and a.computed
    assert not by_id["sports_dense_city"].computed and not by_id["sports_dense_city"].requires_plan
    assert std.indicator("10").check.allowances == ["rooms_built_2016", "rooms_rural_small"]
    assert std.indicator("11").check.allowances == ["school_size_2019"]
    assert std.allowance("sports_dense_city").applies_to == ["5"]


def test_national_application_conditions_carry_their_numbers():
    conditions = {c.code: c for c in load_standard("national-2017").application_conditions}
    assert conditions["E1"].params == {"min_years": 3}
    assert conditions["E2"].params == {"years": 3, "primary_cv_limit": 0.60, "junior_cv_limit": 0.50}
    assert conditions["E4"].params == {"primary_cv_limit": 0.50, "junior_cv_limit": 0.45}


# ---------------------------------------------------------------------------- Hunan


def test_hunan_counts_classes_and_points():
    std = load_standard("hunan-2023")
    assert len(std.indicators) == 36
    assert [ind.code for ind in std.indicators] == [str(n) for n in range(1, 37)]
    assert Counter(ind.klass for ind in std.indicators) == {"A": 26, "B": 10}
    b = [ind for ind in std.indicators if ind.klass == "B"]
    assert all(ind.judged is Judged.scored for ind in b)
    assert {ind.code: ind.points for ind in b} == {
        "8": 10, "9": 5, "23": 5, "27": 10, "29": 10, "30": 10, "32": 20, "33": 10, "34": 10, "35": 10}
    assert sum(ind.points for ind in b) == 100 == std.scoring.total_points
    for ind in b:
        assert sum(item["points"] for item in ind.sub_items) == ind.points, ind.code
    assert [a.title for a in std.areas] == ["资源配置", "政府保障程度", "教育质量", "立德树人", "信息化建设", "社会认可度"]
    per_area = Counter((ind.area, ind.klass) for ind in std.indicators)
    assert per_area == {("A", "A"): 7, ("B", "A"): 14, ("B", "B"): 3, ("C", "A"): 4, ("C", "B"): 3,
                        ("D", "B"): 2, ("E", "B"): 2, ("F", "A"): 1}
    assert len(std.vetoes) == 6 and std.application_conditions == [] and std.allowances == []


def test_hunan_rules_differ_from_the_national_ones():
    std = load_standard("hunan-2023")
    rule = std.per_school_rule
    assert (rule.min_met, rule.rest_min_ratio, rule.county_must_meet) == (7, None, True)
    scoring = std.scoring
    assert (scoring.total_points, scoring.pass_total, scoring.per_indicator_min_ratio) == (100, 80, 0.8)
    assert [(g["min"], g["max"], g["name"]) for g in scoring.grades] == [
        (80, 85, "合格"), (86, 90, "良好"), (91, 100, "优秀")]
    assert std.indicator("28").threshold.value == 8  # training budget: 8 %, national 5 %
    one = std.indicator("1")
    assert one.thresholds == {"primary": 4.2, "junior": 5.3} and "42人以上" in one.note
    assert std.cv_limit("primary") == 0.50 and std.cv_limit("junior") == 0.45
    assert not std.indicator("11").check.allowances  # Hunan names no 2019 allowances


def test_hunan_units_are_the_matching_national_ones():
    national = load_standard("national-2017")
    for ind in load_standard("hunan-2023").indicators:
        if not ind.national_code:
            assert ind.code == "8" and "推定" in ind.note  # the only Hunan-only indicator
            continue
        match = national.indicator(ind.national_code)
        assert ind.departments == match.departments, ind.code
        # national 25 (章程 + 信息化) is split in Hunan 27 / 34: each keeps its own sections
        assert ind.bureau_units and set(ind.bureau_units) <= set(match.bureau_units), ind.code
        assert ind.school_can_fix == match.school_can_fix, ind.code


# ---------------------------------------------------------------------------- broken files

BROKEN = [
    # (file, text to replace, replacement, field path expected, message fragment)
    ("national-2017", "thresholds: {primary: 4.5, junior: 5.8}", "thresholds: {primary: 四点五, junior: 5.8}",
     "indicators[3].thresholds.primary", "应为数字"),
    ("national-2017", "    shortfall_unit: 万元\n", "    shortfall_unit: 万元\n    shortfal: 万元\n",
     "indicators[5].shortfal", "不认识的字段"),
    ("national-2017", "allowances: [school_size_2019]", "allowances: [school_size_2020]",
     "indicators[10].check.allowances[0]", "school_size_2020"),
    ("national-2017", '  - code: "9"\n', '  - code: "8"\n',
     "indicators[8].code", "重复"),
    ("national-2017", 'indicators: ["1", "2", "3", "4", "5", "6", "7"]', 'indicators: ["1", "2", "3", "4", "5", "6", "70"]',
     "per_school_rule.indicators[6]", "70"),
    ("national-2017", "kind: class_size", "kind: class_sizes", "indicators[11].check.kind", "class_sizes"),
    ("national-2017", "numerator: [sports_area]", "numerator: [sport_area]",
     "indicators[4].formula.numerator[0]", "不是学校数据字段"),
    ("national-2017", "judged: per_school_check\n    check:\n      kind: school_size",
     "judged: per_school_chek\n    check:\n      kind: school_size", "indicators[10].judged", "per_school_check"),
    ("national-2017", '  - code: "14"\n', "  - code: 14\n", "indicators[13].code", "加引号"),
    ("national-2017", "issued: 2017-04-26", "issued: 2017年4月26日", "issued", "YYYY-MM-DD"),
    ("national-2017", "    condition: rural_small_school\n", "", "allowances[1].condition", "缺少必填字段"),
    ("hunan-2023", "    points: 20\n", "    points: 15\n", "scoring.total_points", "95"),
    ("hunan-2023", "    points: 20\n", "    points: 15\n", "indicators[31].sub_items", "20 分"),
    ("hunan-2023", "{title: 留守儿童管理台帐清楚明确, points: 1}", "{title: 留守儿童管理台帐清楚明确, points: 一}",
     "indicators[22].sub_items[1].points", "正数"),
    ("hunan-2023", "  - code: \"32\"\n    area: D\n    class: B", "  - code: \"32\"\n    area: G\n    class: B",
     "indicators[31].area", "G"),
    ("hunan-2023", "    - {min: 86, max: 90, name: 良好}", "    - {min: 84, max: 90, name: 良好}",
     "scoring.grades[1].min", "不重叠"),
    ("national-2017", "rounding: {school_value: 2,", "rounding: {school_values: 2,", "rounding.school_values",
     "school_value"),
    ("national-2017", "county_value: 2, cv: 3}", "county_value: 2, cv: -1}", "rounding.cv", "0 到 6"),
]


@pytest.mark.parametrize(("source", "old", "new", "path", "fragment"), BROKEN)
def test_a_broken_copy_names_the_file_and_the_field(tmp_path, source, old, new, path, fragment):
    text = (BUNDLED_DIR / f"{source}.yaml").read_text(encoding="utf-8")
    assert text.count(old) >= 1, "the mutation must change the file"
    broken = tmp_path / f"{source}-broken.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(StandardError) as caught:
        load_standard_file(broken)
    message = str(caught.value)
    line = next((ln for ln in message.splitlines() if f"：{path}：" in ln), None)
    assert line is not None, message
    assert line.startswith(f"标准文件 {broken}：") and fragment in line, message


def test_yaml_syntax_errors_give_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\ntitle: [未闭合\nareas: []\n", encoding="utf-8")
    with pytest.raises(StandardError, match=r"标准文件 .*bad\.yaml：第 \d+ 行第 \d+ 列：YAML 格式错误"):
        load_standard_file(bad)


def test_a_file_that_is_not_a_mapping_or_missing(tmp_path):
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(StandardError, match="文件内容应为一个映射"):
        load_standard_file(listed)
    with pytest.raises(StandardError, match="找不到文件"):
        load_standard_file(tmp_path / "nothing.yaml")


def test_unknown_id_names_the_known_ones():
    with pytest.raises(StandardError) as caught:
        load_standard("shandong-2018")
    assert "没有编号为“shandong-2018”的标准" in str(caught.value)
    assert "hunan-2023、national-2017" in str(caught.value)
    with pytest.raises(StandardError, match="标准编号只能由"):
        load_standard("../national-2017")


# ---------------------------------------------------------------------------- a county's own file


def test_a_county_adds_a_provincial_standard(county_data_dir):
    own = county_data_dir / "standards"
    own.mkdir(parents=True)
    text = (BUNDLED_DIR / "hunan-2023.yaml").read_text(encoding="utf-8")
    (own / "hunan-2024.yaml").write_text(text.replace("id: hunan-2023", "id: hunan-2024"), encoding="utf-8")
    assert [s.id for s in list_standards()] == ["hunan-2023", "hunan-2024", "national-2017"]
    assert load_standard("hunan-2024").scoring.total_points == 100


def test_a_county_file_whose_id_differs_from_its_name(county_data_dir):
    own = county_data_dir / "standards"
    own.mkdir(parents=True)
    shutil.copy(BUNDLED_DIR / "hunan-2023.yaml", own / "hunan-local.yaml")
    with pytest.raises(StandardError) as caught:
        load_standard("hunan-local")
    assert str(caught.value).startswith(f"标准文件 {own / 'hunan-local.yaml'}：id：应与文件名一致")


def test_a_county_file_may_not_shadow_a_bundled_one(county_data_dir):
    own = county_data_dir / "standards"
    own.mkdir(parents=True)
    shutil.copy(BUNDLED_DIR / "national-2017.yaml", own / "national-2017.yaml")
    with pytest.raises(StandardError, match="重名"):
        list_standards()
