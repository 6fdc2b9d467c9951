"""write_template: the sheet users fill in, and that it reads back through read_school_sheet."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.factories import make_school_rows, write_xlsx
from tracker.schooldata.columns import COLUMNS, OPTIONAL_HEADERS, REQUIRED_HEADERS
from tracker.standards.records import SCHOOL_TYPES
from tracker.schooldata.sheet import MAX_ROWS, SheetError, read_school_sheet
from tracker.schooldata.template import GENERAL_NOTES, write_template


@pytest.fixture
def template(tmp_path):
    return write_template(tmp_path / "schools.xlsx")


def _validations(ws) -> dict[str, object]:
    """Column letter → the data validation covering rows 2.. of that column."""
    found = {}
    for validation in ws.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            assert cell_range.min_row == 2 and cell_range.max_row == MAX_ROWS + 1
            assert cell_range.min_col == cell_range.max_col
            found[cell_range.coord.split(":")[0].rstrip("0123456789")] = validation
    return found


def test_school_sheet_has_the_contract_headers_styled(template):
    wb = load_workbook(template)
    assert wb.sheetnames == ["学校", "填报说明"]
    ws = wb["学校"]
    headers = [c.value for c in ws[1]]
    assert headers == [c.header for c in COLUMNS]
    assert headers[: len(REQUIRED_HEADERS)] == list(REQUIRED_HEADERS)
    required_fill = ws.cell(1, 1).fill.fgColor.rgb
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(1, index)
        assert (cell.fill.fgColor.rgb == required_fill) is column.required, column.header
        assert cell.comment.text.startswith("必填" if column.required else "选填")
        assert column.help in cell.comment.text
        assert 10 <= ws.column_dimensions[cell.column_letter].width <= 28
    assert ws.freeze_panes == "C2"
    assert ws.max_row == 1  # no sample rows that could be imported by mistake


def test_dropdowns_and_number_validation(template):
    ws = load_workbook(template)["学校"]
    validations = _validations(ws)
    letter = {c.header: ws.cell(1, i).column_letter for i, c in enumerate(COLUMNS, start=1)}
    lists = {
        "学校类型": SCHOOL_TYPES,
        "城乡类别": ("城区", "镇区", "乡村"),
        "办学性质": ("公办", "民办"),
        "是否农村小规模学校": ("是", "否"),
    }
    for header, choices in lists.items():
        validation = validations[letter[header]]
        assert validation.type == "list"
        assert validation.formula1 == '"' + ",".join(choices) + '"'
    for column in COLUMNS:
        validation = validations.get(letter[column.header])
        if column.kind in ("text", "email"):  # an address is checked on import, not by Excel
            assert validation is None, column.header
            continue
        assert validation.showErrorMessage and validation.error and validation.allow_blank
        # every figure has its plausible range (issue 11), the same Excel checks as the reader
        if column.kind == "int" and column.header != "建校年份":
            assert (validation.type, validation.operator, validation.formula1, validation.formula2) == (
                "whole", "between", "0", f"{column.maximum:.0f}")
        elif column.kind == "number":
            assert (validation.type, validation.operator, validation.formula1, validation.formula2) == (
                "decimal", "between", "0", f"{column.maximum:.0f}")
    year = validations[letter["建校年份"]]
    assert (year.type, year.operator, year.formula1, year.formula2) == ("whole", "between", "1800", "2100")
    share = validations[letter["随迁子女占比"]]
    assert (share.type, share.formula1, share.formula2) == ("decimal", "0", "100")


def test_instructions_sheet_explains_every_column_and_the_rules(template):
    ws = load_workbook(template)["填报说明"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    by_header = {r[0]: r for r in rows if r[0] in {c.header for c in COLUMNS}}
    assert len(by_header) == len(COLUMNS)
    for column in COLUMNS:
        _, required, unit, applies, help_text = by_header[column.header]
        assert required == ("必填" if column.required else "选填")
        assert (unit or "") == column.unit
        assert help_text == column.help
    assert by_header["初中在校生数"][3] == "初中、九年一贯制、十二年一贯制、完全中学、特殊教育学校"
    assert by_header["学校名称"][3] == "全部"
    notes = " ".join(str(r[1]) for r in rows if r[1] and str(r[0]).rstrip(".").isdigit())
    assert notes == " ".join(GENERAL_NOTES)
    for rule in ("留空或填 0", "不足 50 人的教学点", "特殊教育学校", "九年一贯制", "只填一行", "1:1.1"):
        assert rule in notes, rule


def test_empty_template_reads_back_as_no_school_data(template):
    with pytest.raises(SheetError) as caught:
        read_school_sheet(template)
    [problem] = caught.value.problems
    assert problem.message.startswith("没有学校数据")


def test_filled_template_round_trips(template):
    rows = make_school_rows(40, seed=11)
    wb = load_workbook(template)
    ws = wb["学校"]
    headers = [c.value for c in ws[1]]
    for row in rows:
        ws.append([row.get(h) for h in headers])
    wb.save(template)

    records = read_school_sheet(template)
    assert [r.name for r in records] == [r["学校名称"] for r in rows]
    # the same rows written plainly give the same records: the template adds nothing a reader sees
    assert records == read_school_sheet(write_xlsx(template.with_name("plain.xlsx"), rows, headers=headers))
    assert {r.school_type for r in records} >= {"小学", "初中"}


def test_a_bad_value_in_the_filled_template_names_row_and_column(template):
    rows = make_school_rows(3, seed=2)
    rows[1]["网络多媒体教室数"] = "十二"
    wb = load_workbook(template)
    ws = wb["学校"]
    for row in rows:
        ws.append([row.get(c.value) for c in ws[1]])
    wb.save(template)
    with pytest.raises(SheetError) as caught:
        read_school_sheet(template)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (3, "网络多媒体教室数")


def test_optional_headers_are_all_in_the_template(template):
    headers = [c.value for c in load_workbook(template)["学校"][1]]
    assert headers[len(REQUIRED_HEADERS):] == list(OPTIONAL_HEADERS)
