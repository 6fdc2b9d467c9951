"""Findings as they arrive (反馈问题): read from the sheet the reviewers hand over (序号, 问题,
指标, 责任单位, 整改时限) or typed one by one, checked and named by row and column, not yet stored."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tracker.errors import ErrorDetail, JunhengError

# The findings sheet: contract header → spellings accepted.
FINDING_COLUMNS: dict[str, tuple[str, ...]] = {
    "序号": ("序号", "编号"),
    "问题": ("问题", "反馈问题", "问题描述", "存在问题"),
    "指标": ("指标", "指标编号", "对应指标"),
    "责任单位": ("责任单位", "整改责任单位", "牵头单位"),
    "整改时限": ("整改时限", "完成时限", "整改期限", "整改时间"),
}
REQUIRED_COLUMNS = ("序号", "问题", "责任单位", "整改时限")
FINDINGS_SHEET_NAME = "反馈问题"
HEADER_SEARCH_ROWS = 10
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(前|之前|以前)?\s*$")
_SPLIT_UNITS = re.compile(r"[、，,；;/\s]+")


class FindingsError(JunhengError, ValueError):
    """Findings that cannot be stored. ``problems`` name the row and column (Chinese)."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        summary = f"{source}有 {len(problems)} 处问题，未录入任何反馈问题"
        super().__init__(f"{summary}：\n" + "\n".join(problems), summary=summary,
                         details=[ErrorDetail(p) for p in problems])


class FindingInput(BaseModel):
    """One finding as read from a sheet or typed on the CLI (validated, not yet stored)."""

    model_config = ConfigDict(frozen=True)

    seq: int = Field(ge=1)
    text: str = Field(min_length=1)
    indicator: str | None = None
    units: list[str] = Field(min_length=1)  # the first leads; a unit or a school name
    due_on: dt.date
    row: int | None = None  # the sheet row it came from, for messages
    place: str | None = None  # or where else it came from (an API body's findings[0])

    def where(self) -> str:
        if self.row is not None:
            return f"第 {self.row} 行"
        return self.place or f"序号 {self.seq}"


def finding_from_fields(*, text: str, units: list[str] | str, due: str | dt.date, indicator: str | None = None,
                        seq: int, where: str = "") -> FindingInput:
    """One finding as typed (CLI, API): every problem named by its field, raised together as
    ``FindingsError``. ``units`` may be one text with several names separated by 、."""
    prefix = f"{where}" if where else ""
    problems: list[str] = []
    text = (text or "").strip()
    if not text:
        problems.append(f"{prefix}「问题」：不能为空")
    names = [units] if isinstance(units, str) else list(units)
    unit_names = [u for name in names for u in _SPLIT_UNITS.split(name or "") if u]
    if not unit_names:
        problems.append(f"{prefix}「责任单位」：不能为空")
    due_on = parse_date(due) if due else None
    if due_on is None:
        problems.append(f"{prefix}「整改时限」：「{due}」不是日期，应写作 2027-06-30" if due else f"{prefix}「整改时限」：不能为空")
    if seq < 1:
        problems.append(f"{prefix}「序号」：应为正整数")
    if problems:
        raise FindingsError("反馈问题", problems)
    assert due_on is not None
    indicator = (indicator or "").strip().removeprefix("指标").strip() or None
    return FindingInput(seq=seq, text=text, indicator=indicator, units=unit_names, due_on=due_on,
                        place=where or None)


