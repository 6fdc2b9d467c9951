"""Bad plan files (issue 11): an alias bomb, a deep or huge file, a date that does not exist and
texts longer than their bound are refused with a Chinese message naming the line and key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from tracker.plans import CODE_MAX, NAME_MAX, TEXT_MAX, PlanError, load_plan, parse_plan
from tracker.plans.resolve import SECTIONS

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "plan.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
ROOT = Path(__file__).resolve().parents[3]


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic: nine levels of nine aliases each, 81 alias uses, 9**9 strings once expanded."""
    lines = ["编号: lol", 'a0: &a0 ["lol"' + ', "lol"' * (width - 1) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, source="plan.yaml")
    return caught.value.problems


def _line_of(text: str, snippet: str) -> int:
    return text.count("\n", 0, text.index(snippet)) + 1


def _replace(old: str, new: str, text: str = EXAMPLE_TEXT) -> str:
    assert text.count(old) == 1, f"snippet not unique: {old!r}"
    return text.replace(old, new)


# ---------------------------------------------------------------------------- the YAML bounds


def test_billion_laughs_is_refused_within_a_small_memory_bound():
    bomb = billion_laughs()
    assert bomb.count("*a") == 81  # fewer alias uses than the bound: the expanded size refuses it
    tracemalloc.start()
    try:
        problems = _problems(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(problems) == 1 and "别名展开后超过 100,000 项" in problems[0], problems
    assert peak < 20_000_000, f"peak {peak:,} bytes"


def test_billion_laughs_in_a_process_limited_to_one_gigabyte():
    """The 12.8 GB of issue 11, replayed under RLIMIT_AS: the child must answer, not die."""
    resource = pytest.importorskip("resource")
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        sys.path.insert(0, {str(ROOT)!r})
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_plan_bounds import billion_laughs
        from tracker.plans import PlanError, parse_plan
        try:
            parse_plan(billion_laughs())
        except PlanError as exc:
            print(exc.problems[0])
    """)
    assert resource  # the child imports it itself
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "别名展开后超过" in done.stdout


def test_more_than_a_hundred_alias_uses_are_refused():
    text = "编号: x\n名称: &n 名称\n列表:\n" + "".join("  - *n\n" for _ in range(101))
    problems = _problems(text)
    assert len(problems) == 1 and "别名（*引用）用了超过 100 次" in problems[0], problems
    assert problems[0].startswith(f"第 {3 + 101} 行")  # the 101st use


def test_a_few_aliases_are_fine():
    # an anchor for a repeated date is ordinary YAML
    text = _replace("完成时限: 2026-12-04", "完成时限: &due 2026-12-04")
    text = _replace("    牵头: 基教股\n", "    牵头: 基教股\n    完成时限: *due\n", text.replace(
        "    完成时限: 2026-12-09\n", "", 1))
    plan = parse_plan(text)
    assert [t.due_on.isoformat() for t in plan.preparatory_tasks[:2]] == ["2026-12-04", "2026-12-04"]


def test_nesting_deeper_than_twenty_levels_is_refused():
    deep = "编号: x\n深: " + "[" * 25 + "1" + "]" * 25 + "\n"
    problems = _problems(deep)
    assert len(problems) == 1 and problems[0].startswith("第 2 行：嵌套超过 20 层"), problems


def test_an_alias_that_contains_itself_is_refused():
    problems = _problems("编号: x\n环: &a [1, *a]\n")
    assert len(problems) == 1 and "循环引用" in problems[0], problems


def test_a_file_over_one_megabyte_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(EXAMPLE_TEXT + "# " + "填充" * 400_000 + "\n", encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.problems == [f"方案文件过大（{path.stat().st_size / 1e6:.1f} MB），不能超过 1 MB"]
    with pytest.raises(PlanError, match="文件过大"):
        parse_plan(path.read_text(encoding="utf-8"))


def test_python_tags_are_refused():
    problems = _problems("编号: !!python/object/apply:os.system [echo hi]\n")
    assert len(problems) == 1 and "不支持的 YAML 标签" in problems[0] and problems[0].startswith("第 1 行"), problems


# ---------------------------------------------------------------------------- dates and lengths


def test_a_date_that_does_not_exist_names_its_line_and_key():
    old = "{编号: review_city, 名称: 市级复评, 类型: 市级复评, 开始: 2027-04-01, 关口: 2027-06-30}"
    text = _replace(old, old.replace("关口: 2027-06-30", "关口: 2026-02-30"))
    problems = _problems(text)
    line = _line_of(text, "关口: 2026-02-30")
    assert problems == [f"第 {line} 行 阶段[3].关口：没有这一天：「2026-02-30」（不存在的日期）"]


def test_a_date_that_does_not_exist_in_a_preparatory_task():
    text = _replace("完成时限: 2026-12-04", "完成时限: 2026-11-31")
    problems = _problems(text)
    assert any(p.startswith(f"第 {_line_of(text, '完成时限: 2026-11-31')} 行 准备工作[1].完成时限：没有这一天")
               for p in problems), problems


LONG_CASES = [
    ("campaign code", "编号: qingchuan-2027", "编号: " + "q" * 5000, "编号", f"过长（5000 字），不能超过 {CODE_MAX} 字"),
    ("phase code", "{编号: review_city,", "{编号: " + "r" * 65 + ",", "阶段[3].编号", f"不能超过 {CODE_MAX} 字"),
    ("unit name", "  - 名称: 县教育局人事股\n", "  - 名称: " + "人" * 101 + "\n", "责任单位[1].名称",
     f"过长（101 字），不能超过 {NAME_MAX} 字"),
    ("an alias", "别名: [人事科]", "别名: [人事科, " + "科" * 120 + "]", "责任单位[1].别名[2]", f"不能超过 {NAME_MAX} 字"),
    ("a person's name", "{姓名: 刘洋, 职务: 督学,", "{姓名: " + "刘" * 150 + ", 职务: 督学,", "责任单位[5].联系人[1].姓名",
     f"不能超过 {NAME_MAX} 字"),
    ("county", "县: 青川县", "县: " + "青" * 200, "县", f"不能超过 {NAME_MAX} 字"),
    ("measures", "措施: 组织各股室", "措施: " + "措" * (TEXT_MAX + 1) + "组织各股室", "准备工作[1].措施",
     f"不能超过 {TEXT_MAX} 字"),
]


@pytest.mark.parametrize("old,new,key,words", [c[1:] for c in LONG_CASES], ids=[c[0] for c in LONG_CASES])
def test_every_text_has_a_length_bound_named_with_line_and_key(old, new, key, words):
    text = _replace(old, new)
    problems = _problems(text)
    line = _line_of(text, new.strip()[:30])
    matching = [p for p in problems if p.startswith(f"第 {line} 行 {key}：") and words in p]
    assert matching, problems
    assert all(len(p) < 400 for p in problems), "a pasted page is not echoed back whole"


def test_a_code_at_its_bound_is_accepted():
    text = _replace("编号: qingchuan-2027", "编号: " + "q" * CODE_MAX)
    assert parse_plan(text).code == "q" * CODE_MAX


# ---------------------------------------------------------------------------- the section functions


def test_each_plan_section_has_its_own_function_in_file_order():
    names = [name for name, _ in SECTIONS]
    for earlier, later in (("领导小组", "领导小组成员"), ("单位名称、简称、别名", "分工"), ("阶段", "准备工作")):
        assert names.index(earlier) < names.index(later)
    assert {"编号、名称、县、标准", "领导小组", "办公室", "责任单位", "分工", "阶段", "准备工作", "提醒",
            "学校自行整改", "学校联系人"} <= set(names)
