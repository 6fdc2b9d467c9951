"""The Lagrangian fixing of the 6-of-7 choice: its bound lies between the relaxation's cost and the
brute-force optimum (any prices give a valid bound, so scaled or random ones too), the options it
leaves always hold an optimal choice, and on a county where the CV binds it settles schools and
proves the choice without a master MILP."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.tracker.gaps.counties import random_county
from tests.tracker.gaps.test_choice import HARD_COUNTIES, MARGIN, brute_force, candidates, enumerate_choices
from tests.tracker.gaps.test_planner import COSTS, NATIONAL, assert_proof
from tracker.gaps.choice import outer_approximation
from tracker.gaps.fixing import fix_choices, separable
from tracker.gaps.problem import build_problem
from tracker.gaps.report import make_plan, plan_json


def within(z, fixing) -> bool:
    return bool(((z >= fixing.lower) & (z <= fixing.upper)).all())


@pytest.mark.parametrize(("seed", "n", "rich"), HARD_COUNTIES)
def test_the_lagrangian_bound_lies_between_the_relaxation_and_the_optimum(seed, n, rich):
    problem = build_problem(NATIONAL, random_county(seed, n, rich, 0.5), COSTS, 1.0)
    assert separable(problem)
    best = brute_force(problem)
    _, relaxed = candidates(problem)
    fixing = fix_choices(problem, MARGIN, relaxed, best)
    # at the relaxation's duals at least its cost (Clarabel's dual accuracy aside), never above a choice
    assert relaxed.cost * (1 - 1e-5) <= fixing.bound <= best + 1e-6
    rng = np.random.default_rng(seed)
    for factor in (0.0, 0.5, 3.0, 30.0, rng.uniform(0, 5, relaxed.cone_duals.size)):
        priced = fix_choices(problem, MARGIN, replace(relaxed, cone_duals=relaxed.cone_duals * factor), best)
        assert priced.bound <= best + 1e-6
    assert fix_choices(problem, MARGIN, replace(relaxed, cone_duals=relaxed.cone_duals * 0.5), best).bound < fixing.bound


@pytest.mark.parametrize(("seed", "n", "rich"), HARD_COUNTIES)
def test_the_fixing_keeps_an_optimal_choice(seed, n, rich):
    problem = build_problem(NATIONAL, random_county(seed, n, rich, 0.5), COSTS, 1.0)
    best, optima = enumerate_choices(problem)
    _, relaxed = candidates(problem)
    # the optimum's own cost as the incumbent: the most the fixing may drop
    fixing = fix_choices(problem, MARGIN, relaxed, best)
    assert any(within(z, fixing) for z in optima)
    assert best < fixing.floor < np.inf  # it dropped options, each costlier than the optimum
    assert (fixing.upper < 1).any()


def test_the_fixing_settles_schools_and_proves_the_choice_without_a_master():
    records = random_county(2, 12, 3.5, 0.5)
    problem = build_problem(NATIONAL, records, COSTS, 1.0)
    known, relaxed = candidates(problem)
    fixing = fix_choices(problem, MARGIN, relaxed, min(s.cost for _, s in known))
    assert fixing.fixed >= 1 and fixing.bound > relaxed.cost * (1 + 1e-3)  # mixed schools: above the relaxation
    found = outer_approximation(problem, MARGIN, known, [relaxed], relaxed.cost, fixing=fixing)
    assert found.exact and found.iterations == 0 and found.fixed == fixing.fixed
    assert found.bound <= found.solution.cost

    plan = make_plan(NATIONAL, records, COSTS, MARGIN, kindergarten_weight=1.0)
    assert_proof(NATIONAL, records, plan, MARGIN)
    data = plan_json(plan)
    assert data["exact_choice"] is True and data["choice_iterations"] == 0 and data["choice_fixed"] >= 1
    assert "拉格朗日下界（精确）" in data["choice"]
    assert data["lower_bound"] == pytest.approx(data["continuous_cost"], rel=1e-4)
