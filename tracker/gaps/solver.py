"""The convex program: least cost such that every section meets the per-school rule and every CV
is within its limit minus the margin (docs/development.md "The gap planner").

Variables are the additions (≥ 0, capped where the costs file says), scaled so a unit of a
variable raises a typical section's value by its threshold (the solver sees numbers near 1).
The CV of indicator k in stage g, weights wᵢ = Pᵢ ÷ P, mean V̄ = Σ wᵢVᵢ, is at most L when
‖(√wᵢ (Vᵢ − V̄))ᵢ‖₂ ≤ L·V̄ — a second-order cone, since V and V̄ are affine in the additions.
The per-school rule "``min_met`` of the rule's indicators met, the rest at least ``rest`` of the
threshold" is Vₖᵢ ≥ 1 − dₖᵢ·zₖᵢ with Σₖ zₖᵢ ≤ allowed, z ∈ {0, 1}, dₖᵢ = 1 − max(rest, baseₖᵢ)
(``rule_drop``): exact and linear in z, so z is either fixed (the planner chooses it) or relaxed to
[0, 1] for a lower bound.
cvxpy is imported here only, inside the function: `junheng --help` never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from tracker.gaps.problem import GapProblem

EPS = 1e-9


@dataclass(slots=True)
class Solution:
    amounts: list[NDArray[np.float64]]  # per indicator, in its unit, per school (shared) or section
    cost: float
    z: NDArray[np.float64] | None  # the relaxed choice (K × n) when z was a variable
    # per CV of ``cv_groups`` (0 where left out), the multiplier λ ≥ 0 of ‖r‖ ≤ L·V̄ in the objective's
    # units (万元 per unit of the cone's left side): the Lagrangian fixing's prices (``fixing``)
    cone_duals: NDArray[np.float64] | None = None


def variable_units(problem: GapProblem) -> NDArray[np.float64]:
    """The amount of each kind that lifts a typical section's value by one threshold."""
    units = np.ones(len(problem.codes))
    for k in range(len(problem.codes)):
        own = problem.effect[k][k]
        if own is not None and own.nnz:
            units[k] = 1.0 / float(np.median(np.abs(own.data)))
    return units


def rule_drop(problem: GapProblem) -> NDArray[np.float64]:
    """How far (K × n) an indicator left unmet (z = 1) may stay below 1: 1 − rest, or 1 − base when
    the value is already above rest and no addition lowers it (it cannot fall below base anyway).
    The same whole choices either way, but the relaxation is much tighter: with z relaxed, each
    section's allowed values are then exactly the convex hull of its choices (the 85 % floor alone
    lets a fractional z lower two values at once below where any choice leaves them)."""
    rest = 0.0 if problem.rest_ratio is None else problem.rest_ratio
    floor = np.where(problem.monotone[:, None], np.maximum(problem.base, rest), rest)
    return np.maximum(1.0 - floor, 0.0)


def cv_groups(problem: GapProblem) -> list[tuple[int, int, NDArray[np.intp]]]:
    """(indicator, stage, section rows) for every CV the standard limits and that is defined."""
    out = []
    for g, limit in enumerate(problem.cv_limit):
        rows = problem.stage_rows(g)
        if np.isnan(limit) or rows.size < 2:
            continue
        out.extend((k, g, rows) for k in range(len(problem.codes)))
    return out


