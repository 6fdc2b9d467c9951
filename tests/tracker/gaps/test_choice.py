"""The outer approximation over the 6-of-7 choice: on small counties where a CV binds, its cost
equals a brute-force enumeration of every choice (each a convex solve with the choice fixed); the
counties are picked so that neither of the planner's two candidate choices is optimal, so the search
has to do real work (one of them takes two master MILPs). The tight rule makes the relaxation each
section's convex hull. At its iteration limit it says the choice is not proven and reports the gap."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from tests.tracker.gaps.counties import random_county
from tests.tracker.gaps.test_planner import COSTS, NATIONAL, assert_proof
from tracker.gaps import choice
from tracker.gaps.choice import TOLERANCE, outer_approximation
from tracker.gaps.fixing import fix_choices
from tracker.gaps.planner import (
    choice_by_enumeration,
    choice_from_relaxation,
    coupling_binds,
)
from tracker.gaps.problem import build_problem
from tracker.gaps.report import make_plan, plan_json
from tracker.gaps.solver import rule_drop, solve

MARGIN = 0.02
# (seed, schools, rich) of random_county: a CV binds and both candidates are dearer than the optimum
# (344, 4, 4.0) is one more such county; its enumeration alone takes ~45 s, so CI runs these two
HARD_COUNTIES = [(45, 4, 3.0), (369, 5, 4.0)]


def every_choice(problem):
    """Every choice up to dominance: per section, ``allowed`` of its unmet indicators may stay (all of
    them when it has no more); leaving fewer only tightens, so it is never cheaper."""
    unmet = (problem.base < 1 - 1e-9) & problem.in_rule[:, None]
    per_section = []
    for i in range(problem.n_sections):
        codes = np.flatnonzero(unmet[:, i])
        per_section.append(list(itertools.combinations(codes, min(problem.allowed_unmet, codes.size))))
    for combo in itertools.product(*per_section):
        z = np.zeros(problem.base.shape)
        for i, left in enumerate(combo):
            z[list(left), i] = 1.0
        yield z


_ENUMERATED: dict[bytes, tuple[float, list]] = {}  # one enumeration per county (hundreds of solves)


def enumerate_choices(problem) -> tuple[float, list]:
    """The least cost over every choice, and the choices that reach it (to 1e-7)."""
    key = problem.base.tobytes()
    if key not in _ENUMERATED:
        solved = [(z, s.cost) for z in every_choice(problem) if (s := solve(problem, MARGIN, z)) is not None]
        best = min(cost for _, cost in solved)
        _ENUMERATED[key] = (best, [z for z, cost in solved if cost <= best * (1 + 1e-7)])
    return _ENUMERATED[key]


def brute_force(problem) -> float:
    return enumerate_choices(problem)[0]


def candidates(problem):
    """The planner's two candidate choices, solved with z fixed, and the relaxation."""
    enumerated = choice_by_enumeration(problem)
    relaxed = solve(problem, MARGIN, None)
    rounded = choice_from_relaxation(problem, relaxed.z)
    known = [(z, s) for z in (enumerated, rounded) if (s := solve(problem, MARGIN, z)) is not None]
    return known, relaxed


@pytest.mark.parametrize(("seed", "n", "rich"), HARD_COUNTIES)
def test_outer_approximation_equals_brute_force_where_a_cv_binds(seed, n, rich):
    problem = build_problem(NATIONAL, random_county(seed, n, rich, 0.5), COSTS, 1.0)
    best = brute_force(problem)
    known, relaxed = candidates(problem)
    found = outer_approximation(problem, MARGIN, known, [relaxed], relaxed.cost)
    assert found is not None and found.exact and found.iterations >= 1
    # the same with the Lagrangian fixing first (what the planner does)
    fixing = fix_choices(problem, MARGIN, relaxed, min(s.cost for _, s in known))
    fixed = outer_approximation(problem, MARGIN, known, [relaxed], relaxed.cost, fixing=fixing)
    assert fixed.exact and fixed.solution.cost == pytest.approx(best, rel=1e-6)
    assert best * (1 - TOLERANCE) <= fixed.bound <= best + 1e-6
    assert found.solution.cost == pytest.approx(best, rel=1e-6)
    assert best * (1 - TOLERANCE) <= found.bound <= best + 1e-6  # a proof: a bound within the tolerance
    assert coupling_binds(problem, MARGIN, found.solution)  # the case the per-school enumeration cannot prove
    # and the case is a real one: neither of the planner's candidates was the optimum
    assert min(s.cost for _, s in known) > best * (1 + 1e-5)


