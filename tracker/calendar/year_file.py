"""A year's holiday notice as a YAML file the office writes (``junheng calendar import 2027.yaml``).

    year: 2027
    source: 国办发明电〔2026〕X号        # or 示例（非官方） for an example
    illustrative: false                  # true: an example, not the State Council's notice
    holidays:
      - {name: 春节, from: 2027-02-05, to: 2027-02-12}
    working_weekends:                    # 调休上班: a Saturday or Sunday that is a working day
      - {name: 春节, date: 2027-01-31}

Everything is checked before anything is stored, and every problem is reported at once, each
with its line and key. Dates lie inside the year; only 元旦 may start in the last days of the
previous December, as real notices sometimes do (the 2019 notice: 2018-12-30 至 2019-01-01).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tracker.errors import ErrorDetail, JunhengError
from tracker.yamlfile import YamlError, read_text, read_yaml

MAX_HOLIDAY_DAYS = 12  # the longest notice so far is 10 days (春节 2020); longer is a typo
NEW_YEAR = "元旦"
EARLIEST_NEW_YEAR_DAY = (12, 25)  # 元旦 may reach back into the previous December from this day
WEEKDAYS = "一二三四五六日"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"「{value}」不是存在的日期") from None
    raise ValueError(f"「{value}」不是日期，应写成 YYYY-MM-DD，例如 2027-02-05")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, str_strip_whitespace=True)


class HolidayEntry(_Entry):
    name: str = Field(min_length=1)
    first: IsoDate = Field(alias="from")
    last: IsoDate = Field(alias="to")

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


class WorkingWeekendEntry(_Entry):
    name: str = Field(min_length=1)
    date: IsoDate


class CalendarYearFile(_Entry):
    """A validated year file (build it with ``load_year_file`` / ``parse_year_file``)."""

    year: int = Field(ge=2000, le=2100)
    source: str = Field(min_length=1)
    illustrative: bool
    holidays: list[HolidayEntry]
    working_weekends: list[WorkingWeekendEntry] = []

    def override_days(self) -> list[tuple[dt.date, bool, str]]:
        """(date, is_working_day, name) for every date the notice sets, in date order."""
        days = [(d, False, h.name) for h in self.holidays for d in h.days()]
        days += [(w.date, True, w.name) for w in self.working_weekends]
        return sorted(days)


@dataclass(frozen=True, slots=True)
class CalendarFileProblem:
    line: int | None  # 1-based line in the file, None for the file as a whole
    key: str  # where in the file, e.g. "holidays 第 3 项的 from"
    message: str  # the full Chinese sentence

    def __str__(self) -> str:
        return self.message


class CalendarFileError(JunhengError, ValueError):
    """The file cannot be imported; ``problems`` lists everything wrong with it."""

    def __init__(self, filename: str, problems: list[CalendarFileProblem]) -> None:
        self.filename = filename
        self.problems = problems
        super().__init__(str(self), summary=f"日历文件「{filename}」有 {len(problems)} 处问题，未导入任何内容",
                         details=[ErrorDetail(p.message, row=p.line, location=p.key or None) for p in problems])

    def __str__(self) -> str:
        lines = [f"日历文件「{self.filename}」有 {len(self.problems)} 处问题，未导入任何内容："]
        lines += [f"  {p.message}" for p in self.problems]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# reading


def load_year_file(path: str | Path) -> CalendarYearFile:
    path = Path(path)
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise CalendarFileError(path.name, [CalendarFileProblem(None, "", "文件不存在。")]) from None
    except UnicodeDecodeError:
        raise CalendarFileError(path.name, [CalendarFileProblem(None, "", "文件不是 UTF-8 编码，请另存为 UTF-8。")]) from None
    except YamlError as exc:
        raise CalendarFileError(path.name, [CalendarFileProblem(None, "", f"{exc.message}。")]) from None
    return parse_year_file(text, path.name)


def parse_year_file(text: str, filename: str = "日历文件") -> CalendarYearFile:
    try:  # dates stay text, so a bad date becomes our message, not a crash
        document = read_yaml(text, dates=False)
    except YamlError as exc:
        if exc.limit:
            raise CalendarFileError(filename, [CalendarFileProblem(exc.line, "", f"{exc.message}。")]) from None
        where = f"第 {exc.line} 行：" if exc.line else ""
        raise CalendarFileError(filename, [CalendarFileProblem(
            exc.line, "", f"{where}YAML 格式错误（{exc.message}），请检查缩进、冒号和引号。")]) from None
    data = document.data

    if not isinstance(data, dict):
        what = "文件是空的" if data is None else "文件内容应为键值对"
        raise CalendarFileError(filename, [CalendarFileProblem(
            None, "", f"{what}：应写 year、source、illustrative、holidays、working_weekends，"
                      f"格式见 examples/calendar-2027.yaml。")])

    lines: dict[tuple, int] = dict(document.lines)
    problems = [CalendarFileProblem(line, _where(path), f"第 {line} 行，{_where(path)}：键重复。")
                for path, line, _first in document.duplicates]
    try:
        parsed = CalendarYearFile.model_validate(data)
    except ValidationError as exc:
        problems += [_translate(err, lines) for err in exc.errors()]
        raise CalendarFileError(filename, problems) from None
    problems += _check_dates(parsed, lines)
    if problems:
        raise CalendarFileError(filename, problems)
    return parsed


_KEYS = {"year", "source", "illustrative", "holidays", "working_weekends"}
_LIST_KEYS = {"holidays": ("name", "from", "to"), "working_weekends": ("name", "date")}
_FIELD_ALIASES = {"first": "from", "last": "to"}


def _where(path: tuple) -> str:
    """("holidays", 2, "from") → "holidays 第 3 项的 from"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f" 第 {part + 1} 项"
        elif text.endswith("项"):
            text += f"的 {part}"
        else:
            text += f" {part}" if text else str(part)
    return text.strip() or "文件"


