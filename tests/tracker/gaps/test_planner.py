"""The gap planner's proof: the plan's additions, applied to the sheet and assessed again by the
real engine, pass; taking one unit off any counted addition breaks the plan (the engine fails the
county, or a CV leaves the margin). Plus the naive plan, caps, Hunan's county values."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.tracker.gaps.counties import random_county
from tracker.assessment import assess
from tracker.gaps.costs import CostBook, read_costs
from tracker.gaps.planner import apply_additions
from tracker.gaps.report import make_plan, plan_json
from tracker.standards import load_standard

NATIONAL = load_standard("national-2017")
COSTS = read_costs()


def cvs_within(result, margin: float) -> bool:
    return all(i.cv is None or i.cv <= i.cv_limit - margin + 1e-9
               for sr in result.stages.values() for i in sr.indicators.values())


def assert_proof(standard, records, plan, margin: float) -> None:
    assert plan.feasible, plan.result.infeasible
    applied = apply_additions(records, plan.result.additions, plan.result.problem)
    after = assess(standard, applied, kindergarten_weight=1.0)
    assert after.ok is True, after.verdict_reasons()
    assert cvs_within(after, margin)
    if standard.per_school_rule.county_must_meet:
        assert all(i.county_met for sr in after.stages.values() for i in sr.indicators.values())
    for a in plan.result.additions:
        if a.unit not in ("人", "间") or a.amount < 1:
            continue
        fewer = [replace(x, amount=x.amount - 1) if x is a else x for x in plan.result.additions]
        worse = assess(standard, apply_additions(records, fewer, plan.result.problem), kindergarten_weight=1.0)
        assert worse.ok is False or not cvs_within(worse, margin), f"{a} has a slack unit"


def test_a_county_over_its_cv_limit_passes_after_the_plan_and_the_naive_plan_does_not():
    records = random_county(seed=3, n=10, rich=4.0)
    before = assess(NATIONAL, records, kindergarten_weight=1.0)
    assert any(i.cv_ok is False for sr in before.stages.values() for i in sr.indicators.values())
    plan = make_plan(NATIONAL, records, COSTS, 0.02, kindergarten_weight=1.0)
    assert_proof(NATIONAL, records, plan, 0.02)
    data = plan_json(plan)
    assert data["naive"]["ok"] is False and any("差异系数" in r for r in data["naive"]["reasons"])
    # the relaxation bounds the continuous plan, which the whole-number plan costs at least as much as
    assert data["lower_bound"] <= data["continuous_cost"] + 1e-6 <= data["total_cost"] + 2e-6
    # a CV binds: the outer approximation proves the choice, so the bound meets the continuous plan
    assert data["exact_choice"] is True and data["choice_gap"] <= 1e-4 * data["continuous_cost"]


def test_json_contract_and_totals():
    records = random_county(seed=5, n=8)
    data = plan_json(make_plan(NATIONAL, records, COSTS, 0.02, kindergarten_weight=1.0))
    assert {"feasible", "total_cost", "additions", "after", "naive"} <= set(data)
    assert data["feasible"] is True and data["after"]["ok"] is True
    for a in data["additions"]:
        assert a["stage"] in ("primary", "junior", None) and a["indicator"] in list("1234567")
        assert (a["stage"] is None) == (a["indicator"] in "4567")
        assert a["amount"] > 0 and a["cost"] == pytest.approx(a["amount"] * COSTS.unit_costs[a["indicator"]])
    assert data["total_cost"] == pytest.approx(sum(a["cost"] for a in data["additions"]), abs=1e-3)
    assert sum(t["cost"] for t in data["totals"]["by_township"]) == pytest.approx(data["total_cost"], abs=1e-3)
    assert sum(t["cost"] for t in data["totals"]["by_unit"]) == pytest.approx(data["total_cost"], abs=1e-3)
    assert set(data["naive"]) >= {"total_cost", "ok"}


def test_a_mixed_school_addition_is_resplit_like_the_assessment():
    # one 九年一贯制 school far below on sports area in both stages: the whole-school addition,
    # split 1 : 1.1 per pupil, must bring the junior section (the larger need) to its threshold
    records = random_county(seed=11, n=6, rich=1.3, low=1.0)
    mixed = next(r for r in records if r.school_type == "九年一贯制")
    records = [replace(r, sports_area=r.sports_area * 0.3) if r is mixed else r for r in records]
    plan = make_plan(NATIONAL, records, COSTS, 0.02, kindergarten_weight=1.0)
    assert_proof(NATIONAL, records, plan, 0.02)
    assert any(a.school == mixed.name and a.indicator == "5" and a.stage is None for a in plan.result.additions)


def test_the_seventh_indicator_may_stay_at_85_percent():
    # a school at 90 % on equipment only: nothing needs adding for it (6 of 7 met, the 7th ≥ 85 %)
    records = random_county(seed=2, n=6, rich=1.3, low=1.05)
    first = records[1]
    records[1] = replace(first, equipment_value=first.equipment_value * 0.9 / 1.4)
    plan = make_plan(NATIONAL, records, COSTS, 0.0, kindergarten_weight=1.0)
    assert plan.result.exact_choice  # no CV binds in this county: the per-school choice is exact
    section = plan.result.problem.base[5, plan.result.problem.section_school == 1]
    if (section >= 0.85).all():
        assert not [a for a in plan.result.additions if a.school == first.name and a.indicator == "6"]


def test_caps_that_cannot_be_met_name_the_school_and_indicator():
    records = random_county(seed=7, n=6, rich=1.3, low=1.05)
    poor = records[2]
    records[2] = replace(poor, sports_area=poor.sports_area * 0.2)
    costs = CostBook(COSTS.unit_costs, {poor.name: {"5": 0}}, True, "test")
    plan = make_plan(NATIONAL, records, costs, 0.02, kindergarten_weight=1.0)
    assert plan.feasible is False and plan.result.plan is None
    assert any(poor.name in text and "指标 5" in text for text in plan.result.infeasible), plan.result.infeasible
    assert plan_json(plan)["feasible"] is False


def test_hunan_requires_the_county_values_and_every_indicator():
    hunan = load_standard("hunan-2023")
    records = random_county(seed=9, n=8, rich=2.0, low=0.7)
    plan = make_plan(hunan, records, COSTS, 0.02, kindergarten_weight=1.0)
    assert_proof(hunan, records, plan, 0.02)


# no shrinking phase: each example solves a few cone programs, and a failure prints its seed anyway
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(seed=st.integers(0, 10_000), n=st.integers(4, 9), rich=st.floats(1.0, 5.0), low=st.floats(0.3, 1.0),
       margin=st.sampled_from([0.0, 0.02]), standard=st.sampled_from(["national-2017", "hunan-2023"]))
def test_property_random_counties_pass_after_the_plan_with_no_slack_unit(seed, n, rich, low, margin, standard):
    records = random_county(seed, n, rich, low)
    std = load_standard(standard)
    plan = make_plan(std, records, COSTS, margin, kindergarten_weight=1.0)
    assert_proof(std, records, plan, margin)
    # never cheaper than the relaxation, and never takes anything away
    assert plan.result.lower_bound <= plan.total_cost + 1e-6
    assert all(a.amount > 0 for a in plan.result.additions)


def test_a_cv_that_caps_keep_over_its_limit_is_named():
    records = random_county(seed=3, n=10, rich=4.0, low=1.05)
    before = assess(NATIONAL, records, kindergarten_weight=1.0)
    over = {(st_, c) for st_, sr in before.stages.items() for c, i in sr.indicators.items() if i.cv_ok is False}
    assert over and all(s.ok for sr in before.stages.values() for s in sr.schools)
    nothing = {r.name: {c: 0 for c in "1234567"} for r in records}
    plan = make_plan(NATIONAL, records, CostBook(COSTS.unit_costs, nothing, True, "test"), 0.02,
                     kindergarten_weight=1.0)
    assert plan.feasible is False
    names = {"primary": "小学", "junior": "初中"}
    for stage, code in over:
        assert any(f"{names[stage]}指标 {code} 的差异系数" in text for text in plan.result.infeasible), \
            plan.result.infeasible
