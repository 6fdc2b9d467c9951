"""The plan file's values: how dates, times, yes/no and name lists are written, the length bound
of every text, and the base model of every plan entry.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

TOWNSHIPS_PLACEHOLDER = "各乡镇"  # "the township of the school concerned"
UNKNOWN_DATE_WORDS = ("以上级通知为准", "待定", "未定", "待通知")
GROUP_ROLES = ("组长", "副组长", "成员")

# 提醒.逾期顺延工作日: working days a task whose plan date has passed at creation gets (issue 9)
REDATE_WORKING_DAYS = 5
REDATE_WORKING_DAYS_MAX = 30

# Length bounds of the plan's texts (issue 11): a 编号 ends up in paths and the CLI (--campaign),
# names on pages and in mail subjects; longer is a pasting accident, not a county's wording.
CODE_MAX = 64  # 编号 (the campaign's, a phase's, a preparatory task's)
NAME_MAX = 100  # names, short names, aliases, 职务, 县, 标准, 事项
PHONE_MAX = 40
TEXT_MAX = 2000  # 措施, 说明

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:[:：]00)?\s*$")

Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NAME_MAX)]


def code_field(alias: str) -> Any:
    return Field(alias=alias, min_length=1, max_length=CODE_MAX)


def name_field(alias: str, default: Any = ..., *, required: bool = True) -> Any:
    return Field(default, alias=alias, min_length=1 if required else 0, max_length=NAME_MAX)


def text_field(alias: str) -> Any:
    return Field("", alias=alias, max_length=TEXT_MAX)


class PlanModel(BaseModel):
    """Every entry of the plan: unknown keys are errors, Chinese or English field names."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


def parse_date(value: Any) -> Any:
    """Dates as YAML writes them (2026-12-01) or as people type them (2026年12月1日, 2026/12/1)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _DATE.match(text)
        if not match:
            raise ValueError(f"日期格式不正确：「{_clip(text)}」，应写作 2026-12-01")
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            raise ValueError(f"没有这一天：「{text}」（不存在的日期）") from None
    return value


def parse_optional_date(value: Any) -> Any:
    if isinstance(value, str) and value.strip() in UNKNOWN_DATE_WORDS:
        return None
    return parse_date(value)


def parse_time(value: Any) -> Any:
    if isinstance(value, str):
        match = _TIME.match(value)
        if not match:
            raise ValueError(f"时间格式不正确：「{_clip(value)}」，应写作 \"08:30\"")
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"没有这个时刻：「{value}」")
        return dt.time(hour, minute)
    return value


def parse_bool(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text in ("是", "要", "需要", "开", "true", "True"):
            return True
        if text in ("否", "不", "不要", "关", "false", "False"):
            return False
        raise ValueError(f"应填 是 或 否，现为「{_clip(text)}」")
    return value


def str_list(value: Any) -> Any:
    """A list of names; a single name, or names separated by 、 or ， also do."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[、，,；;]", value) if part.strip()]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
    return value


_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")


def mobile_of(phone: str | None) -> str | None:
    """The mainland mobile number in a 电话 as people write it (138 0013 8000, 138-0013-8000,
    +86 13800138000), or None (a landline, an extension, nothing): what a group robot @-mentions."""
    if not phone:
        return None
    match = _MOBILE.match(re.sub(r"[\s\-()（）]", "", str(phone)))
    return match.group(1) if match else None


def code_text(value: Any) -> Any:
    """A 编号 written as a number (编号: 1) is the text "1"."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def text_of(value: Any) -> str:
    return str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _clip(text: str, limit: int = 40) -> str:
    """A value quoted in a message: a pasted page is not echoed back whole."""
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字）"
