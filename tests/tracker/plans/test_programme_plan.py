"""The 示范校 plan format: the example parses; each section's problems name line and key, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tracker.programmes.world import PLAN
from tracker.plans import PlanError, parse_plan
from tracker.plans.programme import ProgrammePlan, load_programme_plan, parse_programme_plan

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "programme.yaml"


def test_example_has_the_seeds_five_phases_and_an_illustrative_criteria_set():
    plan = load_programme_plan(EXAMPLE)
    assert [p.name for p in plan.phases] == ["标杆种子校圈定", "导师型学校遴选", "搭对提升", "成果验收", "表彰奖励"]
    assert plan.criteria.illustrative and len(plan.criteria.categories) == 8 and plan.full_points() == 100
    assert [r.category for r in plan.awards.rules] == ["贡献校", "标兵校", "进步校", "达标校"]
    assert plan.aggregate.drop_extremes_from == 5
    assert ProgrammePlan.from_stored(plan.stored()) == plan


def _problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as err:
        parse_programme_plan(text)
    return err.value.problems


def test_every_problem_is_reported_with_its_line():
    bad = (PLAN.replace("开始: 2027-05-01, 结束: 2027-05-31", "开始: 2027-05-31, 结束: 2027-05-01")
           .replace("权重: 0.6", "权重: 0.5")
           .replace("{类别: 达标校, 角色: 潜力校", "{类别: 优秀校, 角色: 潜力校")
           .replace("阶段: acceptance, 评审组: panel, 对象: 潜力校, 权重: 0.4", "阶段: accept, 评审组: panel, 对象: 潜力校, 权重: 0.4")
           + "颜色: 红\n")
    problems = _problems(bad)
    text = "\n".join(problems)
    assert "时间窗口颠倒" in text and "权重之和应为 1" in text and "优秀校" in text
    assert "阶段「accept」不在「阶段」中" in text and "不认识的键「颜色」" in text
    assert all(p.startswith("第 ") for p in problems)
    line_of_phase = next(i for i, line in enumerate(bad.splitlines(), 1) if "2027-05-31, 结束: 2027-05-01" in line)
    assert any(p.startswith(f"第 {line_of_phase} 行") for p in problems)


def test_missing_sections_and_a_panel_member_of_an_unknown_school():
    text = PLAN.replace("{姓名: 甲, 学校: 一中}", "{姓名: 甲, 学校: 九中}")
    text = text[:text.index("表彰规则:")]
    problems = "\n".join(_problems(text))
    assert "学校「九中」不在「学校」中" in problems and "缺少必填项" in problems


def test_a_county_plan_reader_points_a_programme_file_elsewhere():
    with pytest.raises(PlanError, match="junheng programme init"):
        parse_plan(PLAN)
