"""The 6-of-7 choice made exact when a CV (or Hunan county value) binds: outer approximation.

The per-school rule is Vₖᵢ ≥ 1 − dₖᵢ·zₖᵢ, Σₖ zₖᵢ ≤ allowed, z ∈ {0, 1} (``solver``), and a CV ≤ L is
a second-order cone, so the whole problem is a mixed-integer SOCP. No MISOCP solver is installed,
but a MILP solver is (HiGHS, through ``scipy.optimize.milp``; highspy's own class prints a banner
on stdout). So (Duran–Grossmann outer approximation):

- the **master** is a MILP: the additions (continuous), z binary where a value is below its
  threshold, the rule, county values and caps as they are (all linear), and each cone
  ‖r‖₂ ≤ L·m (rᵢ = √wᵢ (Vᵢ − m), m = Σ wᵢVᵢ) disaggregated — Σᵢ sᵢ ≤ L·m with rᵢ² ≤ sᵢ·L·m per
  section — and each of those replaced by tangent cuts sᵢ ≥ 2ρrᵢ − ρ²·L·m (ρ = rᵢ ÷ L·m at the
  point; rᵢ²/(L·m) is convex and homogeneous, so the tangent passes through 0). One cut per
  section rather than one per CV: the polyhedron hugs the cone far better for the same points
  (Vielma et al., "Extended formulations in mixed-integer conic quadratic programming", 2017).
  The cuts contain the cone, so the master's dual bound is a valid LOWER bound on every choice;
- its z, fixed, is solved as the convex SOCP (Clarabel, ``solve(problem, margin, z)``): a feasible
  plan, an UPPER bound; cuts are added at that plan's values (then the master cannot propose that
  z again with a lower cost than its SOCP's) and at the master's own values where they break a
  cone (the cutting-plane step);
- repeat until (upper − lower) ≤ ``TOLERANCE`` × upper: the choice is proven optimal within it.

Before the first master, the Lagrangian fixing (``fixing``: the cones priced by the relaxation's
duals, the rest separating per school) gives a bound on every choice and drops each school option
whose bound exceeds an incumbent's cost; the master keeps z within the options left. The bound is
valid for every choice and each dropped option's bound is above the incumbent, so the search's
bound is min(master's, dropped options') and never above the optimum; where the fixing's bound
alone reaches the incumbent within ``TOLERANCE`` the choice is proven with no master at all.

Cuts start at the points the planner already solved (the relaxation's optimum, the candidate
choices), which makes the master's LP relaxation the SOCP relaxation already. A section with no
more unmet indicators than allowed gets z = 1 on them all (dominant: it only relaxes) when every
indicator of the rule is monotone. The master is rebuilt per iteration (``milp`` takes no rows to
add; HiGHS restarts a MIP's tree after new rows anyway). All costs are the continuous program's
(amounts not yet rounded): exact means the choice is optimal for it. An iteration limit and a time
budget keep the time bounded; when hit, the choice is the best found, ``exact`` is False and
``bound`` (the best master dual bound, or the relaxation's) shows the gap honestly.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from tracker.gaps.fixing import Fixing
from tracker.gaps.problem import GapProblem
from tracker.gaps.solver import EPS, Solution, cv_groups, rule_drop, solve, variable_units

# proven means (upper − lower) ≤ TOLERANCE × upper; the master is solved to a tenth of it
TOLERANCE = 1e-4
MASTER_GAP = 3e-5
ITERATION_LIMIT = 25
# the search's time: a small county is proven in a fraction of it; in a large one (300 schools) the
# MILP's root alone can take longer, so it stops with the best choice found and the master's bound
# (still valid) rather than prove for minutes. Each master gets what is left, at least the minimum.
SEARCH_SECONDS = 1.5
MIN_MASTER_SECONDS = 0.5
CUT_SLACK = 1e-7  # a master point breaking a cone by less than this (g, relative to V̄) gets no cut


@dataclass(slots=True)
class ChoiceResult:
    z: NDArray[np.float64]  # the chosen whole z (K × n)
    solution: Solution  # the continuous plan with that z fixed
    bound: float  # a lower bound on every choice's continuous cost
    exact: bool  # the choice is proven optimal (bound within TOLERANCE of the cost)
    iterations: int  # master MILPs solved
    fixed: int = 0  # schools whose choice the Lagrangian fixing settled (``fixing``)


def root_bounds(problem: GapProblem) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """z's bounds: [0, 1], and 1 on the unmet indicators of the sections that may leave them all
    (dominant only when no addition lowers an indicator of the rule)."""
    K, n = problem.base.shape
    lower, upper = np.zeros((K, n)), np.ones((K, n))
    if problem.monotone[problem.in_rule].all():
        unmet = (problem.base < 1 - EPS) & problem.in_rule[:, None]
        easy = unmet.sum(axis=0) <= problem.allowed_unmet
        lower[:, easy] = unmet[:, easy]
    return lower, upper


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """HiGHS prints a debugging line to the process's stdout (file descriptor 1) now and then, even
    with its output off; `junheng plan-gaps --json` must print only its JSON there, so during a
    solve fd 1 points at stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class Master:
    """The MILP. Columns: the additions x (scaled as in ``solve``), one z per value below its
    threshold, then per CV (indicator k, stage g) its mean m and one s per section (the cone,
    disaggregated). Rows: the rule, the per-section count, county values, teacher caps, and per CV
    m = Σ wᵢVᵢ, Σᵢ sᵢ ≤ L·m and the cuts sᵢ ≥ 2ρrᵢ − ρ²·L·m (rᵢ = √wᵢ (Vᵢ − m))."""

    def __init__(self, problem: GapProblem, margin: float,
                 z_bounds: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None):
        self.problem = problem
        K, n = problem.base.shape
        units = variable_units(problem)
        sizes = [problem.n_vars(k) for k in range(K)]
        self.n_x = int(sum(sizes))
        # V (K·n, flattened) = base + vmap @ x
        blocks = [[(matrix * units[j]) if matrix is not None else sparse.csr_matrix((n, sizes[j]))
                   for j, matrix in enumerate(problem.effect[k])] for k in range(K)]
        self.vmap = sparse.csr_matrix(sparse.bmat(blocks, format="csr"))
        self.base = problem.base.ravel()
        below = ((problem.base < 1 - EPS) | ~problem.monotone[:, None]) & problem.in_rule[:, None]
        self.flat = np.flatnonzero(below.ravel())  # the z's, as flat (k, i) positions
        self.n_z = self.flat.size
        self.groups = [(k, g, stage, problem.cv_limit[g] - margin) for k, g, stage in cv_groups(problem)]
        self.m_col = self.n_x + self.n_z + np.arange(len(self.groups))
        s_start = self.n_x + self.n_z + len(self.groups)
        self.s_cols = []
        for _, _, stage, _ in self.groups:
            self.s_cols.append(s_start + np.arange(stage.size))
            s_start += stage.size
        self.n_cols = s_start

        z_lower, z_upper = root_bounds(problem)
        if z_bounds is not None:  # the Lagrangian fixing's (``fixing``): within the root's
            z_lower, z_upper = np.maximum(z_lower, z_bounds[0]), np.minimum(z_upper, z_bounds[1])
            z_upper = np.maximum(z_upper, z_lower)
        x_upper = np.concatenate([problem.caps[k] / units[k] if problem.shared[k] else np.full(sizes[k], np.inf)
                                  for k in range(K)])
        rest_cols = self.n_cols - self.n_x - self.n_z
        self.lower = np.concatenate([np.zeros(self.n_x), z_lower.ravel()[self.flat], np.zeros(rest_cols)])
        self.upper = np.concatenate([x_upper, z_upper.ravel()[self.flat], np.full(rest_cols, np.inf)])
        self.cost = np.concatenate([np.repeat(problem.cost * units, sizes), np.zeros(self.n_cols - self.n_x)])
        self.integrality = np.zeros(self.n_cols)
        self.integrality[self.n_x:self.n_x + self.n_z] = 1

        self.rows: list[sparse.csr_matrix] = []
        self.row_lo: list[NDArray[np.float64]] = []
        self.row_hi: list[NDArray[np.float64]] = []
        # rule: V + drop·z ≥ 1 on every value below its threshold (``rule_drop``: the tight form)
        z_cols = self.n_x + np.arange(self.n_z)
        self._add(self._x_part(self.vmap[self.flat]) + self._at(np.arange(self.n_z), z_cols, rule_drop(problem).ravel()[self.flat], self.n_z),
                  1 - self.base[self.flat], np.inf)
        # at most ``allowed`` z per section (only where the section could use more)
        section = self.flat % n
        count = np.bincount(section, minlength=n)
        crowded = np.flatnonzero(count > problem.allowed_unmet)
        if crowded.size:
            where = {int(i): r for r, i in enumerate(crowded)}
            keep = np.isin(section, crowded)
            rows = np.array([where[int(i)] for i in section[keep]], dtype=np.intp)
            self._add(self._at(rows, z_cols[keep], 1.0, crowded.size), -np.inf, float(problem.allowed_unmet))
        # county values (Hunan): the weighted mean of each indicator per stage at least its threshold
        if problem.county_must_meet:
            for g in range(len(problem.cv_limit)):
                stage = problem.stage_rows(g)
                if stage.size:
                    w = problem.students[stage] / problem.students[stage].sum()
                    for k in range(K):
                        self._add(self._x_part(sparse.csr_matrix(w @ self.vmap[k * n + stage])),
                                  1 - w @ problem.base[k, stage], np.inf)
        # teacher caps are per school, all its sections together
        offset = np.concatenate([[0], np.cumsum(sizes)])
        for k in np.flatnonzero(~problem.shared):
            cap = problem.caps[k]
            for school in np.unique(problem.section_school[np.isfinite(cap)]):
                secs = np.flatnonzero(problem.section_school == school)
                self._add(self._at(np.zeros(secs.size, np.intp), offset[k] + secs, 1.0, 1), -np.inf,
                          cap[secs[0]] / units[k])
        # per CV: its mean, and the disaggregated cone Σ sᵢ ≤ L·m
        self.weights = []
        for c, (k, _, stage, limit) in enumerate(self.groups):
            w = problem.students[stage] / problem.students[stage].sum()
            self.weights.append(w)
            mean = self._x_part(sparse.csr_matrix(-(w @ self.vmap[k * n + stage]))) + self._at([0], [self.m_col[c]], 1.0, 1)
            self._add(mean, float(w @ problem.base[k, stage]), float(w @ problem.base[k, stage]))
            self._add(self._at(np.zeros(stage.size + 1, np.intp), np.append(self.s_cols[c], self.m_col[c]),
                               np.append(np.ones(stage.size), -limit), 1), -np.inf, 0.0)
        self.exclusions = 0

    def _x_part(self, matrix: sparse.spmatrix) -> sparse.csr_matrix:
        return sparse.csr_matrix(sparse.hstack([matrix, sparse.csr_matrix((matrix.shape[0], self.n_cols - self.n_x))]))

    def _at(self, rows, cols, values, n_rows: int) -> sparse.csr_matrix:  # noqa: ANN001
        rows, cols = np.asarray(rows), np.asarray(cols)
        return sparse.csr_matrix((np.broadcast_to(values, rows.shape).astype(float), (rows, cols)),
                                 shape=(n_rows, self.n_cols))

    def _add(self, matrix: sparse.csr_matrix, lo, hi) -> None:  # noqa: ANN001
        self.rows.append(matrix)
        self.row_lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (matrix.shape[0],)))
        self.row_hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (matrix.shape[0],)))

    def add_cuts(self, values: NDArray[np.float64], only_violated: bool = False) -> int:
        """Tangent cuts sᵢ ≥ 2ρᵢrᵢ − ρᵢ²·L·m of each section's rᵢ² ≤ sᵢ·L·m at ``values`` (K × n),
        ρᵢ = rᵢ ÷ (L·m) there; with ``only_violated``, only for the CVs those values break (the
        master's own point). Returns how many CVs got cuts."""
        n = self.problem.n_sections
        added = 0
        for c, (k, _, stage, limit) in enumerate(self.groups):
            w = self.weights[c]
            v = values[k, stage]
            mean = float(w @ v)
            if mean <= EPS:
                continue
            r = np.sqrt(w) * (v - mean)
            if only_violated and float(np.sqrt(r @ r)) - limit * mean <= CUT_SLACK * mean:
                continue
            rho = r / (limit * mean)
            # 2ρ√w·(base + vmap x) − (2ρ√w + ρ²L)·m − s ≤ −2ρ√w·base
            a = 2 * rho * np.sqrt(w)
            line = self._x_part(sparse.diags(a) @ self.vmap[k * n + stage])
            line = line + self._at(np.arange(stage.size), np.full(stage.size, self.m_col[c]), -(a + rho**2 * limit),
                                   stage.size)
            line = line + self._at(np.arange(stage.size), self.s_cols[c], -1.0, stage.size)
            self._add(sparse.csr_matrix(line), -np.inf, -a * self.problem.base[k, stage])
            added += 1
        return added

    def exclude(self, z: NDArray[np.float64]) -> None:
        """A no-good cut: this whole z (its SOCP is infeasible) is never proposed again."""
        ones = z.ravel()[self.flat] > 0.5
        self._add(self._at(np.zeros(self.n_z, np.intp), self.n_x + np.arange(self.n_z), np.where(ones, 1.0, -1.0), 1),
                  -np.inf, ones.sum() - 1.0)
        self.exclusions += 1

    def solve(self, seconds: float) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None, float] | None:
        """(values K × n, z K × n, dual bound) of the master's optimum; None when it is infeasible.
        At the time limit the bound is still valid, the point is the best found (None if none)."""
        from scipy.optimize import Bounds, LinearConstraint, milp

        matrix = sparse.vstack(self.rows, format="csr")
        with stdout_to_stderr():
            result = milp(self.cost, integrality=self.integrality, bounds=Bounds(self.lower, self.upper),
                          constraints=LinearConstraint(matrix, np.concatenate(self.row_lo),
                                                       np.concatenate(self.row_hi)),
                          options={"mip_rel_gap": MASTER_GAP, "time_limit": seconds, "disp": False})
        if result.status == 2:
            return None
        bound = getattr(result, "mip_dual_bound", None)
        bound = -np.inf if bound is None or not np.isfinite(bound) else float(bound)
        if result.x is None:
            return None, None, bound
        x = result.x[: self.n_x]
        values = (self.base + self.vmap @ x).reshape(self.problem.base.shape)
        z = np.zeros(self.problem.base.size)
        z[self.flat] = np.round(result.x[self.n_x:self.n_x + self.n_z])
        return values, z.reshape(self.problem.base.shape), bound


