"""The branch-and-bound over the 6-of-7 choice: on small counties where a CV binds, its cost equals
a brute-force enumeration of every choice (each a convex solve with the choice fixed); the counties
are picked so that neither of the planner's two candidate choices is optimal, so the search has to
do real work. At its node limit it says the choice is not proven and reports the gap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.tracker.gaps.counties import random_county
from tests.tracker.gaps.test_planner import COSTS, NATIONAL, assert_proof
from tracker.gaps import choice
from tracker.gaps.choice import branch_and_bound
from tracker.gaps.planner import (
    choice_by_enumeration,
    choice_from_relaxation,
    coupling_binds,
)
from tracker.gaps.problem import build_problem
from tracker.gaps.report import make_plan, plan_json
from tracker.gaps.solver import solve

MARGIN = 0.02
# (seed, schools, rich) of random_county: a CV binds and both candidates are dearer than the optimum
HARD_COUNTIES = [(37, 5, 4.0), (30, 4, 4.0), (45, 4, 3.0)]


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


def brute_force(problem) -> float:
    costs = [s.cost for z in every_choice(problem) if (s := solve(problem, MARGIN, z)) is not None]
    return min(costs)


@pytest.mark.parametrize(("seed", "n", "rich"), HARD_COUNTIES)
def test_branch_and_bound_equals_brute_force_where_a_cv_binds(seed, n, rich):
    problem = build_problem(NATIONAL, random_county(seed, n, rich, 0.5), COSTS, 1.0)
    best = brute_force(problem)
    found = branch_and_bound(problem, MARGIN, None)
    assert found is not None and found.exact
    assert found.solution.cost == pytest.approx(best, rel=1e-6)
    assert found.bound == pytest.approx(best, rel=1e-6)
    assert coupling_binds(problem, MARGIN, found.solution)  # the case the per-school enumeration cannot prove
    # and the case is a real one: neither of the planner's old candidates was the optimum
    enumerated = solve(problem, MARGIN, choice_by_enumeration(problem))
    relaxed = solve(problem, MARGIN, None)
    rounded = solve(problem, MARGIN, choice_from_relaxation(problem, relaxed.z))
    assert min(s.cost for s in (enumerated, rounded) if s is not None) > best * (1 + 1e-5)


def test_the_plan_reports_a_proven_choice_and_passes_the_engine():
    records = random_county(30, 4, 4.0, 0.5)
    plan = make_plan(NATIONAL, records, COSTS, MARGIN, kindergarten_weight=1.0)
    assert_proof(NATIONAL, records, plan, MARGIN)
    data = plan_json(plan)
    assert data["exact_choice"] is True and data["choice_nodes"] > 1
    assert data["choice_gap"] == 0
    assert data["lower_bound"] == pytest.approx(data["continuous_cost"], rel=1e-6)


def test_at_the_node_limit_the_choice_is_not_proven_and_the_gap_shows(monkeypatch):
    problem = build_problem(NATIONAL, random_county(45, 4, 3.0, 0.5), COSTS, 1.0)
    z = choice_by_enumeration(problem)
    start = solve(problem, MARGIN, z)
    cut = branch_and_bound(problem, MARGIN, (z, start), node_limit=1)
    assert cut is not None and cut.exact is False and cut.nodes == 1
    assert cut.bound < cut.solution.cost * (1 - 1e-5)  # the root's bound, below the incumbent
    assert cut.bound <= brute_force(problem) <= cut.solution.cost + 1e-6

    monkeypatch.setattr(choice, "NODE_LIMIT", 1)
    monkeypatch.setattr(choice, "MIN_NODES", 1)
    records = random_county(45, 4, 3.0, 0.5)
    data = plan_json(make_plan(NATIONAL, records, COSTS, MARGIN, kindergarten_weight=1.0))
    assert data["exact_choice"] is False and data["choice_nodes"] == 1
    assert data["choice_gap"] > 0 and "节点上限" in data["choice"]
