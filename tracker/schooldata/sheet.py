"""Reading and validating a county's school sheet (.xlsx or UTF-8 .csv), one row per school.

``read_school_sheet`` either returns every school as a ``SchoolRecord`` or raises
``SheetError`` listing *all* the problems found, each naming its row and column in Chinese,
so a county office fixes the sheet in one go. It reads and checks only; storing a
submission is the caller's job, and nothing should be stored when this raises.

The header row is row 1 (title rows above a header that contains 学校名称 are skipped).
The columns are the contract in tracker.schooldata.columns; other columns are kept in
``SchoolRecord.extra``.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tracker.schooldata.columns import (
    COLUMN_BY_HEADER,
    COLUMNS,
    SCHOOL_TYPE_STAGES,
    Column,
    column_for_header,
    normalize_header,
)
from tracker.schooldata.cells import CellError, Formula, blank, cell_value, show
from tracker.standards.records import SCHOOL_TYPES, SchoolRecord
from tracker.errors import ErrorDetail, JunhengError

MAX_BYTES = 20 * 1024 * 1024  # a county has a few hundred schools; 20 MB is far beyond any real sheet
# An .xlsx is a zip: a small file can unpack to gigabytes (a "zip bomb"). 20,000 full rows
# unpack to about 22 MB, so 100 MB is far beyond any real sheet and still bounds memory.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ROWS = 20_000  # data rows (non-empty) per sheet
MAX_SCANNED_ROWS = 100_000  # rows including empty ones, so a sheet of formatted blank rows stops early
HEADER_SEARCH_ROWS = 10  # title rows tolerated above the header
SHEET_NAME = "学校"
SHOWN_PROBLEMS = 50  # problems printed by str(SheetError); all are kept in .problems

# Columns whose blank means 0 for every school that has the stage would hide a forgotten
# figure; blank is accepted only where the type lacks the stage, and for special-education
# schools, which the assessment leaves out.
_BLANK_ALWAYS_ZERO_TYPES = frozenset({"特殊教育学校"})
_STAGE_NAMES = {"primary": "小学", "junior": "初中", "senior": "高中", "kindergarten": "幼儿班"}


@dataclass(frozen=True, slots=True)
class SheetProblem:
    """One problem in a sheet. ``message`` is the full Chinese sentence shown to users."""

    row: int | None  # 1-based sheet row; None for a problem with the file as a whole
    column: str | None  # the contract header (or the sheet's own header for extra columns)
    message: str

    def __str__(self) -> str:
        return self.message


class SheetError(JunhengError, ValueError):
    """The sheet cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, filename: str, problems: list[SheetProblem]) -> None:
        self.filename = filename
        self.problems = problems
        super().__init__(str(self), summary=f"文件「{filename}」有 {len(problems)} 处问题，未导入任何数据",
                         details=[ErrorDetail(p.message, row=p.row, column=p.column) for p in problems])

    def __reduce__(self):  # noqa: ANN204 - keeps the problems when pickled (flows, worker processes)
        return (SheetError, (self.filename, self.problems))

    def __str__(self) -> str:
        lines = [f"文件「{self.filename}」有 {len(self.problems)} 处问题，未导入任何数据："]
        lines += [p.message for p in self.problems[:SHOWN_PROBLEMS]]
        if len(self.problems) > SHOWN_PROBLEMS:
            lines.append(f"……另有 {len(self.problems) - SHOWN_PROBLEMS} 处问题未列出。")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# entry point


def read_school_sheet(source: str | Path | bytes, filename: str | None = None) -> list[SchoolRecord]:
    """Read and validate a school sheet; return one record per school, in sheet order.

    ``source`` is a path or the file's bytes (an upload); ``filename`` names the file in
    messages and, by its suffix, selects .xlsx or .csv (bytes without a name are sniffed).
    Raises ``SheetError`` with every problem found.
    """
    data, filename = _load_bytes(source, filename)
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm") or (not suffix and data[:2] == b"PK"):
        grid = _xlsx_grid(data, filename)
    elif suffix in (".csv", ".txt") or not suffix:
        grid = _csv_grid(data, filename)
    elif suffix == ".xls":
        raise _file_error(filename, "不支持 Excel 97-2003（.xls）格式，请在 Excel 中另存为 .xlsx 后再导入。")
    else:
        raise _file_error(filename, f"不支持的文件类型「{suffix}」，请使用 .xlsx 或 UTF-8 编码的 .csv 文件。")
    return _validate(grid, filename)


def _file_error(filename: str, message: str) -> SheetError:
    return SheetError(filename, [SheetProblem(None, None, message)])


