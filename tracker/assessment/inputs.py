"""Reading what a county enters by hand: a figure, a verdict (通过/不通过), or points."""

from __future__ import annotations

import math
from typing import Literal

Status = Literal["pass", "fail", "unknown"]

_PASS_WORDS = {"pass", "通过", "达标", "是", "true", "yes", "合格"}
_FAIL_WORDS = {"fail", "不通过", "不达标", "否", "false", "no", "不合格"}


def verdict_word(value: object) -> Status | None:
    """"pass"/"fail" from a bool or a word (English or Chinese); None for anything else."""
    if isinstance(value, bool):
        return "pass" if value else "fail"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _PASS_WORDS:
            return "pass"
        if word in _FAIL_WORDS:
            return "fail"
    return None


def number(value: object) -> float | None:
    """A finite number from an int/float or a numeric string ("95", "95%"); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip().rstrip("%").strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None
