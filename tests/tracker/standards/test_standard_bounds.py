"""A county's own standard file is a file a person gives: the same YAML bounds as a plan (issue 11)."""

from __future__ import annotations

import pytest

from tracker.standards import BUNDLED_DIR, StandardError, load_standard_file


def test_an_alias_bomb_in_a_standard_file_is_refused(tmp_path):
    text = (BUNDLED_DIR / "national-2017.yaml").read_text(encoding="utf-8")
    text += 'x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, 10):
        text += f"x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * 9) + "]\n"
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StandardError, match="别名展开后超过"):
        load_standard_file(path)


def test_a_huge_standard_file_is_refused(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("# " + "x" * 1_200_000 + "\n", encoding="utf-8")
    with pytest.raises(StandardError, match="文件过大"):
        load_standard_file(path)