def _load_bytes(source: str | Path | bytes, filename: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        filename = filename or "上传的文件"
    else:
        path = Path(source)
        filename = filename or path.name
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise _file_error(filename, _too_large_bytes(size))
            data = path.read_bytes()
        except FileNotFoundError:
            raise _file_error(filename, f"找不到文件：{path}") from None
        except IsADirectoryError:
            raise _file_error(filename, f"这是一个目录，不是文件：{path}") from None
        except PermissionError:
            raise _file_error(filename, f"没有权限读取文件：{path}") from None
    if len(data) > MAX_BYTES:
        raise _file_error(filename, _too_large_bytes(len(data)))
    if not data.strip():
        raise _file_error(filename, "文件为空，没有任何内容。")
    return data, filename


def _too_large_bytes(size: int) -> str:
    return (f"文件过大（{size / 1024 / 1024:.1f} MB），上限为 {MAX_BYTES // 1024 // 1024} MB；"
            "请检查是否误选了其他文件，或删除多余的工作表和图片。")


# ---------------------------------------------------------------------------------------
# files → grid of (row number, cell values)

Grid = list[tuple[int, list[object]]]


def _xlsx_grid(data: bytes, filename: str) -> Grid:
    """Cell values of the 学校 sheet (or the first), with formulas replaced by their results."""
    from openpyxl import load_workbook  # imported here: csv-only callers need not pay for it

    _check_unpacked_size(data, filename)
    formulas: dict[tuple[int, int], str] = {}
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            ws, title = _school_worksheet(wb)
            ws.reset_dimensions()  # some writers store a wrong <dimension>; read what is there
            grid = _rows_with_limits((list(r) for r in ws.iter_rows(values_only=True)), filename)
        finally:
            wb.close()
        for number, values in grid:
            for col, value in enumerate(values):
                if isinstance(value, str) and value.startswith("="):
                    formulas[(number, col)] = value
        if formulas:
            # A formula is fine when Excel saved its result; the cached values are in a second
            # view of the same file.
            last = max(row for row, _ in formulas)
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                cached_ws = wb[title]
                cached_ws.reset_dimensions()
                cached = dict(enumerate(cached_ws.iter_rows(max_row=last, values_only=True), start=1))
            finally:
                wb.close()
    except SheetError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError) as exc:
        # openpyxl raises a variety of these on damaged or non-Excel files
        raise _file_error(filename, f"无法读取 Excel 文件（文件损坏或不是 .xlsx 格式）：{exc}") from None
    except Exception as exc:  # e.g. lxml/ElementTree parse errors inside a damaged package
        raise _file_error(filename, f"无法读取 Excel 文件：{type(exc).__name__}: {exc}") from None

    if formulas:
        rows = dict(grid)
        for (number, col), formula in formulas.items():
            row = cached.get(number, ())
            value = row[col] if col < len(row) else None
            rows[number][col] = Formula(formula, value)
    return grid