def outer_approximation(problem: GapProblem, margin: float, known: list[tuple[NDArray[np.float64], Solution]],
                        points: list[Solution], floor: float = -np.inf, iteration_limit: int | None = None,
                        seconds: float | None = None, fixing: Fixing | None = None) -> ChoiceResult | None:
    """The least-cost whole choice. ``known``: choices already solved with z fixed (incumbents);
    ``points``: other solved plans whose values start the cuts (the relaxation); ``floor``: a known
    lower bound (the relaxation's cost); ``fixing``: the options left per section, its bound on
    every choice and on those it dropped. None when no choice is feasible."""
    iteration_limit = ITERATION_LIMIT if iteration_limit is None else iteration_limit
    seconds = SEARCH_SECONDS if seconds is None else seconds
    started = time.monotonic()
    outside = np.inf  # a lower bound on the choices the fixing dropped (the master never sees them)
    if fixing is not None:
        floor, outside = max(floor, fixing.bound), fixing.floor
    master: Master | None = None  # built only when the bounds in hand do not prove the choice already
    best: tuple[NDArray[np.float64], Solution] | None = min(known, key=lambda c: c[1].cost) if known else None
    seen = {z.tobytes() for z, _ in known}
    lower, iterations = floor, 0

    def proven() -> bool:
        return best is not None and best[1].cost - min(lower, outside) <= TOLERANCE * max(abs(best[1].cost), 1.0)

    while not proven() and iterations < iteration_limit:
        left = seconds - (time.monotonic() - started)
        if iterations and left <= 0:
            break
        iterations += 1
        if master is None:
            master = Master(problem, margin, None if fixing is None else (fixing.lower, fixing.upper))
            for solution in [*points, *(s for _, s in known)]:
                master.add_cuts(problem.values(solution.amounts))
        out = master.solve(max(left, MIN_MASTER_SECONDS))
        if out is None:
            # nothing left within the cuts: no choice is cheaper than the incumbent (or none is feasible)
            lower = best[1].cost if best is not None else np.inf
            break
        values, z, bound = out
        lower = max(lower, bound)
        if proven() or values is None or z is None:
            continue
        if z.tobytes() not in seen:
            seen.add(z.tobytes())
            fixed = solve(problem, margin, z)
            if fixed is None:
                master.exclude(z)
            else:
                master.add_cuts(problem.values(fixed.amounts))
                if best is None or fixed.cost < best[1].cost:
                    best = (z, fixed)
        master.add_cuts(values, only_violated=True)
    if best is None:
        return None
    return ChoiceResult(best[0], best[1], min(lower, outside, best[1].cost), proven(), iterations,
                        0 if fixing is None else fixing.fixed)
