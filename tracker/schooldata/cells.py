"""One cell of a school sheet → its typed value, or a Chinese reason why not (``CellError``).

The rules for what people type (issue 11 added the cleaning and the strictness):

- Invisible format characters — zero-width spaces and joiners, a BOM (U+FEFF) pasted from
  another file, direction marks and overrides, soft hyphens (Unicode category Cf) — are removed
  from every cell; a cell of nothing else is blank. Leading and trailing whitespace (line
  breaks included) is dropped.
- Text cells (names, codes, township, contact) are one line: a line break inside (Excel's
  Alt+Enter) is refused — "第一小学⏎第二小学" might be one school or two — as is any other
  control character. Tabs inside become a space.
- Numbers: digits with an optional sign, decimal point and exponent; full-width digits; commas
  only as thousands separators in groups of three (1,200). Whitespace inside a number is refused
  ("12 34" is not 1234, nor 1 200), as are Python-isms (1_000, nan, inf).
- Every figure has a plausible range in the column contract (tracker.schooldata.columns); a
  value outside it is refused with the range.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

from tracker.email_address import check_email
from tracker.schooldata.columns import SCHOOL_TYPE_ALIASES, Column

EXCEL_ERRORS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!",
     "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
)

_YES = frozenset({"是", "Y", "YES", "1", "TRUE", "√"})
_NO = frozenset({"否", "N", "NO", "0", "FALSE", "×"})
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_SHOWN_CHARS = 40


class CellError(Exception):
    """A cell cannot be read; the text says why, without the row/column prefix."""


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula cell: its text and the result Excel saved (None when never calculated)."""

    text: str
    value: object


def strip_invisible(text: str) -> str:
    """``text`` without format characters (zero-width, BOM, direction controls, soft hyphen)."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not strip_invisible(value).strip())


def show(value: object) -> str:
    """A cell value as users typed it, for messages (one line, at most 40 characters)."""
    if isinstance(value, Formula):
        return value.text
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"{value:.3e}"
    text = str(value).strip()
    text = "".join("⏎" if ch in _LINE_BREAKS else ch for ch in text)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def cell_value(raw: object, column: Column) -> object:
    """The typed value of a cell, or None when blank. Raises CellError."""
    if isinstance(raw, Formula):
        if raw.value is None:
            raise CellError(
                f"是公式「{raw.text}」，但文件里没有保存计算结果；请在 Excel 中打开并保存，或把公式粘贴为数值。")
        if isinstance(raw.value, str) and raw.value.strip() in EXCEL_ERRORS:
            raise CellError(f"公式「{raw.text}」的结果是错误值「{raw.value.strip()}」，请改正公式或填写数值。")
        raw = raw.value
    if isinstance(raw, str):
        raw = strip_invisible(raw).strip()
    if blank(raw):
        return None
    if isinstance(raw, str) and raw in EXCEL_ERRORS:
        raise CellError(f"单元格是错误值「{raw}」，请填写数值。")
    kind = column.kind
    if kind == "text":
        return _text(raw)
    if kind == "choice":
        return _choice(raw, column)
    if kind == "bool":
        return _bool(raw)
    if kind == "email":
        return _email(raw)
    return _number(raw, column)


def _text(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # an identification code typed as a number
    text = str(raw)
    if any(ch in _LINE_BREAKS for ch in text):
        raise CellError(f"单元格内有换行（「{show(text)}」）；请写成一行（若是两所学校，请分两行填写）。")
    text = text.replace("\t", " ")
    control = next((ch for ch in text if unicodedata.category(ch) == "Cc"), None)
    if control is not None:
        raise CellError(f"含有不可见的控制字符（U+{ord(control):04X}），请删除后重新填写：「{show(text)}」。")
    return text


def _email(raw: object) -> str:
    # NFKC: a Chinese input method types the full-width ＠ and ．; spaces are never part of an address
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(raw)))
    try:
        return check_email(text)
    except ValueError:
        raise CellError(f"邮箱格式不正确：「{show(raw)}」，应填一个电子邮箱地址，如 xiaozhang@example.cn。") from None


def _choice(raw: object, column: Column) -> str:
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    text = re.sub(r"\s+", "", text)
    if column.header == "学校类型":
        text = SCHOOL_TYPE_ALIASES.get(text, text)
    if text not in column.choices:
        what = "未知的学校类型" if column.header == "学校类型" else "不是可选的值："
        raise CellError(f"{what}「{show(raw)}」，应为 {'、'.join(column.choices)} 之一。")
    return text


def _bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip().upper()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(f"应填 是 或 否（也可填 Y/N、1/0），实际为「{show(raw)}」。")


def _number(raw: object, column: Column) -> float:
    integer = column.kind == "int"
    wanted = "非负整数" if integer and column.minimum == 0 else "非负数" if column.minimum == 0 else "数值"
    if column.attribute == "year_built":
        wanted = "四位年份"
        if isinstance(raw, (dt.date, dt.datetime)):
            raw = raw.year  # a date typed into the year column
    if isinstance(raw, bool) or isinstance(raw, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        raise CellError(f"应为{wanted}，实际为「{show(raw)}」。")
    out_of_range = CellError(f"超出合理范围（{column.range_text}），实际为「{show(raw)}」；"
                             "请核对是否多写了位数或填错了单位。")
    percent = False
    if isinstance(raw, (int, float)):
        try:
            value = float(raw)
        except OverflowError:  # an integer beyond any float (10**400)
            raise out_of_range from None
    else:
        # full-width digits, thousands separators, a trailing % on a share; nothing else
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        if re.search(r"\d\s+[\d.,]|[\d.,]\s+\d", text):
            raise CellError(f"数字中间有空格：「{show(raw)}」，无法确定是一个数还是几个数；请删除空格或分开填写。")
        text = re.sub(r"\s+", "", text)
        if column.kind == "share" and text.endswith("%"):
            percent, text = True, text[:-1]
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        if not _PLAIN_NUMBER.match(text):
            raise CellError(f"应为{wanted}，实际为「{show(raw)}」。")
        value = float(text)
    if math.isnan(value):
        raise CellError(f"应为{wanted}，实际为「{show(raw)}」。")
    if value < 0:
        raise CellError(f"应为{wanted}，实际为「{show(raw)}」（不能为负数）。")
    if math.isinf(value):
        raise out_of_range
    if column.kind == "share":
        # 0.35, 35% and 35 all mean 35%: a plain number above 1 is read as a percentage
        if percent or value > 1:
            value /= 100
        if column.maximum is not None and value > column.maximum:
            raise CellError(f"应为 0 到 100% 之间的比例，实际为「{show(raw)}」。")
        return value
    if integer and not value.is_integer():
        raise CellError(f"应为{wanted}，实际为「{show(raw)}」（人数、间数等须为整数）。")
    if column.attribute == "year_built":
        if value < column.minimum or (column.maximum is not None and value > column.maximum):
            raise CellError(f"应为{wanted}（{column.minimum:g}–{column.maximum:g}），实际为「{show(raw)}」。")
        return value
    if value < column.minimum or (column.maximum is not None and value > column.maximum):
        raise out_of_range
    return value