def _check_unpacked_size(data: bytes, filename: str) -> None:
    """Refuse an .xlsx whose parts unpack to more than MAX_UNPACKED_BYTES, before parsing it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip at all: openpyxl reports it as a damaged file below
    if unpacked > MAX_UNPACKED_BYTES:
        raise _file_error(filename, (
            f"Excel 文件解压后过大（{unpacked / 1024 / 1024:.0f} MB），上限为 {MAX_UNPACKED_BYTES // 1024 // 1024} MB；"
            "一个县的学校数据不会这么大，请检查是否误选了其他文件，或删除多余的工作表、图片和格式。"))


def _school_worksheet(wb):  # noqa: ANN001, ANN202 - openpyxl types
    for name in wb.sheetnames:
        if name.strip() == SHEET_NAME:
            return wb[name], name
    first = wb.worksheets[0]
    return first, first.title


def _csv_grid(data: bytes, filename: str) -> Grid:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error(filename, "文件是 UTF-16 编码（Excel「Unicode 文本」），请另存为「CSV UTF-8（逗号分隔）」或 .xlsx。")
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = "，看起来是 GBK/GB18030 编码（Excel 中「CSV（逗号分隔）」的默认编码）"
        except UnicodeDecodeError:
            pass
        raise _file_error(
            filename,
            f"文件不是 UTF-8 编码（第 {line} 行起无法按 UTF-8 读取{hint}）。"
            "请在 Excel 中「另存为」→「CSV UTF-8（逗号分隔）」，或直接使用 .xlsx 文件。",
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _file_error(filename, f"CSV 格式有误，无法读取：{exc}") from None
    return _rows_with_limits(rows, filename)


def _rows_with_limits(rows: Iterable[list[object]], filename: str) -> Grid:
    """Number the rows (1-based), drop empty ones, and stop at the size limits."""
    grid: Grid = []
    for number, values in enumerate(rows, start=1):
        if number > MAX_SCANNED_ROWS:
            raise _file_error(filename, f"工作表超过 {MAX_SCANNED_ROWS} 行（含空行），请删除多余的行后再导入。")
        if all(blank(v) for v in values):
            continue
        grid.append((number, values))
        if len(grid) > MAX_ROWS + 1:  # + the header
            raise _file_error(filename, f"数据超过 {MAX_ROWS} 行（每所学校一行），请检查文件；一个县的学校数据不会这么多。")
    return grid


# ---------------------------------------------------------------------------------------
# grid → records


@dataclass(frozen=True, slots=True)
class _SheetColumn:
    index: int
    header: str  # as shown in messages: the contract header, or the sheet's own text
    column: Column | None  # None for an extra column


def _validate(grid: Grid, filename: str) -> list[SchoolRecord]:
    if not grid:
        raise _file_error(filename, "文件为空，没有任何内容。")
    header_at = _header_position(grid)
    header_row, header_values = grid[header_at]
    problems: list[SheetProblem] = []
    columns = _read_header(header_row, header_values, problems)
    present = {c.column.header for c in columns if c.column}
    if "学校名称" not in present or "学校类型" not in present:
        # without name and type no row can be checked meaningfully
        raise SheetError(filename, problems)

    data_rows = grid[header_at + 1:]
    if not data_rows:
        problems.append(SheetProblem(None, None, f"没有学校数据：表头（第 {header_row} 行）下面没有任何学校，请每所学校填一行。"))
        raise SheetError(filename, problems)

    width = len(header_values)
    records: list[SchoolRecord] = []
    names: dict[str, int] = {}
    codes: dict[str, int] = {}
    for number, values in data_rows:
        for index in range(width, len(values)):
            if not blank(values[index]):
                problems.append(SheetProblem(number, None, f"第 {number} 行第 {_column_letter(index)} 列有数据「{show(values[index])}」，但该列没有表头。"))
        record = _read_row(number, values, columns, present, problems, names, codes)
        if record is not None:
            records.append(record)
    if problems:
        raise SheetError(filename, problems)
    return records


def _header_position(grid: Grid) -> int:
    for position, (_, values) in enumerate(grid[:HEADER_SEARCH_ROWS]):
        if any(normalize_header(v) == "学校名称" for v in values):
            return position
    return 0


def _read_header(row: int, values: list[object], problems: list[SheetProblem]) -> list[_SheetColumn]:
    columns: list[_SheetColumn] = []
    seen: dict[str, int] = {}
    extras: list[str] = []
    for index, value in enumerate(values):
        if blank(value):
            continue
        column = column_for_header(value)
        shown = column.header if column else re.sub(r"\s+", "", str(value))
        key = normalize_header(value)
        if key in seen:
            problems.append(SheetProblem(row, shown, (
                f"第 {row} 行（表头）「{shown}」：第 {_column_letter(index)} 列与第 "
                f"{_column_letter(seen[key])} 列重复，请删除其中一列。")))
            continue
        seen[key] = index
        if column is None:
            extras.append(shown)
        columns.append(_SheetColumn(index, shown, column))
    present = {c.column.header for c in columns if c.column}
    for column in COLUMNS:
        if column.required and column.header not in present:
            near = difflib.get_close_matches(normalize_header(column.header), extras, n=1, cutoff=0.6)
            hint = f"（表中有「{near[0]}」，是否写错了列名？）" if near else ""
            problems.append(SheetProblem(row, column.header, f"第 {row} 行（表头）：缺少必填列「{column.header}」{hint}。"))
    return columns


def _read_row(
    number: int,
    values: list[object],
    columns: list[_SheetColumn],
    present: set[str],
    problems: list[SheetProblem],
    names: dict[str, int],
    codes: dict[str, int],
) -> SchoolRecord | None:
    """Check one school row; append its problems and return the record when it has none."""
    before = len(problems)

    def problem(header: str, text: str) -> None:
        problems.append(SheetProblem(number, header, f"第 {number} 行「{header}」：{text}"))

    cells = {c.column.header: values[c.index] if c.index < len(values) else None for c in columns if c.column}
    school_type = _school_type(cells["学校类型"], lambda text: problem("学校类型", text))
    stages = SCHOOL_TYPE_STAGES.get(school_type or "", ())
    parsed: dict[str, object] = {}
    for sheet_column in columns:
        column = sheet_column.column
        if column is None or column.header == "学校类型":
            continue
        raw = cells[column.header]
        applies = school_type is None or school_type in column.school_types
        try:
            value = cell_value(raw, column)
        except CellError as exc:
            problem(column.header, str(exc))
            continue
        if value is None:
            if column.header == "学校名称":
                problem(column.header, "不能为空。")
                continue
            if column.required and school_type is not None and applies and school_type not in _BLANK_ALWAYS_ZERO_TYPES:
                problem(column.header, "不能为空（没有请填 0）。")
                continue
            value = 0.0 if column.required or column.attribute == "kindergarten_students" else None
        elif not applies and column.numeric and value != 0:
            stage = _STAGE_NAMES.get(column.stage or "", "")
            problem(column.header, (
                f"学校类型为「{school_type}」，没有{stage}学段，本列应为空或 0，实际为「{show(raw)}」。"))
            continue
        parsed[column.attribute] = value

    if school_type is not None:
        _check_stages(school_type, stages, parsed, problem)
    _check_areas(parsed, problem)

    name = parsed.get("name")
    if isinstance(name, str):
        key = unicodedata.normalize("NFKC", re.sub(r"\s+", "", name))
        if key in names:
            problem("学校名称", f"学校「{name}」与第 {names[key]} 行重复；每所学校只能填一行。")
        else:
            names[key] = number
    code = parsed.get("school_code")
    if isinstance(code, str):
        if code in codes:
            problem("学校标识码", f"学校标识码「{code}」与第 {codes[code]} 行重复。")
        else:
            codes[code] = number

    if len(problems) > before or school_type is None:
        return None
    extra = {c.header: values[c.index] if c.index < len(values) else None for c in columns if c.column is None}
    if "year_built" in parsed and parsed["year_built"] is not None:
        parsed["year_built"] = int(parsed["year_built"])  # type: ignore[call-overload]
    return SchoolRecord(row=number, school_type=school_type, extra=extra, **parsed)  # type: ignore[arg-type]


def _school_type(raw: object, problem: Callable[[str], None]) -> str | None:
    try:
        value = cell_value(raw, COLUMN_BY_HEADER["学校类型"])
    except CellError as exc:
        problem(str(exc))
        return None
    if value is None:
        problem("不能为空，应为 " + "、".join(SCHOOL_TYPES) + " 之一。")
        return None
    return str(value)


def _check_stages(
    school_type: str, stages: tuple[str, ...], parsed: dict[str, object], problem: Callable[[str, str], None]
) -> None:
    """Students = 0 in a stage that has teachers or classes; a school with no students at all."""
    flagged = False
    for stage in ("primary", "junior"):
        if stage not in stages:
            continue
        students = parsed.get(f"{stage}_students")
        if students != 0:
            continue
        staffed = [
            f"「{c.header}」{show(parsed[c.attribute])}"
            for c in COLUMNS
            if c.stage == stage and c.attribute != f"{stage}_students"
            and c.attribute.endswith(("teachers", "classes")) and (parsed.get(c.attribute) or 0) > 0
        ]
        if staffed:
            flagged = True
            name = _STAGE_NAMES[stage]
            problem(f"{name}在校生数", f"为 0，但填写了{name}教师或班级（{'、'.join(staffed)}）；请核对在校生数。")
    if flagged or school_type in _BLANK_ALWAYS_ZERO_TYPES:
        return
    student_columns = [f"{s}_students" for s in stages]
    counts = [parsed.get(a) for a in student_columns]
    if all(c == 0 for c in counts):  # None means that cell already has a problem
        first = f"{_STAGE_NAMES[stages[0]]}在校生数"
        problem(first, "学校在校生数合计为 0；请填写在校生数，已撤并的学校请删除该行。")


def _check_areas(parsed: dict[str, object], problem: Callable[[str, str], None]) -> None:
    """The indoor sports area is part of the teaching and auxiliary area (indicator 4 subtracts
    it), so it cannot be larger: that row would give a negative indicator 4 and skew its CV."""
    indoor, teaching = parsed.get("indoor_sports_area"), parsed.get("teaching_area")
    if isinstance(indoor, float) and isinstance(teaching, float) and indoor > teaching:
        problem("室内体育用房面积", (
            f"{show(indoor)} m² 大于「教学及辅助用房面积」{show(teaching)} m²；室内体育用房包含在教学及辅助用房之内"
            "（计算指标 4 时要从中扣除），请核对这两列。"))


def _column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


__all__ = ["MAX_BYTES", "MAX_ROWS", "MAX_UNPACKED_BYTES", "SheetError", "SheetProblem", "read_school_sheet"]

