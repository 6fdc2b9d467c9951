"""Hostile and absurd sheets (issue 11): every figure has a plausible range, digits split by a
space are not one number, invisible characters are cleaned and line breaks in text refused, and
200 randomly corrupted sheets give only Chinese errors or clean imports — never a traceback."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re

import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from typer.testing import CliRunner

from junheng.cli import app
from tests.factories import HEADERS, make_school_rows, write_xlsx
from tests.tracker.schooldata.test_sheet import fmt, only, problems, school, write  # noqa: F401 (fmt: a fixture)
from tracker.assessment import assess
from tracker.assessment.report import to_json
from tracker.schooldata.columns import COLUMN_BY_ATTRIBUTE, COLUMNS, MAX_AREA, MAX_STUDENTS
from tracker.schooldata.sheet import SheetError, read_school_sheet
from tracker.standards import load_standard

NUMERIC = [c for c in COLUMNS if c.numeric]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_figure_has_a_plausible_range_in_the_contract():
    unbounded = [c.header for c in NUMERIC if c.maximum is None]
    assert unbounded == []
    assert COLUMN_BY_ATTRIBUTE["primary_students"].maximum == MAX_STUDENTS == 20_000
    assert COLUMN_BY_ATTRIBUTE["teaching_area"].maximum == MAX_AREA == 1_000_000


@pytest.mark.parametrize("column", [c for c in NUMERIC if c.kind != "share" and c.attribute != "year_built"],
                         ids=lambda c: c.attribute)
def test_a_figure_at_its_limit_is_read_and_one_beyond_is_refused(tmp_path, column):
    base = {"教学及辅助用房面积": MAX_AREA} if column.attribute == "indoor_sports_area" else {}
    at_limit = school("实验学校", "十二年一贯制", **{**base, column.header: column.maximum})
    [record] = read_school_sheet(write(tmp_path, [at_limit]))
    assert getattr(record, column.attribute) == column.maximum
    beyond = school("实验学校", "十二年一贯制", **{**base, column.header: column.maximum + 1})
    found = only(problems(write(tmp_path, [beyond])))
    assert (found.row, found.column) == (2, column.header)
    assert found.message.startswith(f"第 2 行「{column.header}」：超出合理范围（0 至 ")
    assert "请核对是否多写了位数或填错了单位" in found.message


def test_the_absurd_figures_of_the_report_are_refused_with_row_and_column(fmt, tmp_path):
    rows = [school("甲小学", **{"小学在校生数": 2**63}), school("乙小学", **{"教学及辅助用房面积": 1e20}),
            school("丙小学", **{"教学仪器设备值（万元）": 1e308}), school("丁小学", **{"体育运动场馆面积": "1e400"}),
            school("戊小学", **{"网络多媒体教室数": 10**30})]
    found = problems(write(tmp_path, rows, fmt))
    assert [(p.row, p.column) for p in found] == [
        (2, "小学在校生数"), (3, "教学及辅助用房面积"), (4, "教学仪器设备值（万元）"), (5, "体育运动场馆面积"),
        (6, "网络多媒体教室数")]
    assert found[0].message.startswith("第 2 行「小学在校生数」：超出合理范围（0 至 20,000 人），实际为「9")
    assert "超出合理范围（0 至 1,000,000 m²）" in found[1].message
    assert "超出合理范围（0 至 100,000 万元）" in found[2].message
    assert all("超出合理范围" in p.message for p in found)


def test_assess_refuses_absurd_values_in_chinese_instead_of_crashing(tmp_path):
    """`junheng assess` crashed with decimal.InvalidOperation on 1e308 and 10^30 (issue 11)."""
    rows = make_school_rows(6, seed=3)
    rows[1]["教学及辅助用房面积"] = 1e308
    rows[2]["教学仪器设备值（万元）"] = 10**30
    sheet = write_xlsx(tmp_path / "absurd.xlsx", rows)
    result = CliRunner().invoke(app, ["assess", str(sheet), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 2, result.output
    assert "第 3 行「教学及辅助用房面积」：超出合理范围" in result.output
    assert "第 4 行「教学仪器设备值（万元）」：超出合理范围" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("typed", ["12 34", "1 200", "12\u300034", "1, 200", "12 .5", "1\u00a0000"])
def test_digits_split_by_a_space_are_not_one_number(fmt, tmp_path, typed):
    found = only(problems(write(tmp_path, [school(**{"体育运动场馆面积": typed})], fmt)))
    assert (found.row, found.column) == (2, "体育运动场馆面积")
    assert "数字中间有空格" in found.message


@pytest.mark.parametrize("typed", ["1_000", "0x10", "Infinity", "-nan", "1e", "1.2.3", "12,34"])
def test_number_syntax_people_do_not_write_is_refused(tmp_path, typed):
    found = only(problems(write(tmp_path, [school(**{"体育运动场馆面积": typed})], "csv")))
    assert found.message == f"第 2 行「体育运动场馆面积」：应为非负数，实际为「{typed}」。"


@pytest.mark.parametrize(("typed", "value"), [(" 5200 ", 5200), ("5,200", 5200), ("５２００", 5200), ("5.2e3", 5200),
                                              ("\ufeff5200", 5200), ("52\u200b00", 5200), ("5200\n", 5200)])
def test_numbers_people_do_write_still_read(tmp_path, typed, value):
    [record] = read_school_sheet(write(tmp_path, [school(**{"体育运动场馆面积": typed})], "csv"))
    assert record.sports_area == value


def test_invisible_characters_are_cleaned_from_every_cell(fmt, tmp_path):
    rows = [school("\ufeff城关\u200b小学\u200d", **{"学校类型": "小学\u2060", "所在乡镇": "\u202e城关镇\u202c",
                                                "联系人": "王\u00ad老师", "学校标识码": "\u200b2143000001",
                                                "城乡类别": "\u200b"}),
            school("二小\n", **{"所在乡镇": "\t河口镇 "})]
    first, second = read_school_sheet(write(tmp_path, rows, fmt))
    assert (first.name, first.school_type, first.township, first.contact_name, first.school_code) == (
        "城关小学", "小学", "城关镇", "王老师", "2143000001")
    assert first.urban_rural is None  # only an invisible character: blank
    assert (second.name, second.township) == ("二小", "河口镇")


def test_a_name_differing_only_by_invisible_characters_is_a_duplicate(tmp_path):
    found = only(problems(write(tmp_path, [school("城关小学"), school("城关\u200b小学")])))
    assert (found.row, found.column) == (3, "学校名称") and "与第 2 行重复" in found.message


def test_invisible_characters_in_a_header_are_ignored(tmp_path):
    row = school()
    row["\ufeff学校名称\u200b"] = row.pop("学校名称")
    path = write_xlsx(tmp_path / "h.xlsx", [row])
    [record] = read_school_sheet(path)
    assert record.name == "城关小学"


@pytest.mark.parametrize("typed", ["第一小学\n第二小学", "城关\r\n小学", "城关\u2028小学"])
def test_a_line_break_inside_a_text_cell_is_refused(fmt, tmp_path, typed):
    found = only(problems(write(tmp_path, [school(typed)], fmt)))
    assert (found.row, found.column) == (2, "学校名称")
    assert "单元格内有换行" in found.message and "请写成一行" in found.message and "⏎" in found.message


def test_a_control_character_in_a_text_cell_is_refused(tmp_path):
    found = only(problems(write(tmp_path, [school(**{"所在乡镇": "城关\x07镇"})], "csv")))
    assert (found.row, found.column) == (2, "所在乡镇") and "控制字符（U+0007）" in found.message


# ---------------------------------------------------------------------------------------------
# fuzz: 200 corrupted sheets


HOSTILE_VALUES: list[object] = [
    1e308, -1, 2**63, 10**30, 1e20, 0.5, -0.0, 20_001, 1_000_001, 99_999_999, "12 34", "1 200", "１２３", "1,2,3",
    "\u200b", "\ufeff100", "1\u200b2", "第一\n小学", "=1/0", "=SUM(A1:A9)", "#REF!", "#DIV/0!", "NaN", "nan", "inf",
    "-inf", "1e400", "0x1A", "1_000", "", " ", "\u3000", "😀", "约300", "300人", "35%", "150%", "A" * 3000,
    "=HYPERLINK(\"http://x\",\"y\")", "\u202e小学", True, False, dt.date(2024, 6, 1), dt.datetime(2024, 6, 1, 8),
    "是", "否", "大学", "小学", "初中", "九年一贯制", "特殊教育学校", "wang@@x", "a@b.cn", "\x07", "\t", "1e-300",
    "00012", "+5", "--5", ".5", "5.", "１,０００", "12,34", "0,5", "1.5e3", "1E+05",
]


def _xlsx_bytes(grid: list[list[object]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(random.Random(len(grid)).choice(["学校", "Sheet1", " 学校 "]))
    for row in grid:  # control characters Excel cannot store reach the reader through CSV only
        ws.append([ILLEGAL_CHARACTERS_RE.sub("?", v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv_bytes(grid: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["" if v is None else v for v in row] for row in grid])
    return out.getvalue().encode("utf-8")


def _put(row: list[object], col: int, value: object) -> None:
    row.extend([None] * (col + 1 - len(row)))
    row[col] = value


def _at(row: list[object], col: int) -> object:
    return row[col] if col < len(row) else None


def _corrupt(rng: random.Random, grid: list[list[object]]) -> list[list[object]]:
    for _ in range(rng.randint(1, 5)):
        move = rng.randrange(9)
        row = rng.randrange(1, len(grid)) if len(grid) > 1 else 0
        col = rng.randrange(len(grid[0]))
        if move <= 3:  # a hostile value in a random cell
            _put(grid[row], col, rng.choice(HOSTILE_VALUES))
        elif move == 4:  # a header renamed, duplicated or dropped
            _put(grid[0], col, rng.choice([None, "学校名称", _at(grid[0], rng.randrange(len(grid[0]))),
                                           "\ufeff" + str(_at(grid[0], col)), str(_at(grid[0], col)) + "\n（必填）",
                                           "未知列"]))
        elif move == 5:  # two columns swapped, headers kept
            other = rng.randrange(len(grid[0]))
            for r in grid[1:]:
                first, second = _at(r, col), _at(r, other)
                _put(r, col, second)
                _put(r, other, first)
        elif move == 6:  # a row duplicated, or cut short, or grown past the header
            choice = rng.randrange(3)
            if choice == 0:
                grid.append(list(grid[row]))
            elif choice == 1:
                grid[row] = grid[row][: rng.randrange(len(grid[row]) + 1)]
            else:
                grid[row] = grid[row] + [rng.choice(HOSTILE_VALUES) for _ in range(rng.randint(1, 3))]
        elif move == 7:  # title rows above the header, or the header gone
            if rng.random() < 0.5:
                grid.insert(0, ["某某县学校基本情况表"] + [None] * (len(grid[0]) - 1))
            else:
                grid.pop(0)
                if not grid:
                    grid.append(["学校名称"])
        else:  # every row's cell in a column hostile
            value = rng.choice(HOSTILE_VALUES)
            for r in grid[1:]:
                _put(r, col, value)
    return grid


def _damage(rng: random.Random, data: bytes) -> bytes:
    """Byte-level damage for some sheets: cut short, or random bytes flipped."""
    if rng.random() < 0.5:
        return data[: rng.randrange(1, len(data))]
    raw = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return bytes(raw)


def test_two_hundred_corrupted_sheets_give_chinese_errors_or_clean_imports():
    rng = random.Random(20261207)
    standard = load_standard("national-2017")
    imported = refused = 0
    for case in range(200):
        rows = make_school_rows(rng.randint(3, 12), seed=case)
        grid = [list(HEADERS)] + [[r.get(h) for h in HEADERS] for r in rows]
        grid = _corrupt(rng, grid)
        suffix = rng.choice(["xlsx", "csv"])
        data = _xlsx_bytes(grid) if suffix == "xlsx" else _csv_bytes(grid)
        if rng.random() < 0.15:
            data = _damage(rng, data)
        try:
            records = read_school_sheet(data, f"第{case}份.{suffix}")
        except SheetError as exc:
            refused += 1
            assert exc.problems, case
            for p in exc.problems:
                assert CJK.search(p.message), (case, p.message)
                if p.row is not None:
                    assert p.message.startswith(f"第 {p.row} 行"), (case, p.message)
            assert "Traceback" not in str(exc)
            continue
        imported += 1
        for record in records:
            for column in NUMERIC:
                value = getattr(record, column.attribute)
                assert value is None or column.minimum <= value <= column.maximum, (case, column.header, value)
            for column in (c for c in COLUMNS if c.kind == "text"):
                value = getattr(record, column.attribute)
                assert value is None or (value == value.strip() and "\n" not in value
                                         and "\u200b" not in value and "\ufeff" not in value), (case, value)
        result = assess(standard, records, as_of=dt.date(2024, 6, 1))  # the assessment never crashes on them
        json.dumps(to_json(result), allow_nan=False)
    assert imported > 10 and refused > 100, (imported, refused)  # both paths really exercised
