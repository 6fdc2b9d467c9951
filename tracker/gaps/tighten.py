"""Lowering a rounded plan while it holds: no addition is slack by a whole unit (or step).

Each trial changes one addition, so only the sections it reaches and the CVs of their stages are
re-checked: the CV from running sums (ΣPV, ΣPV²), a section's rule from its own column.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tracker.gaps.problem import AMOUNT_STEP, GapProblem
from tracker.gaps.solver import EPS, cv_groups


class PlanChecker:
    """The plan's values and running sums, updated one addition at a time."""

    def __init__(self, problem: GapProblem, margin: float, amounts: list[NDArray[np.float64]]):
        self.problem = problem
        self.values = problem.values(amounts)
        K = len(problem.codes)
        self.limits: dict[tuple[int, int], float] = {}
        self.p = problem.students
        self.total = np.zeros(len(problem.cv_limit))
        self.s1 = np.zeros((K, len(problem.cv_limit)))
        self.s2 = np.zeros((K, len(problem.cv_limit)))
        for g in range(len(problem.cv_limit)):
            rows = problem.stage_rows(g)
            self.total[g] = self.p[rows].sum()
            self.s1[:, g] = (self.values[:, rows] * self.p[rows]).sum(axis=1)
            self.s2[:, g] = (self.values[:, rows] ** 2 * self.p[rows]).sum(axis=1)
        for k, g, _ in cv_groups(problem):
            self.limits[(k, g)] = problem.cv_limit[g] - margin
        rest = problem.rest_ratio if problem.rest_ratio is not None else 0.0
        self.rest = rest if problem.allowed_unmet > 0 else 1.0
        # the reach of each addition kind: (indicator, csc matrix) pairs
        self.reach = [[(k, problem.effect[k][j].tocsc()) for k in range(K) if problem.effect[k][j] is not None]
                      for j in range(K)]

    def _section_ok(self, column: NDArray[np.float64]) -> bool:
        rule = self.problem.in_rule
        v = column[rule]
        unmet = int((v < 1 - EPS).sum())
        return unmet <= max(self.problem.allowed_unmet, 0) and not bool((v < self.rest - EPS).any())

    def try_change(self, j: int, var: int, delta: float) -> bool:
        """Apply ``delta`` to addition kind ``j`` at ``var`` if the plan still holds; say whether it did."""
        changes = []
        for k, matrix in self.reach[j]:
            start, end = matrix.indptr[var], matrix.indptr[var + 1]
            rows = matrix.indices[start:end]
            changes.append((k, rows, matrix.data[start:end] * delta))
        touched = np.unique(np.concatenate([rows for _, rows, _ in changes])) if changes else np.array([], int)
        new_values = self.values[:, touched].copy()
        s1, s2 = self.s1.copy(), self.s2.copy()
        for k, rows, d in changes:
            pos = np.searchsorted(touched, rows)
            old = new_values[k, pos]
            new = old + d
            new_values[k, pos] = new
            for r, o, nv in zip(rows, old, new, strict=True):
                g = self.problem.section_stage[r]
                s1[k, g] += self.p[r] * (nv - o)
                s2[k, g] += self.p[r] * (nv * nv - o * o)
        for c in range(touched.size):
            if not self._section_ok(new_values[:, c]):
                return False
        for k, rows, _ in changes:
            for g in set(self.problem.section_stage[rows].tolist()):
                limit = self.limits.get((k, g))
                if limit is None:
                    continue
                mean = s1[k, g] / self.total[g]
                var = max(s2[k, g] / self.total[g] - mean * mean, 0.0)
                if mean <= 0 or np.sqrt(var) > (limit + EPS) * mean:
                    return False
        if self.problem.county_must_meet:
            for k, rows, _ in changes:
                for g in set(self.problem.section_stage[rows].tolist()):
                    if s1[k, g] / self.total[g] < 1 - EPS:
                        return False
        self.values[:, touched] = new_values
        self.s1, self.s2 = s1, s2
        return True


def tighten(problem: GapProblem, margin: float, amounts: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    """Lower each whole addition one unit at a time, and each amount one step, while the plan holds
    (dearest first). The caller has checked that the plan holds before."""
    amounts = [a.copy() for a in amounts]
    checker = PlanChecker(problem, margin, amounts)
    order = sorted(((problem.cost[k] * (1.0 if problem.integer[k] else _step(problem, k)), k, v)
                    for k in range(len(problem.codes)) for v in np.flatnonzero(amounts[k] > EPS)), reverse=True)
    # the CV is not monotone in one school's addition (lowering another school can make room),
    # so passes repeat until one changes nothing
    lowered = {(k, v): False for _, k, v in order}
    changed = True
    while changed:
        changed = False
        for _, k, v in order:
            step = 1.0 if problem.integer[k] else _step(problem, k)
            if not problem.integer[k] and lowered[(k, v)]:
                continue  # an amount was rounded up by less than one step: one step down is all there is
            while amounts[k][v] >= step - EPS:
                if not checker.try_change(k, v, -step):
                    break
                amounts[k][v] = round(amounts[k][v] - step, 10)
                changed = True
                lowered[(k, v)] = True
                if not problem.integer[k]:
                    break
    return amounts


def _step(problem: GapProblem, k: int) -> float:
    return AMOUNT_STEP.get(problem.units[k], 0.01)
