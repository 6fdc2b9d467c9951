"""read_school_sheet: the contract headers, every kind of bad input, and both file formats."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.factories import HEADERS, make_school_rows, write_csv, write_xlsx
from tracker.schooldata import sheet as sheet_module
from tracker.schooldata.columns import COLUMNS, REQUIRED_HEADERS, SCHOOL_TYPE_STAGES
from tracker.standards.records import SCHOOL_TYPES, SchoolRecord
from tracker.schooldata.sheet import SheetError, SheetProblem, read_school_sheet

STAGE_HEADERS = {
    "primary": ("小学在校生数", "小学高于规定学历教师数", "小学县级以上骨干教师数", "小学体育艺术专任教师数"),
    "junior": ("初中在校生数", "初中高于规定学历教师数", "初中县级以上骨干教师数", "初中体育艺术专任教师数"),
    "senior": ("高中在校生数",),
}


def school(name: str = "城关小学", school_type: str = "小学", **cells: object) -> dict[str, object]:
    """A valid row for ``school_type`` (required columns only), then ``cells`` override by header."""
    row: dict[str, object] = {h: None for h in REQUIRED_HEADERS}
    row.update({"学校名称": name, "学校类型": school_type})
    for stage in SCHOOL_TYPE_STAGES[school_type]:
        for header, value in zip(STAGE_HEADERS[stage], (500, 30, 6, 5)):
            row[header] = value
    row.update({"教学及辅助用房面积": 4200.5, "室内体育用房面积": 300, "体育运动场馆面积": 5200,
                "教学仪器设备值（万元）": 150.75, "网络多媒体教室数": 14})
    row.update(cells)
    return row


def write(tmp_path: Path, rows: list[dict[str, object]], fmt: str = "xlsx", **kwargs: object) -> Path:
    path = tmp_path / f"schools.{fmt}"
    if fmt == "xlsx":
        return write_xlsx(path, rows, **kwargs)
    return write_csv(path, rows, **kwargs)


def problems(path: Path | bytes, filename: str | None = None) -> list[SheetProblem]:
    with pytest.raises(SheetError) as caught:
        read_school_sheet(path, filename)
    assert caught.value.problems, "a SheetError always lists its problems"
    return caught.value.problems


def only(found: list[SheetProblem]) -> SheetProblem:
    assert len(found) == 1, [p.message for p in found]
    return found[0]


@pytest.fixture(params=["xlsx", "csv"])
def fmt(request) -> str:
    return request.param


# --- valid sheets -----------------------------------------------------------------------


def test_generated_county_reads_in_both_formats_with_the_same_records(tmp_path):
    rows = make_school_rows(60, seed=3)
    from_xlsx = read_school_sheet(write_xlsx(tmp_path / "a.xlsx", rows))
    from_csv = read_school_sheet(write_csv(tmp_path / "a.csv", rows))
    assert len(from_xlsx) == 60
    assert from_xlsx == from_csv
    assert [r.name for r in from_xlsx] == [r["学校名称"] for r in rows]
    assert [r.row for r in from_xlsx] == list(range(2, 62))
    assert {r.school_type for r in from_xlsx} <= set(SCHOOL_TYPES)
    first = from_xlsx[0]
    assert first.primary_students == rows[0]["小学在校生数"]
    assert first.junior_students == 0  # blank in a 小学 means 0
    assert first.school_code == rows[0]["学校标识码"] and first.key == first.school_code


def test_every_attribute_is_read_from_its_header(fmt, tmp_path):
    row = school("河口九年一贯制学校", "九年一贯制", **{
        "小学在校生数": 620, "初中在校生数": 410, "初中高于规定学历教师数": 27,
        "学校标识码": "2143001234", "所在乡镇": "河口镇", "城乡类别": "镇区", "办学性质": "公办",
        "附设幼儿班人数": 45, "小学班级数": 14, "初中班级数": 9, "小学最大班额": 46, "初中最大班额": 48,
        "音乐专用教室数": 2, "音乐专用教室最小面积": 88.5, "美术专用教室数": 1, "美术专用教室最小面积": 90,
        "建校年份": 2003, "随迁子女占比": "12%", "是否农村小规模学校": "否",
        "联系人": " 张明 ", "联系邮箱": "zhangming@hekou.qingchuan.example",
    })
    [record] = read_school_sheet(write(tmp_path, [row], fmt))
    assert record == SchoolRecord(
        row=2, name="河口九年一贯制学校", school_type="九年一贯制",
        primary_students=620, junior_students=410, senior_students=0,
        primary_qualified_teachers=30, junior_qualified_teachers=27,
        primary_backbone_teachers=6, junior_backbone_teachers=6,
        primary_pe_art_teachers=5, junior_pe_art_teachers=5,
        teaching_area=4200.5, indoor_sports_area=300, sports_area=5200, equipment_value=150.75,
        multimedia_rooms=14, school_code="2143001234", township="河口镇", urban_rural="镇区",
        ownership="公办", kindergarten_students=45, primary_classes=14, junior_classes=9,
        primary_max_class_size=46, junior_max_class_size=48, music_rooms=2, music_room_min_area=88.5,
        art_rooms=1, art_room_min_area=90, year_built=2003, migrant_share=0.12, rural_small_school=False,
        contact_name="张明", contact_email="zhangming@hekou.qingchuan.example",
    )
    assert isinstance(record.year_built, int)


def test_a_through_school_may_give_its_music_and_art_rooms_per_stage(fmt, tmp_path):
    row = school("河口九年一贯制学校", "九年一贯制", **{
        "小学音乐专用教室数": 2, "小学音乐专用教室最小面积": 96, "小学美术专用教室数": 2, "小学美术专用教室最小面积": 91.5,
        "初中音乐专用教室数": 1, "初中音乐专用教室最小面积": 97, "初中美术专用教室数": 0,
    })
    [record] = read_school_sheet(write(tmp_path, [row], fmt))
    assert (record.primary_music_rooms, record.primary_music_room_min_area) == (2, 96)
    assert (record.primary_art_rooms, record.primary_art_room_min_area) == (2, 91.5)
    assert (record.junior_music_rooms, record.junior_music_room_min_area, record.junior_art_rooms) == (1, 97, 0)
    assert record.junior_art_room_min_area is None and record.music_rooms is None


def test_optional_columns_absent_are_none_not_zero(fmt, tmp_path):
    [record] = read_school_sheet(write(tmp_path, [school()], fmt))
    assert record.primary_classes is None and record.music_rooms is None and record.migrant_share is None
    assert record.rural_small_school is None and record.school_code is None
    assert record.contact_name is None and record.contact_email is None
    assert record.kindergarten_students == 0
    assert record.key == "城关小学"


def test_twelve_year_school_fills_all_three_stages(fmt, tmp_path):
    row = school("县实验学校", "十二年一贯制", **{"小学在校生数": 900, "初中在校生数": 600, "高中在校生数": 450})
    [record] = read_school_sheet(write(tmp_path, [row], fmt))
    assert record.school_type == "十二年一贯制"
    assert (record.primary_students, record.junior_students, record.senior_students) == (900, 600, 450)
    assert record.primary_qualified_teachers == 30 and record.junior_qualified_teachers == 30


def test_twelve_year_school_must_not_leave_a_stage_blank(tmp_path):
    row = school("县实验学校", "十二年一贯制", **{"高中在校生数": None})
    found = only(problems(write(tmp_path, [row])))
    assert (found.row, found.column) == (2, "高中在校生数")
    assert found.message == "第 2 行「高中在校生数」：不能为空（没有请填 0）。"


def test_header_variants_brackets_whitespace_and_markers(tmp_path):
    rename = {"教学仪器设备值（万元）": " 教学仪器设备值(万元) ", "学校名称": "*学校名称", "小学在校生数": "小学在校\n生数",
              "网络多媒体教室数": "网络多媒体教室数（必填）"}
    row = {rename.get(h, h): v for h, v in school().items()}
    [record] = read_school_sheet(write(tmp_path, [row]))
    assert record.equipment_value == 150.75 and record.name == "城关小学" and record.primary_students == 500
    assert record.multimedia_rooms == 14
    assert record.extra == {}


def test_extra_columns_are_kept_verbatim(fmt, tmp_path):
    row = school(**{"备注": "新校区 2025 年启用", "校长": "张三", "填表人电话": 13800000000})
    [record] = read_school_sheet(write(tmp_path, [row], fmt))
    expected_phone = 13800000000 if fmt == "xlsx" else "13800000000"
    assert record.extra == {"备注": "新校区 2025 年启用", "校长": "张三", "填表人电话": expected_phone}


def test_fully_empty_rows_are_skipped_and_row_numbers_stay_true(tmp_path):
    path = tmp_path / "gaps.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(list(REQUIRED_HEADERS))
    ws.append([school("一小")[h] for h in REQUIRED_HEADERS])
    ws.append([])
    ws.append([" ", None, "  "])  # whitespace only counts as empty
    ws.append([school("二小")[h] for h in REQUIRED_HEADERS])
    wb.save(path)
    records = read_school_sheet(path)
    assert [(r.name, r.row) for r in records] == [("一小", 2), ("二小", 5)]


def test_title_rows_above_the_header_are_skipped(tmp_path):
    path = tmp_path / "titled.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["某县义务教育学校基本情况统计表"])
    ws.append(["填报日期：2026 年 12 月"])
    ws.append(list(REQUIRED_HEADERS))
    ws.append([school()[h] for h in REQUIRED_HEADERS])
    ws.append([school("二小", **{"小学在校生数": "多"})[h] for h in REQUIRED_HEADERS])
    wb.save(path)
    found = only(problems(path))
    assert found.message.startswith("第 5 行「小学在校生数」")


def test_sheet_named_school_is_chosen_over_the_first(tmp_path):
    path = tmp_path / "two.xlsx"
    wb = Workbook()
    wb.active.title = "封面"
    wb.active.append(["这不是学校数据"])
    ws = wb.create_sheet("学校")
    ws.append(list(REQUIRED_HEADERS))
    ws.append([school()[h] for h in REQUIRED_HEADERS])
    wb.save(path)
    assert [r.name for r in read_school_sheet(path)] == ["城关小学"]


def test_first_sheet_is_read_when_none_is_named_school(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [school()], sheet="Sheet1")
    assert [r.name for r in read_school_sheet(path)] == ["城关小学"]


def test_bytes_upload_with_and_without_filename(tmp_path):
    data = write(tmp_path, [school()]).read_bytes()
    assert read_school_sheet(data, "上传.xlsx")[0].name == "城关小学"
    assert read_school_sheet(data)[0].name == "城关小学"  # sniffed as a zip (xlsx)
    csv_data = write(tmp_path, [school()], "csv").read_bytes()
    assert read_school_sheet(csv_data, "上传.csv")[0].name == "城关小学"


def test_csv_with_bom_as_excel_saves_it(tmp_path):
    path = write(tmp_path, [school(), school("二小")], "csv", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [r.name for r in read_school_sheet(path)] == ["城关小学", "二小"]


def test_numbers_as_people_type_them(fmt, tmp_path):
    row = school(**{"小学在校生数": "１,２００", "教学及辅助用房面积": "5,320.5", "体育运动场馆面积": " 6000 ",
                    "小学高于规定学历教师数": 55.0})
    [record] = read_school_sheet(write(tmp_path, [row], fmt))
    assert record.primary_students == 1200 and record.teaching_area == 5320.5 and record.sports_area == 6000
    assert record.primary_qualified_teachers == 55


@pytest.mark.parametrize("typed, share", [(0.35, 0.35), ("35%", 0.35), (35, 0.35), ("35％", 0.35), ("0.5%", 0.005),
                                          (1, 1.0), (0, 0.0), ("100%", 1.0)])
def test_migrant_share_accepts_fraction_percent_or_number(tmp_path, typed, share):
    [record] = read_school_sheet(write(tmp_path, [school(**{"随迁子女占比": typed})]))
    assert record.migrant_share == pytest.approx(share)


@pytest.mark.parametrize("typed, value", [("是", True), ("否", False), ("Y", True), ("n", False), (1, True),
                                          ("0", False), (True, True), ("Ｙ", True)])
def test_rural_small_school_yes_no(tmp_path, typed, value):
    [record] = read_school_sheet(write(tmp_path, [school(**{"是否农村小规模学校": typed})]))
    assert record.rural_small_school is value


def test_school_type_aliases(tmp_path):
    rows = [school("一中", "九年一贯制", **{"学校类型": "九年一贯制学校"}),
            school("二中", "完全中学", **{"学校类型": " 完中 "})]
    assert [r.school_type for r in read_school_sheet(write(tmp_path, rows))] == ["九年一贯制", "完全中学"]


def test_special_school_may_leave_numbers_blank(tmp_path):
    row = {h: None for h in REQUIRED_HEADERS} | {"学校名称": "县特殊教育学校", "学校类型": "特殊教育学校"}
    [record] = read_school_sheet(write(tmp_path, [row]))
    assert record.school_type == "特殊教育学校" and record.primary_students == 0 and record.teaching_area == 0


def test_year_built_typed_as_a_date(tmp_path):
    [record] = read_school_sheet(write(tmp_path, [school(**{"建校年份": dt.datetime(1998, 9, 1)})]))
    assert record.year_built == 1998


# --- one test per kind of bad input --------------------------------------------------------


def test_missing_required_column_names_row_1_and_the_column(fmt, tmp_path):
    row = school()
    del row["小学在校生数"]
    found = only(problems(write(tmp_path, [row], fmt)))
    assert (found.row, found.column) == (1, "小学在校生数")
    assert found.message == "第 1 行（表头）：缺少必填列「小学在校生数」。"


def test_missing_columns_are_all_listed_with_a_hint_for_a_misspelling(tmp_path):
    row = school()
    row["教学仪器设备(万元)"] = row.pop("教学仪器设备值（万元）")
    del row["网络多媒体教室数"], row["室内体育用房面积"]
    found = problems(write(tmp_path, [row]))
    assert [(p.row, p.column) for p in found] == [
        (1, "室内体育用房面积"), (1, "教学仪器设备值（万元）"), (1, "网络多媒体教室数")]
    assert "表中有「教学仪器设备(万元)」，是否写错了列名" in found[1].message


def test_missing_columns_and_bad_rows_are_reported_together(tmp_path):
    row = school(**{"小学在校生数": -1})
    del row["网络多媒体教室数"]
    found = problems(write(tmp_path, [row]))
    assert [(p.row, p.column) for p in found] == [(1, "网络多媒体教室数"), (2, "小学在校生数")]


def test_no_school_name_column_stops_at_the_header(tmp_path):
    row = school()
    row["学校"] = row.pop("学校名称")
    found = only(problems(write(tmp_path, [row])))
    assert (found.row, found.column) == (1, "学校名称")


def test_duplicate_header(tmp_path):
    path = tmp_path / "dup.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append([*REQUIRED_HEADERS, "小学在校生数 "])
    ws.append([school()[h] for h in REQUIRED_HEADERS] + [1])
    wb.save(path)
    found = only(problems(path))
    assert (found.row, found.column) == (1, "小学在校生数")
    assert "第 Q 列与第 C 列重复" in found.message


def test_unknown_school_type(fmt, tmp_path):
    found = only(problems(write(tmp_path, [school(), school("阳光幼儿园", "小学", **{"学校类型": "幼儿园"})], fmt)))
    assert (found.row, found.column) == (3, "学校类型")
    assert found.message.startswith("第 3 行「学校类型」：未知的学校类型「幼儿园」，应为 小学、初中、九年一贯制")


def test_blank_school_type_and_name(tmp_path):
    found = problems(write(tmp_path, [school(**{"学校类型": None}), school(None)]))
    assert [(p.row, p.column) for p in found] == [(2, "学校类型"), (3, "学校名称")]
    assert found[0].message.startswith("第 2 行「学校类型」：不能为空")
    assert found[1].message == "第 3 行「学校名称」：不能为空。"


def test_negative_number(fmt, tmp_path):
    found = only(problems(write(tmp_path, [school(**{"体育运动场馆面积": -20})], fmt)))
    assert (found.row, found.column) == (2, "体育运动场馆面积")
    assert found.message == "第 2 行「体育运动场馆面积」：应为非负数，实际为「-20」（不能为负数）。"


def test_non_numeric_number(fmt, tmp_path):
    found = only(problems(write(tmp_path, [school(), school("二小"), school("三小"),
                                           school("四小", **{"小学在校生数": "abc"})], fmt)))
    assert found.message == "第 5 行「小学在校生数」：应为非负整数，实际为「abc」。"
    assert (found.row, found.column) == (5, "小学在校生数")


@pytest.mark.parametrize("typed", ["约300", "300人", "nan", "inf", True])
def test_non_numeric_variants(tmp_path, typed):
    found = only(problems(write(tmp_path, [school(**{"室内体育用房面积": typed})])))
    assert found.column == "室内体育用房面积" and "应为非负数" in found.message


def test_non_integer_count(fmt, tmp_path):
    found = only(problems(write(tmp_path, [school(**{"小学县级以上骨干教师数": 2.5, "教学及辅助用房面积": 4000.25})], fmt)))
    assert (found.row, found.column) == (2, "小学县级以上骨干教师数")
    assert found.message == "第 2 行「小学县级以上骨干教师数」：应为非负整数，实际为「2.5」（人数、间数等须为整数）。"


def test_duplicate_school_name(fmt, tmp_path):
    found = only(problems(write(tmp_path, [school("城关小学"), school("二小"), school(" 城关小学 ")], fmt)))
    assert (found.row, found.column) == (4, "学校名称")
    assert found.message == "第 4 行「学校名称」：学校「城关小学」与第 2 行重复；每所学校只能填一行。"


def test_duplicate_school_code(fmt, tmp_path):
    rows = [school("一小", **{"学校标识码": "2143000001"}), school("二小", **{"学校标识码": "2143000001"}),
            school("三小", **{"学校标识码": None})]
    found = only(problems(write(tmp_path, rows, fmt)))
    assert (found.row, found.column) == (3, "学校标识码")
    assert found.message == "第 3 行「学校标识码」：学校标识码「2143000001」与第 2 行重复。"


def test_school_code_typed_as_a_number_stays_text(tmp_path):
    [record] = read_school_sheet(write(tmp_path, [school(**{"学校标识码": 2143000001})]))
    assert record.school_code == "2143000001"


def test_zero_students_in_a_stage_with_teachers(fmt, tmp_path):
    row = school("二中", "九年一贯制", **{"初中在校生数": 0, "初中高于规定学历教师数": 12, "初中县级以上骨干教师数": 0,
                                        "初中体育艺术专任教师数": 2})
    found = only(problems(write(tmp_path, [row], fmt)))
    assert (found.row, found.column) == (2, "初中在校生数")
    assert found.message == ("第 2 行「初中在校生数」：为 0，但填写了初中教师或班级（「初中高于规定学历教师数」12、"
                             "「初中体育艺术专任教师数」2）；请核对在校生数。")


def test_school_without_any_students(tmp_path):
    row = school(**{h: 0 for h in STAGE_HEADERS["primary"]})
    found = only(problems(write(tmp_path, [row])))
    assert (found.row, found.column) == (2, "小学在校生数")
    assert "学校在校生数合计为 0" in found.message


def test_students_in_a_stage_the_school_type_lacks(fmt, tmp_path):
    row = school("城关小学", "小学", **{"初中在校生数": 45, "高中在校生数": 0})
    found = only(problems(write(tmp_path, [row], fmt)))
    assert (found.row, found.column) == (2, "初中在校生数")
    assert found.message == "第 2 行「初中在校生数」：学校类型为「小学」，没有初中学段，本列应为空或 0，实际为「45」。"


def test_teachers_in_a_stage_the_school_type_lacks(tmp_path):
    row = school("一中", "初中", **{"小学体育艺术专任教师数": 3, "小学班级数": 2})
    found = problems(write(tmp_path, [row]))
    assert [(p.row, p.column) for p in found] == [(2, "小学体育艺术专任教师数"), (2, "小学班级数")]


def test_indoor_sports_area_larger_than_the_teaching_area(fmt, tmp_path):
    # indicator 4 is (teaching area − indoor sports area) ÷ pupils: this row would make it negative
    rows = [school("一小"), school("二小", **{"教学及辅助用房面积": 3200, "室内体育用房面积": 3600.5})]
    found = only(problems(write(tmp_path, rows, fmt)))
    assert (found.row, found.column) == (3, "室内体育用房面积")
    assert found.message == ("第 3 行「室内体育用房面积」：3600.5 m² 大于「教学及辅助用房面积」3200 m²；"
                             "室内体育用房包含在教学及辅助用房之内（计算指标 4 时要从中扣除），请核对这两列。")


def test_indoor_sports_area_equal_to_the_teaching_area_is_accepted(tmp_path):
    [record] = read_school_sheet(write(tmp_path, [school(**{"教学及辅助用房面积": 900, "室内体育用房面积": 900})]))
    assert record.teaching_area == record.indoor_sports_area == 900


def test_required_figure_left_blank_for_a_stage_the_school_has(fmt, tmp_path):
    found = only(problems(write(tmp_path, [school(**{"小学县级以上骨干教师数": None})], fmt)))
    assert found.message == "第 2 行「小学县级以上骨干教师数」：不能为空（没有请填 0）。"


def test_invalid_choice_bool_share_and_year(tmp_path):
    row = school(**{"城乡类别": "农村", "办学性质": "公立", "是否农村小规模学校": "可能", "随迁子女占比": 150,
                    "建校年份": 98})
    found = problems(write(tmp_path, [row]))
    # in the sheet's column order
    assert [p.column for p in found] == ["城乡类别", "办学性质", "是否农村小规模学校", "随迁子女占比", "建校年份"]
    assert found[0].message == "第 2 行「城乡类别」：不是可选的值：「农村」，应为 城区、镇区、乡村 之一。"
    assert "应填 是 或 否" in found[2].message
    assert "应为 0 到 100% 之间的比例，实际为「150」" in found[3].message
    assert "应为四位年份（1800–2100），实际为「98」" in found[4].message


def test_contact_email_as_a_chinese_input_method_types_it(tmp_path):
    rows = [school("甲小学", **{"联系邮箱": " wang＠jia.example．cn "}), school("乙小学", **{"联系邮箱": None})]
    first, second = read_school_sheet(write(tmp_path, rows))
    assert first.contact_email == "wang@jia.example.cn"
    assert second.contact_email is None  # blank: no address given, not an empty one


@pytest.mark.parametrize("typed", ["wangjia.cn", "wang@jia", "wang@jia.c", "王老师@jia.cn", "a@jia.cn；b@jia.cn", 12345])
def test_bad_contact_email_names_its_row_and_column(fmt, tmp_path, typed):
    rows = [school("甲小学", **{"联系邮箱": "wang@jia.example.cn"}), school("乙小学", **{"联系人": "李华", "联系邮箱": typed})]
    found = only(problems(write(tmp_path, rows, fmt)))
    assert (found.row, found.column) == (3, "联系邮箱")
    assert found.message == f"第 3 行「联系邮箱」：邮箱格式不正确：「{typed}」，应填一个电子邮箱地址，如 xiaozhang@example.cn。"


def test_excel_error_value_in_a_cell(tmp_path):
    found = only(problems(write(tmp_path, [school(**{"教学仪器设备值（万元）": "#DIV/0!"})])))
    assert (found.row, found.column) == (2, "教学仪器设备值（万元）")
    assert found.message == "第 2 行「教学仪器设备值（万元）」：单元格是错误值「#DIV/0!」，请填写数值。"


def _with_cached_results(path: Path, results: dict[str, str]) -> None:
    """Give formulas the results Excel would have saved (openpyxl writes formulas without them)."""
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for formula, value in results.items():
        kind = ' t="e"' if value.startswith("#") else ""
        xml, count = re.subn(rf'<c r="([A-Z]+\d+)"><f>{re.escape(formula)}</f><v></v></c>',
                             rf'<c r="\1"{kind}><f>{formula}</f><v>{value}</v></c>', xml)
        assert count == 1, formula
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_formula_without_saved_result_is_rejected(tmp_path):
    path = write(tmp_path, [school(**{"体育运动场馆面积": "=3000+2200"})])
    found = only(problems(path))
    assert (found.row, found.column) == (2, "体育运动场馆面积")
    assert found.message == ("第 2 行「体育运动场馆面积」：是公式「=3000+2200」，但文件里没有保存计算结果；"
                             "请在 Excel 中打开并保存，或把公式粘贴为数值。")


def test_formula_with_saved_result_is_read_as_its_value(tmp_path):
    path = write(tmp_path, [school(**{"体育运动场馆面积": "=3000+2200"})])
    _with_cached_results(path, {"3000+2200": "5200"})
    [record] = read_school_sheet(path)
    assert record.sports_area == 5200


def test_formula_whose_result_is_an_error(tmp_path):
    path = write(tmp_path, [school(**{"教学仪器设备值（万元）": "=B2/0"})])
    _with_cached_results(path, {"B2/0": "#DIV/0!"})
    found = only(problems(path))
    assert found.message == "第 2 行「教学仪器设备值（万元）」：公式「=B2/0」的结果是错误值「#DIV/0!」，请改正公式或填写数值。"


def test_data_under_no_header(tmp_path):
    path = tmp_path / "stray.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(list(REQUIRED_HEADERS))
    ws.append([school()[h] for h in REQUIRED_HEADERS] + [None, "备注没写表头"])
    wb.save(path)
    found = only(problems(path))
    assert found.row == 2 and found.message == "第 2 行第 R 列有数据「备注没写表头」，但该列没有表头。"


def test_empty_files(tmp_path):
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_bytes(b"")
    assert only(problems(empty_csv)).message == "文件为空，没有任何内容。"
    empty_xlsx = tmp_path / "empty.xlsx"
    Workbook().save(empty_xlsx)
    assert only(problems(empty_xlsx)).message == "文件为空，没有任何内容。"


def test_header_without_schools(fmt, tmp_path):
    found = only(problems(write(tmp_path, [], fmt, headers=HEADERS)))
    assert found.row is None and found.message.startswith("没有学校数据")


def test_too_many_bytes(tmp_path, monkeypatch):
    path = write(tmp_path, [school()], "csv")
    monkeypatch.setattr(sheet_module, "MAX_BYTES", path.stat().st_size - 1)
    assert "文件过大" in only(problems(path)).message
    assert "文件过大" in only(problems(path.read_bytes(), "schools.csv")).message


def test_a_real_file_over_the_byte_limit(tmp_path):
    # no monkeypatching: a 21 MB CSV (a stray column of padding) is refused before it is parsed
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write(",".join(REQUIRED_HEADERS) + ",备注\n")
        f.write("一小,小学" + "," * (len(REQUIRED_HEADERS) - 1) + "x" * (21 * 1024 * 1024) + "\n")
    found = only(problems(path))
    assert found.row is None
    assert found.message.startswith("文件过大（21.0 MB），上限为 20 MB")


def test_xlsx_that_unpacks_too_large_is_refused_before_parsing(tmp_path, monkeypatch):
    path = write(tmp_path, [school()])
    with zipfile.ZipFile(path) as package:
        unpacked = sum(i.file_size for i in package.infolist())
    monkeypatch.setattr(sheet_module, "MAX_UNPACKED_BYTES", unpacked - 1)

    def no_parsing(*args, **kwargs):
        raise AssertionError("the workbook must not be parsed")

    monkeypatch.setattr("openpyxl.load_workbook", no_parsing)
    found = only(problems(path))
    assert found.row is None and found.message.startswith("Excel 文件解压后过大")
    monkeypatch.undo()  # the real limit: the same file reads
    assert read_school_sheet(path)[0].name == "城关小学"


def test_too_many_rows(fmt, tmp_path, monkeypatch):
    monkeypatch.setattr(sheet_module, "MAX_ROWS", 5)
    rows = [school(f"第{i}小学") for i in range(6)]
    assert only(problems(write(tmp_path, rows, fmt))).message.startswith("数据超过 5 行")
    assert len(read_school_sheet(write(tmp_path, rows[:5], fmt))) == 5


def test_gbk_csv_is_rejected_clearly(tmp_path):
    path = write(tmp_path, [school()], "csv", encoding="gbk")
    found = only(problems(path))
    assert found.row is None
    assert "不是 UTF-8 编码" in found.message and "GBK" in found.message and "CSV UTF-8" in found.message


def test_other_file_kinds_are_rejected_clearly(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0 not really")
    assert ".xls" in only(problems(xls)).message
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a zip")
    assert "无法读取 Excel 文件" in only(problems(broken)).message
    pdf = tmp_path / "schools.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert "不支持的文件类型「.pdf」" in only(problems(pdf)).message
    assert "找不到文件" in only(problems(tmp_path / "missing.xlsx")).message


# --- all problems at once -------------------------------------------------------------------


def test_all_problems_are_collected_before_raising(fmt, tmp_path):
    rows = [
        school("一小"),
        school("二小", **{"小学在校生数": "abc", "网络多媒体教室数": -1}),
        school("三小", **{"学校类型": "幼儿园"}),
        school("一小"),
        school("五中", "初中", **{"初中在校生数": 0}),
        school("六小", **{"初中在校生数": 30}),
    ]
    error = pytest.raises(SheetError, read_school_sheet, write(tmp_path, rows, fmt)).value
    assert [(p.row, p.column) for p in error.problems] == [
        (3, "小学在校生数"), (3, "网络多媒体教室数"), (4, "学校类型"), (5, "学校名称"), (6, "初中在校生数"),
        (7, "初中在校生数"),
    ]
    text = str(error)
    assert text.startswith(f"文件「schools.{fmt}」有 6 处问题，未导入任何数据：")
    assert all(p.message in text for p in error.problems)
    assert all(p.message.startswith(f"第 {p.row} 行「{p.column}」：") for p in error.problems)


def test_sheet_error_survives_pickling(tmp_path):
    error = pytest.raises(SheetError, read_school_sheet, write(tmp_path, [school(**{"小学在校生数": "x"})])).value
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error) and copy.filename == "schools.xlsx"


def test_long_problem_lists_are_kept_whole_but_printed_short(tmp_path):
    rows = [school(f"第{i}小学", **{"小学在校生数": "?"}) for i in range(80)]
    error = pytest.raises(SheetError, read_school_sheet, write(tmp_path, rows)).value
    assert len(error.problems) == 80
    assert "另有 30 处问题未列出" in str(error)


def test_every_contract_column_maps_to_a_record_attribute():
    fields = {f.name for f in dataclasses.fields(SchoolRecord)}
    assert {c.attribute for c in COLUMNS} == fields - {"row", "extra"}
    assert len({c.header for c in COLUMNS}) == len(COLUMNS)
