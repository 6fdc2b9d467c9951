"""Lagrangian fixing of the 6-of-7 choice: most schools' choices are settled before any MILP.

Price each CV cone ‖r‖₂ ≤ L·V̄ with a multiplier λ ≥ 0 (the relaxation's dual) and a unit vector ρ̂
(the relaxation's r ÷ ‖r‖ there). For every plan within the cone λ(ρ̂·r − L·V̄) ≤ λ(‖r‖ − L·V̄) ≤ 0
(Cauchy–Schwarz), so adding that term to the cost lowers no feasible plan's cost: the minimum of
cost + Σ λ(ρ̂·r − L·V̄) over the rest of the constraints (the rule, the caps) is a lower bound on
every choice, whatever λ and ρ̂ (a Lagrangian bound). The term is linear in the values V, so the
minimum separates per school, and per school per alternative (which indicators each of its sections
leaves at their lowered level) it is closed form: each indicator's addition only raises that
indicator, so its cheapest amount is the least that reaches the levels (the cap if its price is
negative). With λ the relaxation's optimal dual the bound is at least the relaxation's cost.

Forcing school s to alternative a costs at least bound + Lₛ(a) − minₐ′ Lₛ(a′); where that exceeds the
cost of a plan already found, no better plan uses a, and a is dropped. A section left with one
option has its choice fixed; the outer approximation (``choice``) then decides only the rest. The
prices are scaled down where an uncapped addition would get a negative price (the minimum would be
−∞; scaling λ keeps the bound valid). Only for problems whose additions each raise their own
indicator alone and never lower one (both standards); otherwise no fixing (None).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tracker.gaps.problem import GapProblem
from tracker.gaps.solver import EPS, Solution, cv_groups, rule_drop

MAX_ALTERNATIVES = 4096  # per school; a county with a school of more is not fixed


@dataclass(slots=True)
class Fixing:
    lower: NDArray[np.float64]  # z's bounds (K × n) after fixing
    upper: NDArray[np.float64]
    bound: float  # the Lagrangian lower bound on every choice's continuous cost
    floor: float  # the least lower bound of a dropped alternative (inf when none was dropped)
    fixed: int  # schools whose every section has one option left (choices it had to make)
    open: int  # schools with a choice still open


def separable(problem: GapProblem) -> bool:
    """Each addition raises its own indicator only (the closed forms below need it)."""
    return bool(problem.monotone.all()) and all(
        (matrix is None) == (j != k) for k, row in enumerate(problem.effect) for j, matrix in enumerate(row))


def value_prices(problem: GapProblem, margin: float, relaxed: Solution) -> NDArray[np.float64]:
    """β (K × n): the priced cones' term Σ λ(ρ̂·r − L·V̄) as Σ βₖᵢ Vₖᵢ (r and V̄ are linear in V)."""
    values = problem.values(relaxed.amounts)
    beta = np.zeros(problem.base.shape)
    duals = relaxed.cone_duals if relaxed.cone_duals is not None else np.zeros(len(cv_groups(problem)))
    for c, (k, g, rows) in enumerate(cv_groups(problem)):
        lam = float(duals[c])
        if lam <= 0:
            continue
        w = problem.students[rows] / problem.students[rows].sum()
        r = np.sqrt(w) * (values[k, rows] - w @ values[k, rows])
        norm = float(np.linalg.norm(r))
        unit = r / norm if norm > 0 else np.zeros_like(r)
        limit = problem.cv_limit[g] - margin
        a = unit * np.sqrt(w)
        beta[k, rows] += lam * (a - a.sum() * w - limit * w)
    return beta