def parse_date(value: object) -> dt.date | None:
    """A deadline cell: a date, or text like 2027-06-30, 2027年6月30日, 2027/6/30 (前)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DATE.match(value)
        if match:
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                return None
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _grid(path: Path) -> list[tuple[int, list[object]]]:
    suffix = path.suffix.lower()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FindingsError(f"文件「{path.name}」", [f"找不到文件：{path}"]) from None
    except OSError as exc:
        raise FindingsError(f"文件「{path.name}」", [f"无法读取文件：{exc}"]) from None
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on damaged files
            raise FindingsError(f"文件「{path.name}」", [f"无法读取 Excel 文件（文件损坏或不是 .xlsx 格式）：{exc}"]) from None
        try:
            ws = next((wb[n] for n in wb.sheetnames if n.strip() == FINDINGS_SHEET_NAME), wb.worksheets[0])
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
        finally:
            wb.close()
    elif suffix in (".csv", ".txt"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FindingsError(f"文件「{path.name}」", ["文件不是 UTF-8 编码：请在 Excel 中另存为「CSV UTF-8（逗号分隔）」或使用 .xlsx"]) from None
        rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    else:
        raise FindingsError(f"文件「{path.name}」", [f"不支持的文件类型「{suffix or '无扩展名'}」，请使用 .xlsx 或 UTF-8 编码的 .csv"])
    return [(n, r) for n, r in enumerate(rows, start=1) if any(_cell_text(v) for v in r)]


def read_findings_sheet(path: str | Path) -> list[FindingInput]:
    """Read a review's findings sheet (.xlsx, first sheet or one named 反馈问题, or UTF-8 .csv).

    Columns: 序号, 问题, 指标 (optional), 责任单位 (several separated by 、; the first leads),
    整改时限. Every problem is collected and raised together as ``FindingsError``, naming the
    row and column. Whether the units and indicators exist is checked by ``add_findings``.
    """
    path = Path(path)
    source = f"文件「{path.name}」"
    grid = _grid(path)
    if not grid:
        raise FindingsError(source, ["文件为空，没有任何反馈问题"])
    header_at = None
    positions: dict[str, int] = {}
    for number, values in grid[:HEADER_SEARCH_ROWS]:
        texts = [_cell_text(v).replace(" ", "") for v in values]
        found = {col: texts.index(s) for col, spellings in FINDING_COLUMNS.items() for s in spellings if s in texts}
        if "问题" in found:
            header_at, positions = number, found
            break
    if header_at is None:
        raise FindingsError(source, [f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（须有「问题」列）"])
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        raise FindingsError(source, [f"第 {header_at} 行表头缺少列：{'、'.join(missing)}"])

    problems: list[str] = []
    findings: list[FindingInput] = []
    seen: dict[int, int] = {}
    for number, values in grid:
        if number <= header_at:
            continue

        def cell(col: str) -> object:
            i = positions.get(col)
            return values[i] if i is not None and i < len(values) else None

        where = f"第 {number} 行"
        row_problems: list[str] = []
        seq_raw = _cell_text(cell("序号"))
        seq = None
        try:
            seq = int(float(seq_raw)) if seq_raw else None
            if seq is not None and (seq < 1 or float(seq_raw) != seq):
                seq = None
        except ValueError:
            seq = None
        if seq is None:
            row_problems.append(f"{where}「序号」：「{seq_raw}」不是正整数" if seq_raw else f"{where}「序号」：不能为空")
        elif seq in seen:
            row_problems.append(f"{where}「序号」：序号 {seq} 与第 {seen[seq]} 行重复")
        else:
            seen[seq] = number
        text = _cell_text(cell("问题"))
        if not text:
            row_problems.append(f"{where}「问题」：不能为空")
        units = [u for u in _SPLIT_UNITS.split(_cell_text(cell("责任单位"))) if u]
        if not units:
            row_problems.append(f"{where}「责任单位」：不能为空")
        due_raw = cell("整改时限")
        due = parse_date(due_raw)
        if due is None:
            shown = _cell_text(due_raw)
            row_problems.append(f"{where}「整改时限」：「{shown}」不是日期，应写作 2027-06-30 或 2027年6月30日"
                                if shown else f"{where}「整改时限」：不能为空")
        indicator = _cell_text(cell("指标")).removeprefix("指标").strip() or None
        if row_problems:
            problems += row_problems
            continue
        assert seq is not None and due is not None
        findings.append(FindingInput(seq=seq, text=text, indicator=indicator, units=units, due_on=due, row=number))
    if problems:
        raise FindingsError(source, problems)
    if not findings:
        raise FindingsError(source, [f"第 {header_at} 行表头之下没有任何反馈问题"])
    return findings
