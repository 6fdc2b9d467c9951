"""Collecting a plan's problems: each one names its YAML line and key, in Chinese, and all of
them are reported at once (``PlanError``) so a county fixes the file in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tracker.errors import ErrorDetail, JunhengError
from tracker.yamlfile import MAX_BYTES, YamlError, read_text

KeyPath = tuple[str | int, ...]  # a key path: mapping keys are str, list positions int (0-based)

# top-level keys (Chinese, and the English field names)
TOP_KEYS: dict[str, str] = {
    "编号": "code", "名称": "name", "县": "county", "标准": "standard", "领导小组": "leading_group",
    "办公室": "office", "责任单位": "departments", "分工": "assignments", "学校自行整改": "school_fixable",
    "阶段": "phases", "准备工作": "preparatory_tasks", "提醒": "reminders", "学校联系人": "school_contacts",
    "考核": "appraisal", "幼儿班折算": "kindergarten_weight",
}


class PlanError(JunhengError, ValueError):
    """A plan file that cannot be used. ``problems`` are Chinese, each naming line and key."""

    def __init__(self, problems: list[str], path: str | Path | None = None):
        self.problems = list(problems)
        self.path = str(path) if path is not None else None
        head = f"方案文件 {self.path} " if self.path else "方案"
        summary = f"{head}有 {len(self.problems)} 处问题"
        super().__init__(f"{summary}：\n" + "\n".join(self.problems), summary=summary,
                         details=[ErrorDetail(p) for p in self.problems])


def path_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            part = part if len(part) <= 40 else part[:40] + "…"  # a pasted key is not echoed whole
            out += f".{part}" if out else part
    return out or "（文件）"


PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的键（拼写错误？）",
    "string_type": "应为文字",
    "string_too_short": "不能为空",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应填 是 或 否",
    "bool_parsing": "应填 是 或 否",
    "list_type": "应为列表（每项一行，以“- ”开头）",
    "too_short": "至少要有一项",
    "dict_type": "应为“键: 值”的映射",
    "model_type": "应为“键: 值”的映射",
    "model_attributes_type": "应为“键: 值”的映射",
    "date_type": "应为日期，写作 2026-12-01",
    "date_parsing": "应为日期，写作 2026-12-01",
    "date_from_datetime_parsing": "应为日期，写作 2026-12-01",
    "date_from_datetime_inexact": "应为日期（不含时刻），写作 2026-12-01",
    "time_type": "应为时刻，写作 \"08:30\"",
    "time_parsing": "应为时刻，写作 \"08:30\"",
}


def pydantic_message(err: Any) -> str:
    kind = err["type"]
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind in ("greater_than_equal", "greater_than"):
        return f"应不小于 {err['ctx'].get('ge', err['ctx'].get('gt'))}"
    if kind == "string_too_long":
        size = len(err["input"]) if isinstance(err.get("input"), str) else "?"
        return f"过长（{size} 字），不能超过 {err['ctx']['max_length']} 字"
    if kind == "missing" and err["loc"]:
        return f"缺少必填项「{err['loc'][-1]}」"
    if kind == "extra_forbidden" and err["loc"]:
        return f"不认识的键「{path_text((err['loc'][-1],))}」（拼写错误？）"
    return PYDANTIC_MESSAGES.get(kind, f"取值无效（{err['msg']}）")


class Checker:
    """Collects problems (line, key path, message) and warnings while resolving a plan."""

    def __init__(self, lines: dict[KeyPath, int]):
        self.lines = lines
        self.problems: list[tuple[int, str, str]] = []
        self.warnings: list[str] = []

    def line_of(self, path: KeyPath) -> int:
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append((self.line_of(path), path_text(path), message))

    def warn(self, path: KeyPath, message: str) -> None:
        self.warnings.append(f"第 {self.line_of(path)} 行 {path_text(path)}：{message}")

    def validate(self, model: type[BaseModel], raw: Any, path: KeyPath) -> Any | None:
        """The model, or None after recording every error of ``raw`` under ``path``."""
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if p != "[key]")
                self.problem(path + loc, pydantic_message(err))
            return None

    def formatted(self) -> list[str]:
        return [f"第 {line} 行 {key}：{message}" for line, key, message in sorted(self.problems, key=lambda p: p[0])]


def suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"，是否指「{close[0]}」？" if close else ""


def top(data: dict, chinese: str) -> tuple[Any, str]:
    """The value under a top-level key (Chinese or English), and the key as written."""
    english = TOP_KEYS[chinese]
    used = chinese if chinese in data else english if english in data else chinese
    return data.get(used), used


def top_list(checker: Checker, data: dict, chinese: str) -> tuple[list[Any], str]:
    """The list under a top-level key, and the key as written; not a list is a problem."""
    value, used = top(data, chinese)
    if value is None:
        return [], used
    if not isinstance(value, list):
        checker.problem((used,), PYDANTIC_MESSAGES["list_type"])
        return [], used
    return value, used


def read_plan_text(path: Path) -> str:
    """A plan file's text (county campaign or programme), bounded in size; a file that cannot be
    read is a ``PlanError`` saying why."""
    try:
        return read_text(path, max_bytes=MAX_BYTES)
    except FileNotFoundError:
        raise PlanError(["找不到方案文件"], path) from None
    except UnicodeDecodeError:
        raise PlanError(["方案文件不是 UTF-8 编码的文本"], path) from None
    except YamlError as exc:
        raise PlanError([f"方案{exc.message}"], path) from None
    except OSError as exc:
        raise PlanError([f"无法读取方案文件（{exc.strerror}）"], path) from None
