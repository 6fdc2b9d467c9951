"""The costs file: the illustrative default reads; every problem of a bad file is named in Chinese."""

from __future__ import annotations

import pytest

from tracker.errors import ErrorKind
from tracker.gaps.costs import CostsError, parse_costs, read_costs


def test_the_default_is_illustrative_and_complete():
    book = read_costs()
    assert book.illustrative is True
    assert set(book.unit_costs) == set("1234567")
    assert book.unit_costs["6"] == 1  # equipment at face value


def test_caps_by_name_or_key():
    book = parse_costs({"unit_costs": {c: 1 for c in "1234567"}, "caps": {"甲小学": {"5": 0}, "123": {"4": 10}}}, "x")
    assert book.cap("甲小学", "999", "5") == 0
    assert book.cap("乙小学", "123", "4") == 10
    assert book.cap("乙小学", "123", "5") is None


def test_every_problem_is_named():
    with pytest.raises(CostsError) as caught:
        parse_costs({"unit_costs": {"1": -2, "9": 1, "2": "贵"}, "caps": {"甲": {"8": 1}}, "extra": 1}, "c.yaml")
    text = str(caught.value)
    for part in ("未知的项「extra」", "unit_costs.1", "「9」不是资源配置指标代码", "unit_costs.2", "缺少指标 3 的单价",
                 "caps.甲：「8」"):
        assert part in text
    assert caught.value.kind is ErrorKind.invalid


def test_a_missing_or_broken_file(tmp_path):
    with pytest.raises(CostsError, match="找不到文件"):
        read_costs(tmp_path / "none.yaml")
    broken = tmp_path / "b.yaml"
    broken.write_text("unit_costs: [1, 2\n", encoding="utf-8")
    with pytest.raises(CostsError, match="格式错误"):
        read_costs(broken)