def solve(problem: GapProblem, margin: float, z_fixed: NDArray[np.float64] | None,
          extra_margin: NDArray[np.float64] | None = None,
          only_cv: tuple[int, int] | None = None, with_cv: bool = True) -> Solution | None:
    """The least-cost continuous additions, or None when no additions within the caps satisfy it.

    ``z_fixed`` None relaxes the per-school choice to [0, 1]. ``extra_margin`` (K × G) tightens single
    CVs (the integer repair); ``only_cv``/``with_cv`` keep one or no CV constraint (diagnosis)."""
    import cvxpy as cp

    K, n = len(problem.codes), problem.n_sections
    units = variable_units(problem)
    x = [cp.Variable(problem.n_vars(k), nonneg=True) for k in range(K)]
    constraints = []
    values = []
    for k in range(K):
        expr = problem.base[k]
        for j, matrix in enumerate(problem.effect[k]):
            if matrix is not None:
                expr = expr + (matrix * units[j]) @ x[j]
        values.append(expr)

    # per-school rule: only where a value is below its threshold now (values only grow when every
    # addition adds, so what meets its threshold today keeps meeting it)
    drop = rule_drop(problem)
    below = (problem.base < 1 - EPS) | ~problem.monotone[:, None]
    below &= problem.in_rule[:, None]
    z = None
    if problem.allowed_unmet > 0 and z_fixed is None:
        ks, ns = np.nonzero(below)
        z = cp.Variable(ks.size, nonneg=True)
        constraints.append(z <= 1)
        per_section = sparse.csr_matrix((np.ones(ks.size), (ns, np.arange(ks.size))), shape=(n, ks.size))
        touched = np.unique(ns)
        constraints.append((per_section[touched] @ z) <= problem.allowed_unmet)
        start = 0
    for k in np.flatnonzero(problem.in_rule):
        rows = np.flatnonzero(below[k])
        if not rows.size:
            continue
        if problem.allowed_unmet <= 0:
            constraints.append(values[k][rows] >= 1)
        elif z is not None:
            constraints.append(values[k][rows] >= 1 - cp.multiply(drop[k, rows], z[start:start + rows.size]))
            start += rows.size
        else:
            constraints.append(values[k][rows] >= 1 - drop[k, rows] * z_fixed[k, rows])  # type: ignore[index]

    # CVs and county values
    cones: dict[int, cp.Constraint] = {}
    for c, (k, g, rows) in enumerate(cv_groups(problem) if with_cv else []):
        if only_cv is not None and (k, g) != only_cv:
            continue
        w = problem.students[rows] / problem.students[rows].sum()
        v = values[k][rows]
        # the mean as its own variable keeps the cone sparse (v − mean would otherwise tie every
        # section to every addition of the stage: n² entries)
        mean = cp.Variable()
        constraints.append(mean == w @ v)
        limit = problem.cv_limit[g] - margin - (0.0 if extra_margin is None else extra_margin[k, g])
        cones[c] = cp.norm(cp.multiply(np.sqrt(w), v - mean), 2) <= limit * mean
        constraints.append(cones[c])
    if problem.county_must_meet:
        for g in range(len(problem.cv_limit)):
            rows = problem.stage_rows(g)
            if rows.size:
                w = problem.students[rows] / problem.students[rows].sum()
                constraints += [w @ values[k][rows] >= 1 for k in range(K)]

    # caps
    for k in range(K):
        cap = problem.caps[k]
        if not np.isfinite(cap).any():
            continue
        if problem.shared[k]:
            finite = np.flatnonzero(np.isfinite(cap))
            constraints.append(x[k][finite] * units[k] <= cap[finite])
        else:
            for s in np.unique(problem.section_school[np.isfinite(cap)]):
                rows = np.flatnonzero(problem.section_school == s)
                constraints.append(cp.sum(x[k][rows]) * units[k] <= cap[rows[0]])

    weights = problem.cost * units
    scale = max(float(weights.max()), EPS)
    objective = cp.Minimize(sum((weights[k] / scale) * cp.sum(x[k]) for k in range(K)))
    prob = cp.Problem(objective, constraints)
    try:
        prob.solve(solver=cp.CLARABEL)
    except cp.SolverError:
        return None
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or x[0].value is None:
        return None
    amounts = [np.maximum(np.asarray(x[k].value, dtype=float), 0.0) * units[k] for k in range(K)]
    z_value = None
    if z is not None:
        z_value = np.zeros((K, n))
        z_value[below] = np.clip(z.value, 0, 1)
    duals = np.zeros(len(cv_groups(problem)))
    for c, cone in cones.items():
        dual = cone.dual_value
        duals[c] = max(float(np.asarray(dual).ravel()[0]), 0.0) * scale if dual is not None else 0.0
    return Solution(amounts, float(sum(problem.cost[k] * amounts[k].sum() for k in range(K))), z_value, duals)