def variable_prices(problem: GapProblem, beta: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Per indicator, per variable: its cost plus what it moves the priced term by (万元 per unit)."""
    return [problem.cost[k] + problem.effect[k][k].T @ beta[k] for k in range(len(problem.codes))]


def scaled(problem: GapProblem, beta: NDArray[np.float64]) -> NDArray[np.float64]:
    """β scaled down per indicator (its cones' λ with it; an addition moves its own indicator's cones
    only) until no uncapped addition has a negative price (solver noise: ~1e-5 of λ)."""
    out = beta.copy()
    for k in range(len(problem.codes)):
        moved = problem.effect[k][k].T @ beta[k]
        low = (moved < 0) & ~np.isfinite(problem.caps[k])
        if low.any():
            # a hair below the limit, so rounding cannot leave a price at −1e-17 (a −∞ minimum)
            factor = min(1.0, float(np.min(problem.cost[k] / -moved[low])) * (1 - 1e-9))
            out[k] *= max(factor, 0.0)
    return out


def fix_choices(problem: GapProblem, margin: float, relaxed: Solution, incumbent: float) -> Fixing | None:
    """Drop every school alternative whose Lagrangian bound exceeds ``incumbent`` (the cost of a
    plan found); ``relaxed``: the relaxation's solution (its values and cone duals price the cones)."""
    if problem.allowed_unmet <= 0 or problem.county_must_meet or not separable(problem):
        return None
    K, n = problem.base.shape
    beta = scaled(problem, value_prices(problem, margin, relaxed))
    prices = variable_prices(problem, beta)
    drop = rule_drop(problem)
    below = (problem.base < 1 - EPS) & problem.in_rule[:, None]
    lower, upper = np.zeros((K, n)), np.ones((K, n))

    per_school = []  # (rows, options per section, alternatives' Lagrangian costs)
    constant = float((beta * problem.base).sum())
    for school in range(len(problem.records)):
        rows = np.flatnonzero(problem.section_school == school)
        options = []
        for i in rows:
            codes = np.flatnonzero(below[:, i])
            options.append(list(itertools.combinations(codes, min(problem.allowed_unmet, codes.size))))
        if int(np.prod([len(o) for o in options])) > MAX_ALTERNATIVES:
            return None
        combos = list(itertools.product(*options))
        z = np.zeros((len(combos), K, rows.size))
        for a, combo in enumerate(combos):
            for c, left in enumerate(combo):
                z[a, list(left), c] = 1.0
        level = 1 - drop[:, rows] * z  # (A, K, sections)
        need = np.where(below[:, rows], np.maximum(level - problem.base[:, rows], 0.0), 0.0)
        cost = np.zeros(len(combos))
        for k in range(K):
            cost += _indicator_cost(problem, k, school, rows, need[:, k, :], prices[k])
        if not np.isfinite(cost).any():
            return None  # no alternative within the caps: the rest of the planner says why
        per_school.append((rows, options, combos, cost))

    least = [float(cost[np.isfinite(cost)].min()) for *_, cost in per_school]
    bound = constant + sum(least)
    if not np.isfinite(bound):
        return None
    floor, fixed, still_open = np.inf, 0, 0
    for (rows, options, combos, cost), best in zip(per_school, least, strict=True):
        forced = bound + cost - best
        dropped = forced > incumbent
        if dropped.any():
            floor = min(floor, float(forced[dropped].min()))
        kept = [combos[a] for a in np.flatnonzero(~dropped)]
        if not kept:  # only when the incumbent is below the bound (noise): keep every option
            kept = combos
        decided = True
        for c, i in enumerate(rows):
            left = {combo[c] for combo in kept}
            if len(options[c]) > 1:
                decided = decided and len(left) == 1
            allowed_codes = sorted({code for option in left for code in option})
            unmet = np.flatnonzero(below[:, i])
            upper[np.setdiff1d(unmet, allowed_codes), i] = 0.0
            if len(left) == 1:
                lower[list(next(iter(left))), i] = 1.0
        if any(len(o) > 1 for o in options):
            fixed += decided
            still_open += not decided
    return Fixing(lower, upper, bound, floor, fixed, still_open)


def _indicator_cost(problem: GapProblem, k: int, school: int, rows: NDArray[np.intp], need: NDArray[np.float64],
                    price: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per alternative (rows of ``need``: V to gain per section), the least priced cost of indicator
    k's additions at the school that gain it, within the cap; inf where the cap cannot."""
    if problem.shared[k]:
        per_unit = problem.own[k, rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            amount = np.where(need > 0, need / per_unit, 0.0).max(axis=1)
        cap = problem.caps[k][school]
        p = float(price[school])
        out = amount * p if p >= 0 else np.full(amount.shape, cap * p)
        return np.where(np.isfinite(amount) & (amount <= cap + EPS), out, np.inf)
    per_unit = problem.own[k, rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        amounts = np.where(need > 0, need / per_unit, 0.0)
    total = amounts.sum(axis=1)
    cap = problem.caps[k][rows[0]]
    p = price[rows]
    out = amounts @ p
    if p.min() < 0:  # capped (``scaled``): the spare cap goes to the most negative price
        out = out + p.min() * (cap - total)
    return np.where(np.isfinite(total) & (total <= cap + EPS), out, np.inf)
