"""The 6-of-7 choice made exact when a CV (or Hunan county value) binds: a small branch-and-bound.

The per-school rule is Vₖᵢ ≥ 1 − (1 − rest)·zₖᵢ, Σₖ zₖᵢ ≤ allowed, z ∈ {0, 1} (``solver``). With a
CV binding, the schools are tied together and no per-school enumeration is exact, and no MISOCP
solver is installed. So: branch-and-bound over z, each node a convex solve (Clarabel) with z
relaxed to [0, 1] inside the node's bounds.

- A node's relaxed cost bounds from below every choice under it; a node whose bound is not below
  the incumbent (the best whole choice found) is pruned.
- Integrality is judged on the z the node's values *need*, ẑₖᵢ = clip((1 − Vₖᵢ) ÷ (1 − rest), 0, 1),
  not on the solver's z: with z not in the objective, an interior-point solver returns z anywhere in
  its slack range (0.5 on an indicator already at its threshold), which would branch for nothing. If
  per section no more than ``allowed`` entries need z > 0, the node's additions satisfy the whole
  choice z = [ẑ > 0] already: that choice costs the node's bound, and the node is a leaf.
- Otherwise branch on the most fractional needed z of a section that needs too many; depth first,
  the child nearer the relaxed value first (it tends to find a good incumbent early).
- A section with no more unmet indicators than allowed gets z = 1 on them all (dominant: it only
  relaxes), when every indicator of the rule is monotone (no addition lowers it).

All costs here are the continuous program's (amounts not yet rounded): exact means the choice is
optimal for it, as when no CV binds (``planner``). A node limit keeps the time bounded; when hit,
the choice is the incumbent, ``exact`` is False and ``bound`` (the least bound of the open nodes)
shows the gap honestly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tracker.gaps.problem import GapProblem
from tracker.gaps.solver import EPS, Solution, solve

# nodes per search: at most NODE_LIMIT, and at most NODE_WORK ÷ sections (a node's solve grows with
# the county: ~0.3 s at 300 schools on a loaded 2-core machine), so a big county stops in seconds
# with the best choice found and its gap rather than proving for minutes
NODE_LIMIT = 200
NODE_WORK = 15_000
MIN_NODES = 10
# a node is pruned when its bound is within this (relative) of the incumbent: the solver's own
# tolerance is 1e-8 relative, so a smaller gap than this is noise, not a better choice
PRUNE_TOLERANCE = 1e-6
NEED_TOLERANCE = 1e-5  # a needed z below this is zero (solver noise of ~1e-7 on a value)


@dataclass(slots=True)
class ChoiceResult:
    z: NDArray[np.float64]  # the chosen whole z (K × n)
    solution: Solution  # the continuous plan with that z fixed
    bound: float  # a lower bound on every choice's continuous cost
    exact: bool  # the choice is proven optimal (bound equals the cost within the tolerance)
    nodes: int  # nodes solved (the root included)


def needed_z(problem: GapProblem, solution: Solution) -> NDArray[np.float64]:
    """ẑ (K × n): how far below its threshold each value of the rule stays, in units of (1 − rest)."""
    rest = problem.rest_ratio if problem.rest_ratio is not None else 0.0
    values = problem.values(solution.amounts)
    need = np.clip((1.0 - values) / (1.0 - rest), 0.0, 1.0)
    need[~problem.in_rule] = 0.0
    need[need < NEED_TOLERANCE] = 0.0
    return need


def root_bounds(problem: GapProblem) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """z's bounds at the root: [0, 1], and 1 on the unmet indicators of the sections that may leave
    them all (dominant only when no addition lowers an indicator of the rule)."""
    K, n = problem.base.shape
    lower, upper = np.zeros((K, n)), np.ones((K, n))
    if problem.monotone[problem.in_rule].all():
        unmet = (problem.base < 1 - EPS) & problem.in_rule[:, None]
        easy = unmet.sum(axis=0) <= problem.allowed_unmet
        lower[:, easy] = unmet[:, easy]
    return lower, upper


def branch_and_bound(problem: GapProblem, margin: float, incumbent: tuple[NDArray[np.float64], Solution] | None,
                     node_limit: int | None = None) -> ChoiceResult | None:
    """The least-cost whole choice, from ``incumbent`` (a known choice and its fixed solve) if any.

    None when no choice is feasible (the root relaxation is infeasible, or no leaf was found)."""
    if node_limit is None:
        node_limit = max(MIN_NODES, min(NODE_LIMIT, NODE_WORK // max(problem.n_sections, 1)))
    best_z, best = incumbent if incumbent is not None else (None, None)
    best_cost = best.cost if best is not None else np.inf
    # a stack of (bounds, the parent's bound): depth first
    stack: list[tuple[NDArray[np.float64], NDArray[np.float64], float]] = [(*root_bounds(problem), -np.inf)]
    nodes = 0
    unexplored = False
    while stack and nodes < node_limit:
        lower, upper, parent = stack.pop()
        if parent >= best_cost - PRUNE_TOLERANCE * max(abs(best_cost), 1.0):
            continue  # the incumbent improved since this node was pushed
        nodes += 1
        relaxed = solve(problem, margin, None, z_bounds=(lower, upper))
        if relaxed is None:
            continue  # no choice under this node is feasible
        if relaxed.cost >= best_cost - PRUNE_TOLERANCE * max(abs(best_cost), 1.0):
            continue
        need = needed_z(problem, relaxed)
        used = (need > 0) | (lower > 0.5)
        over = used.sum(axis=0) > problem.allowed_unmet
        if not over.any():
            # the node's additions already satisfy a whole choice: confirm it with z fixed (the
            # relaxed solve met the rule only within the solver's tolerance)
            z = used.astype(float)
            fixed = solve(problem, margin, z)
            if fixed is not None and fixed.cost < best_cost:
                best_z, best, best_cost = z, fixed, fixed.cost
            continue
        # the most fractional needed z among the sections that need too many
        fraction = np.where(used & over[None, :] & (lower < upper), np.minimum(need, 1.0 - need), -1.0)
        k, i = np.unravel_index(int(np.argmax(fraction)), fraction.shape)
        if fraction[k, i] < 0:
            # nothing left to branch on (all fixed; only solver noise gets here): the subtree is
            # dropped, so nothing is proven
            unexplored = True
            continue
        down_lower, down_upper = lower.copy(), upper.copy()
        down_upper[k, i] = 0.0  # the indicator must reach its threshold
        up_lower, up_upper = lower.copy(), upper.copy()
        up_lower[k, i] = 1.0  # the indicator may stay at ≥ rest; the section's others count against it
        down, up = (down_lower, down_upper, relaxed.cost), (up_lower, up_upper, relaxed.cost)
        # pushed last is explored first: the side the relaxation leans to
        stack.extend([down, up] if need[k, i] >= 0.5 else [up, down])
    if best is None or best_z is None:
        return None
    open_bounds = [parent for _, _, parent in stack]
    bound = min([best_cost, *open_bounds]) if nodes >= node_limit and stack else best_cost
    exact = not unexplored and (not stack or bound >= best_cost - PRUNE_TOLERANCE * max(abs(best_cost), 1.0))
    return ChoiceResult(best_z, best, min(bound, best_cost), exact, nodes)
