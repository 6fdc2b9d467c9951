"""A calendar notice file is a file a person gives: the same YAML bounds as a plan (issue 11)."""

from __future__ import annotations

import pytest

from tracker.calendar.year_file import CalendarFileError, load_year_file, parse_year_file

GOOD = """\
year: 2027
source: 国办发明电〔2026〕1号
illustrative: false
holidays:
  - {name: 春节, from: 2027-02-05, to: 2027-02-12}
"""


def test_an_alias_bomb_is_refused_with_nothing_imported():
    bomb = GOOD + 'x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, 10):
        bomb += f"x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * 9) + "]\n"
    with pytest.raises(CalendarFileError) as caught:
        parse_year_file(bomb, "2027.yaml")
    assert len(caught.value.problems) == 1
    assert "别名展开后超过" in caught.value.problems[0].message and "未导入任何内容" in str(caught.value)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "2027.yaml"
    path.write_text(GOOD + "# " + "x" * 1_100_000 + "\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="文件过大（1.1 MB），不能超过 1 MB"):
        load_year_file(path)


def test_deep_nesting_is_refused_with_its_line():
    with pytest.raises(CalendarFileError) as caught:
        parse_year_file(GOOD + "extra: " + "[" * 30 + "]" * 30 + "\n")
    problem = caught.value.problems[0]
    assert problem.line == 6 and "嵌套超过 20 层" in problem.message
