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


# A veto item names the bad thing ("存在以考试方式招生", "有弄虚作假行为"): an answer to it says
# whether the thing is the case. 通过/不通过 are verdicts (通过: no veto); 是/否 and the like answer
# the item's own question, so 是 to "存在…" is a veto. Generic yes-words must not be read first.
_VERDICT_PASS = {"pass", "通过", "达标", "合格"}
_VERDICT_FAIL = {"fail", "不通过", "不达标", "不合格"}
_YES = {"是", "yes", "true", "y"}  # answers to the item's question: their sense depends on its wording
_NO = {"否", "no", "false", "n"}
_BAD_THING_HAPPENED = {"有", "存在", "发生", "出现"}  # say what happened, whatever the wording
_BAD_THING_ABSENT = {"无", "没有", "不存在", "未发生", "未出现"}
_NEGATIONS = ("不存在", "未发生", "没有", "未出现", "杜绝")
_AFFIRMATIONS = ("存在", "发生", "出现", "有")


def veto_names_the_bad_thing(title: str) -> bool | None:
    """True when a veto's title states the bad thing ("存在…"), False when it states its absence
    ("未发生…"), None when the wording says neither."""
    if any(word in title for word in _NEGATIONS):
        return False
    if any(word in title for word in _AFFIRMATIONS):
        return True
    return None


def veto_answer(code: str, title: str, value: object) -> tuple[Status | None, str | None]:
    """Read an answer to a veto item against what the item asks: (status, None), or (None, the
    problem in Chinese) for an answer that cannot be read or could be read both ways."""
    hint = "请录入 存在/不存在（或 通过/不通过，通过 即未发生）"
    problem = f"否决事项 {code}（{title}）：「{value}」"
    if isinstance(value, bool):
        return None, f"{problem}有歧义（是指「{title}」还是指通过？），{hint}"
    if not isinstance(value, str):
        return None, f"{problem}无法判断，{hint}"
    word = value.strip().lower()
    if word in _VERDICT_PASS:
        return "pass", None
    if word in _VERDICT_FAIL:
        return "fail", None
    if word in _BAD_THING_HAPPENED:
        return "fail", None
    if word in _BAD_THING_ABSENT:
        return "pass", None
    if word not in _YES and word not in _NO:
        return None, f"{problem}无法判断，{hint}"
    bad = veto_names_the_bad_thing(title)
    if bad is None:
        return None, f"{problem}有歧义（事项的措辞不能判断「是/否」指哪一方），{hint}"
    happened = (word in _YES) == bad
    return ("fail" if happened else "pass"), None


def sub_item_code(code: str, number_: int) -> str:
    """The code under which a scored indicator's sub-item is entered: "8.1", "8.2" …"""
    return f"{code}.{number_}"


def split_sub_item_code(code: str) -> tuple[str, int] | None:
    """"8.2" → ("8", 2); None for a code that is not of that shape."""
    base, dot, tail = code.rpartition(".")
    if not dot or not base or not tail.isdigit() or int(tail) < 1:
        return None
    return base, int(tail)