def _line_of(path: tuple, lines: dict[tuple, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _problem(path: tuple, lines: dict[tuple, int], text: str) -> CalendarFileProblem:
    line = _line_of(path, lines)
    where = _where(path)
    prefix = f"第 {line} 行，{where}" if line else where
    return CalendarFileProblem(line, where, f"{prefix}：{text}")


def _translate(err: dict[str, Any], lines: dict[tuple, int]) -> CalendarFileProblem:
    path = tuple(_FIELD_ALIASES.get(p, p) if isinstance(p, str) else p for p in err["loc"])
    kind = err["type"]
    value = err.get("input")
    if kind == "missing":
        parent, key = path[:-1], path[-1]
        hint = {"illustrative": "（示例文件写 true，国务院办公厅正式通知写 false）",
                "source": "（写明通知文号，例如「国办发明电〔2026〕X号」，示例文件写「示例（非官方）」）"}.get(str(key), "")
        if not parent:
            return CalendarFileProblem(None, str(key), f"文件缺少必填项 {key}{hint}。")
        return _problem(parent, lines, f"缺少必填项 {key}{hint}。")
    if kind == "extra_forbidden":
        allowed = _LIST_KEYS.get(str(path[0]), ()) if len(path) > 2 else sorted(_KEYS)
        return _problem(path, lines, f"未知的键「{path[-1]}」（可用的键：{'、'.join(allowed)}）。")
    if kind == "value_error":
        return _problem(path, lines, str(err.get("ctx", {}).get("error", err["msg"])) + "。")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _problem(path, lines, f"「{value}」不是整数年份。")
    if kind in ("greater_than_equal", "less_than_equal"):
        return _problem(path, lines, f"年份 {value} 不在 2000–2100 之间。")
    if kind in ("bool_parsing", "bool_type"):
        return _problem(path, lines, f"「{value}」应为 true（示例）或 false（正式通知）。")
    if kind == "string_type":
        return _problem(path, lines, f"「{value}」应为文字。")
    if kind == "string_too_short":
        return _problem(path, lines, "不能为空。")
    if kind == "list_type":
        return _problem(path, lines, "应为列表（每项以「- 」开头）。")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        fields = "、".join(_LIST_KEYS.get(str(path[0]), ())) if path else ""
        return _problem(path, lines, f"应为键值对（{fields}）。")
    return _problem(path, lines, f"取值「{value}」无效（{err['msg']}）。")


def _weekday(day: dt.date) -> str:
    return f"{day.isoformat()}（星期{WEEKDAYS[day.weekday()]}）"


def _check_dates(parsed: CalendarYearFile, lines: dict[tuple, int]) -> list[CalendarFileProblem]:
    problems: list[CalendarFileProblem] = []
    year = parsed.year
    year_end = dt.date(year, 12, 31)

    def earliest(name: str) -> dt.date:
        return dt.date(year - 1, *EARLIEST_NEW_YEAR_DAY) if NEW_YEAR in name else dt.date(year, 1, 1)

    def outside(day: dt.date, name: str) -> bool:
        return not earliest(name) <= day <= year_end

    def outside_text(name: str) -> str:
        if NEW_YEAR in name:
            return f"不在 {year} 年内（元旦最早可从 {year - 1} 年 12 月 {EARLIEST_NEW_YEAR_DAY[1]} 日起）"
        return f"不在 {year} 年内"

    if "示例" in parsed.source and not parsed.illustrative:
        problems.append(_problem(("illustrative",), lines,
                                 f"source 写的是「{parsed.source}」，却标为 illustrative: false；示例文件请写 true。"))
    if not parsed.holidays:
        problems.append(_problem(("holidays",), lines, "holidays 为空：放假通知至少有一个假期。"))

    taken: dict[dt.date, str] = {}  # date → which entry set it, for duplicate messages
    for i, holiday in enumerate(parsed.holidays):
        path = ("holidays", i)
        label = f"holidays 第 {i + 1} 项（{holiday.name}）"
        if holiday.first > holiday.last:
            problems.append(_problem(path + ("to",), lines,
                                     f"结束日 {holiday.last} 早于开始日 {holiday.first}。"))
            continue
        bad = False
        for key, day in (("from", holiday.first), ("to", holiday.last)):
            if outside(day, holiday.name):
                problems.append(_problem(path + (key,), lines, f"{day} {outside_text(holiday.name)}。"))
                bad = True
        span = (holiday.last - holiday.first).days + 1
        if span > MAX_HOLIDAY_DAYS:
            problems.append(_problem(path + ("to",), lines,
                                     f"假期从 {holiday.first} 到 {holiday.last} 共 {span} 天，超过 {MAX_HOLIDAY_DAYS} 天，"
                                     f"请检查日期是否写错。"))
            bad = True
        if bad:
            continue
        for day in holiday.days():
            if day in taken:
                problems.append(_problem(path, lines, f"{day} 已在 {taken[day]}中，同一天不能出现两次。"))
            else:
                taken[day] = label

    for i, weekend in enumerate(parsed.working_weekends):
        path = ("working_weekends", i, "date")
        day = weekend.date
        if outside(day, weekend.name):
            problems.append(_problem(path, lines, f"{day} {outside_text(weekend.name)}。"))
            continue
        if day.weekday() < 5:
            problems.append(_problem(path, lines,
                                     f"{_weekday(day)} 不是周末：调休上班日必须是星期六或星期日。"))
            continue
        if day in taken:
            problems.append(_problem(path, lines, f"{day} 已在 {taken[day]}中，同一天不能出现两次。"))
        else:
            taken[day] = f"working_weekends 第 {i + 1} 项（{weekend.name}）"
    return problems
