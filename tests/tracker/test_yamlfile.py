"""tracker.yamlfile: the YAML files a person gives are read with lines and within bounds (issue 11)."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.yamlfile import MAX_ALIASES, MAX_DEPTH, YamlError, read_text, read_yaml


def bomb(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol"' + ', "lol"' * (width - 1) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_lines_of_keys_and_items_come_from_the_round_trip_info():
    doc = read_yaml("a: 1\nb:\n  - x\n  - {c: 2,\n     d: 3}\n")
    assert doc.data == {"a": 1, "b": ["x", {"c": 2, "d": 3}]}
    assert doc.lines[("a",)] == 1 and doc.lines[("b", 0)] == 3 and doc.lines[("b", 1)] == 4
    assert doc.lines[("b", 1, "d")] == 5
    assert type(doc.data["b"]) is list and type(doc.data) is dict  # plain values, not ruamel's


def test_duplicate_keys_are_reported_with_both_lines():
    doc = read_yaml("a: 1\nb: 2\na: 3\n")
    assert doc.duplicates == [(("a",), 3, 1)]


def test_the_dialect_is_the_one_plans_were_written_in():
    doc = read_yaml("t: 18:00\nyes_word: yes\nzero: 010\nd: 2026-12-01\nbad: 2026-02-30\nn: ~\nx: 1_000\n"
                    "s: !!str 12\n")
    assert doc.data == {"t": "18:00", "yes_word": True, "zero": "010", "d": dt.date(2026, 12, 1),
                        "bad": "2026-02-30", "n": None, "x": 1000, "s": "12"}
    assert read_yaml("d: 2026-12-01\n", dates=False).data == {"d": "2026-12-01"}


@pytest.mark.parametrize("text,words", [
    (bomb(), "别名展开后超过 100,000 项"),
    ("a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n", f"用了超过 {MAX_ALIASES} 次"),
    ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", f"嵌套超过 {MAX_DEPTH} 层"),
    ("a: &a [" + "[" * 12 + "]" * 12 + "]\nb: [[[[[[[[[[*a]]]]]]]]]]\n", f"别名展开后嵌套超过 {MAX_DEPTH} 层"),
    ("a: &a {b: *a}\n", "循环引用"),
    ("a: !!python/name:os.system\n", "不支持的 YAML 标签"),
])
def test_the_bounds_refuse_before_the_document_is_built(text, words):
    with pytest.raises(YamlError) as caught:
        read_yaml(text)
    assert words in caught.value.message


def test_at_the_bounds_is_accepted():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"
    assert len(read_yaml(text).data["b"]) == MAX_ALIASES
    # the document's mapping is level 1: 19 nested lists under it make 20 levels
    deepest = read_yaml("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n").data["a"]
    for _ in range(MAX_DEPTH - 2):
        deepest = deepest[0]
    assert deepest == []
    with pytest.raises(YamlError, match="嵌套超过"):
        read_yaml("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")


def test_a_large_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * 1_000_001)
    with pytest.raises(YamlError, match="文件过大（1.0 MB），不能超过 1 MB"):
        read_text(path)
    with pytest.raises(YamlError, match="文件过大"):
        read_yaml(path.read_text())
    path.write_text("a: 1\n", encoding="utf-8")
    assert read_text(path) == "a: 1\n"


def test_a_syntax_error_keeps_its_line_and_column():
    with pytest.raises(YamlError) as caught:
        read_yaml("a: 1\nb: [unclosed\n")
    assert caught.value.line == 3 and not caught.value.limit