def test_several_master_iterations_are_needed_and_the_bound_rises():
    problem = build_problem(NATIONAL, random_county(369, 5, 4.0, 0.5), COSTS, 1.0)
    known, relaxed = candidates(problem)
    one = outer_approximation(problem, MARGIN, known, [relaxed], relaxed.cost, iteration_limit=1)
    full = outer_approximation(problem, MARGIN, known, [relaxed], relaxed.cost)
    assert not one.exact and full.exact and full.iterations >= 2
    assert relaxed.cost <= one.bound <= full.bound <= full.solution.cost <= one.solution.cost


def test_the_tight_rule_keeps_the_choices_and_raises_the_relaxation():
    # with z whole, Vₖᵢ ≥ 1 − (1 − max(rest, base))·z is the 85 % rule (values only grow); relaxed,
    # it is at least as tight as the plain 1 − (1 − rest)·z
    problem = build_problem(NATIONAL, random_county(45, 4, 3.0, 0.5), COSTS, 1.0)
    drop = rule_drop(problem)
    unmet = (problem.base < 1 - 1e-9) & problem.in_rule[:, None]
    assert (drop[unmet] <= 1 - NATIONAL.per_school_rule.rest_min_ratio + 1e-12).all()
    assert (drop[unmet] < 0.15 - 1e-6).any()  # some value between 85 % and 100 %: a real tightening
    assert brute_force(problem) >= solve(problem, MARGIN, None).cost - 1e-6


def test_the_plan_reports_a_proven_choice_and_passes_the_engine():
    records = random_county(344, 4, 4.0, 0.5)
    plan = make_plan(NATIONAL, records, COSTS, MARGIN, kindergarten_weight=1.0)
    assert_proof(NATIONAL, records, plan, MARGIN)
    data = plan_json(plan)
    assert data["exact_choice"] is True and data["choice_iterations"] >= 1 and "外逼近（精确）" in data["choice"]
    assert 0 <= data["choice_gap"] <= TOLERANCE * data["continuous_cost"]
    assert data["lower_bound"] == pytest.approx(data["continuous_cost"], rel=TOLERANCE)


def test_at_the_iteration_limit_the_choice_is_not_proven_and_the_gap_shows(monkeypatch):
    problem = build_problem(NATIONAL, random_county(45, 4, 3.0, 0.5), COSTS, 1.0)
    known, relaxed = candidates(problem)
    cut = outer_approximation(problem, MARGIN, known, [relaxed], relaxed.cost, iteration_limit=0)
    assert cut is not None and cut.exact is False and cut.iterations == 0
    assert cut.bound == pytest.approx(relaxed.cost)  # the relaxation's bound, below the incumbent
    assert cut.bound < cut.solution.cost * (1 - TOLERANCE)
    assert cut.bound <= brute_force(problem) <= cut.solution.cost + 1e-6

    monkeypatch.setattr(choice, "ITERATION_LIMIT", 0)
    records = random_county(45, 4, 3.0, 0.5)
    data = plan_json(make_plan(NATIONAL, records, COSTS, MARGIN, kindergarten_weight=1.0))
    assert data["exact_choice"] is False and data["choice_iterations"] == 0
    assert data["choice_gap"] > 0 and "未证明" in data["choice"]


def test_highs_cannot_write_to_stdout_during_a_master(capfd):
    # HiGHS prints a debugging line to fd 1 now and then with its output off: a master points fd 1
    # at stderr, so `junheng plan-gaps` prints only what it means to on stdout
    print("before", flush=True)
    with choice.stdout_to_stderr():
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution\n")
    print("after", flush=True)
    captured = capfd.readouterr()
    assert captured.out == "before\nafter\n"
    assert "HighsMipSolverData" in captured.err
