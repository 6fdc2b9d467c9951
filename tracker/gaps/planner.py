"""The gap planner (补短板测算): the least-cost additions that make the assessment pass.

1. The choice per section of which indicators may stay below the threshold (at ≥ 85 %): a
   section with no more unmet indicators than allowed leaves them all (dominant: it only relaxes);
   otherwise the options are enumerated per school (its sections' options together, at the cost
   of reaching each level alone, caps respected). Solved with that choice fixed: when no CV (nor
   Hunan county value) binds at the optimum, the schools are independent and the choice is exact.
2. Otherwise the relaxation (every choice relaxed to [0, 1], amounts continuous; tight: each
   section's relaxed set is the convex hull of its choices, ``solver.rule_drop``) gives a lower
   bound on any plan's cost, and its largest z per section is a second candidate choice; both are
   the first incumbents; the relaxation's cone duals price the CVs so that the rest separates per
   school (``fixing``: a Lagrangian bound, and each school option dearer than an incumbent dropped),
   then an outer approximation over the options left (``choice``: a MILP master with the cones as
   tangent cuts, each master's choice solved as the SOCP), which proves the optimal choice within
   1e-4 or, at its iteration or time limit, keeps the best found and reports the bound.
3. Whole things (people, rooms) are rounded up, amounts up to 0.1 m² / 0.01 万元; a CV the
   rounding pushed over gets a tighter limit and is solved again. Then each whole addition is
   lowered one unit at a time (an amount one step) while the plan still holds (``tighten``), so
   no counted addition is slack.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from tracker.gaps.choice import outer_approximation
from tracker.gaps.fixing import fix_choices
from tracker.gaps.problem import AMOUNT_STEP, GapProblem
from tracker.gaps.solver import EPS, Solution, cv_groups, solve
from tracker.gaps.tighten import tighten
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import STAGE_NAMES, STAGES

REPAIR_ROUNDS = 6


@dataclass(frozen=True, slots=True)
class Addition:
    school: str
    school_key: str
    stage: str | None  # "primary" | "junior" for teachers; None for whole-school facilities
    indicator: str
    amount: float
    unit: str
    cost: float  # 万元
    township: str | None = None


@dataclass(slots=True)
class Outcome:
    """A plan's additions as arrays (per indicator) and what they cost."""

    amounts: list[NDArray[np.float64]]
    cost: float
    problems: list[str] = field(default_factory=list)  # what it leaves unmet (Chinese); empty: it holds


@dataclass(slots=True)
class PlanResult:
    problem: GapProblem
    margin: float
    feasible: bool
    plan: Outcome | None
    lower_bound: float | None  # the relaxation's cost
    continuous_cost: float | None  # the chosen continuous plan before rounding
    naive: Outcome
    naive_additions: list[Addition]
    additions: list[Addition]
    infeasible: list[str]  # the constraints that cannot be met (Chinese)
    choice: str = ""  # which candidate choice won
    exact_choice: bool = False  # the 6-of-7 choice is proven optimal (by the schools' separation or outer approximation)
    choice_iterations: int = 0  # outer-approximation master MILPs solved (0: not needed, no CV or county value binds)
    choice_fixed: int = 0  # schools whose choice the Lagrangian fixing settled before the master


def violations(problem: GapProblem, values: NDArray[np.float64], margin: float) -> list[str]:
    """What the values leave unmet, in Chinese; empty when the plan's constraints all hold."""
    out = []
    rule = problem.in_rule[:, None]
    unmet = (values < 1 - EPS) & rule
    rest = problem.rest_ratio
    far = (values < (rest if rest is not None else 0.0) - EPS) & rule if problem.allowed_unmet > 0 else unmet
    bad = (unmet.sum(axis=0) > max(problem.allowed_unmet, 0)) | far.any(axis=0)
    for i in np.flatnonzero(bad)[:5]:
        out.append(f"{problem.records[problem.section_school[i]].name}"
                   f"（{STAGE_NAMES[STAGES[problem.section_stage[i]]]}）未达到每校标准")
    if bad.sum() > 5:
        out.append(f"另有 {int(bad.sum()) - 5} 个学段未达到每校标准")
    for k, g, rows in cv_groups(problem):
        cv = _cv(values[k, rows], problem.students[rows])
        limit = problem.cv_limit[g] - margin
        if cv > limit + EPS:
            out.append(f"{STAGE_NAMES[STAGES[g]]}指标 {problem.codes[k]} 的差异系数 {cv:.4f} 超过 {limit:.4f}")
    if problem.county_must_meet:
        for g in range(len(STAGES)):
            rows = problem.stage_rows(g)
            for k in range(len(problem.codes)):
                if rows.size and _mean(values[k, rows], problem.students[rows]) < 1 - EPS:
                    out.append(f"{STAGE_NAMES[STAGES[g]]}指标 {problem.codes[k]} 的县域值未达标")
    return out


def _mean(v: NDArray[np.float64], p: NDArray[np.float64]) -> float:
    return float((v * p).sum() / p.sum())


def _cv(v: NDArray[np.float64], p: NDArray[np.float64]) -> float:
    mean = _mean(v, p)
    return float(np.sqrt((p * (v - mean) ** 2).sum() / p.sum()) / mean) if mean > 0 else math.inf


def plan_gaps(problem: GapProblem, margin: float = 0.02) -> PlanResult:
    naive = naive_plan(problem)
    if problem.n_sections == 0:  # no school takes part: nothing to add, nothing to solve
        nothing = Outcome([np.zeros(problem.n_vars(k)) for k in range(len(problem.codes))], 0.0)
        return _result(problem, margin, nothing, 0.0, 0.0, naive, [])
    enumerated = choice_by_enumeration(problem)
    first = solve(problem, margin, enumerated)
    if first is not None and not coupling_binds(problem, margin, first):
        # nothing ties the schools together at this optimum (no CV at its target, no county value at
        # its threshold), so the problem separates per school, where the enumeration is exact: this
        # z is optimal and its continuous cost bounds every plan from below
        return _finish(problem, margin, naive, first, enumerated, first.cost, "逐校枚举（精确）", exact=True)
    if first is not None and problem.allowed_unmet <= 0:
        # every indicator must meet its threshold (Hunan): there is no choice, the solve is the optimum
        return _finish(problem, margin, naive, first, enumerated, first.cost, "无可选项（精确）", exact=True)
    relaxed = solve(problem, margin, None)
    if relaxed is None:
        return _result(problem, margin, None, None, None, naive, diagnose(problem, margin))
    known: list[tuple[str, NDArray[np.float64], Solution]] = []
    if first is not None:
        known.append(("逐校枚举", enumerated, first))
    if relaxed.z is not None:
        z = choice_from_relaxation(problem, relaxed.z)
        if not np.array_equal(z, enumerated):
            solution = solve(problem, margin, z)
            if solution is not None:
                known.append(("松弛解", z, solution))
    # the candidates are the first incumbents of the outer approximation, and the relaxation's
    # optimum its first cuts; it proves the choice or, at its iteration limit, keeps the best it
    # found and says how far from proven (``choice``)
    # the relaxation's cone prices settle most schools' choices first (``fixing``)
    fixing = fix_choices(problem, margin, relaxed, min(s.cost for _, _, s in known)) if known else None
    searched = outer_approximation(problem, margin, [(z, s) for _, z, s in known], [relaxed], relaxed.cost,
                                   fixing=fixing)
    if searched is None:
        return _result(problem, margin, None, relaxed.cost, None, naive, diagnose(problem, margin))
    name = "外逼近（精确）" if searched.exact else "外逼近（未证明：达到迭代或时间上限）"
    if searched.exact and searched.iterations == 0:
        name = "拉格朗日下界（精确）"  # the fixing's bound alone met an incumbent: no master was needed
    for candidate, _, solution in known:
        if searched.solution is solution:
            name = f"{candidate}，{name}"  # a candidate was already the best
    result = _finish(problem, margin, naive, searched.solution, searched.z, max(searched.bound, relaxed.cost),
                     name, exact=searched.exact)
    result.choice_iterations = searched.iterations
    result.choice_fixed = searched.fixed
    return result


def coupling_binds(problem: GapProblem, margin: float, solution: Solution, slack: float = 1e-6) -> bool:
    """Whether a CV sits at its target, or (Hunan) a county value at its threshold, at the solution."""
    values = problem.values(solution.amounts)
    for k, g, rows in cv_groups(problem):
        if _cv(values[k, rows], problem.students[rows]) >= problem.cv_limit[g] - margin - slack:
            return True
    if problem.county_must_meet:
        for g in range(len(STAGES)):
            rows = problem.stage_rows(g)
            if rows.size and any(_mean(values[k, rows], problem.students[rows]) <= 1 + slack
                                 for k in range(len(problem.codes))):
                return True
    return False


def _finish(problem: GapProblem, margin: float, naive: Outcome, solution: Solution, z: NDArray[np.float64],
            bound: float, name: str, *, exact: bool) -> PlanResult:
    outcome = round_plan(problem, margin, solution, z)
    # the bound is below both; above them only by the solver's tolerance (1e-8 relative)
    lower = min(bound, solution.cost, outcome.cost)
    result = _result(problem, margin, outcome, lower, min(solution.cost, outcome.cost), naive,
                     [] if not outcome.problems else outcome.problems)
    result.choice = name
    result.exact_choice = exact
    return result


def _result(problem: GapProblem, margin: float, plan: Outcome | None, lower: float | None,
            continuous: float | None, naive: Outcome, infeasible: list[str]) -> PlanResult:
    feasible = plan is not None and not plan.problems
    return PlanResult(problem, margin, feasible, plan, lower, continuous, naive, additions_of(problem, naive.amounts),
                      additions_of(problem, plan.amounts) if plan is not None else [], infeasible)


# ---------------------------------------------------------------------------------------------
# The per-school choice


def _unmet(problem: GapProblem) -> NDArray[np.bool_]:
    return (problem.base < 1 - EPS) & problem.in_rule[:, None]


def choice_by_enumeration(problem: GapProblem) -> NDArray[np.float64]:
    """z (K × n): per school, the cheapest allowed set per section at the cost of reaching each level alone."""
    K, n = problem.base.shape
    z = np.zeros((K, n))
    allowed = problem.allowed_unmet
    if allowed <= 0:
        return z
    unmet = _unmet(problem)
    count = unmet.sum(axis=0)
    easy = count <= allowed
    z[:, easy] = unmet[:, easy]
    hard = np.flatnonzero(~easy)
    rest = problem.rest_ratio if problem.rest_ratio is not None else 0.0
    for school in np.unique(problem.section_school[hard]):
        rows = np.flatnonzero(problem.section_school == school)
        options = []
        for i in rows:
            codes = np.flatnonzero(unmet[:, i])
            if count[i] <= allowed:
                options.append([tuple(codes)])
            else:
                options.append(list(itertools.combinations(codes, allowed)))
        best, best_cost = None, math.inf
        for combo in itertools.product(*options):
            levels = np.ones((K, rows.size))
            for c, left in enumerate(combo):
                levels[list(left), c] = rest
            cost = _school_cost(problem, school, rows, levels)
            if cost < best_cost:
                best, best_cost = combo, cost
        for c, left in enumerate(best or next(itertools.product(*options))):
            z[list(left), rows[c]] = 1.0
    return z


def _school_cost(problem: GapProblem, school: int, rows: NDArray[np.intp], levels: NDArray[np.float64]) -> float:
    """What bringing the school's sections to ``levels`` (K × its sections) costs, each indicator alone."""
    total = 0.0
    for k in range(len(problem.codes)):
        need = np.maximum(levels[k] - problem.base[k, rows], 0.0)
        if not need.any() or not problem.own[k, rows].all():
            continue
        per_unit = problem.own[k, rows]
        if problem.shared[k]:
            amount = float(np.max(need / per_unit))
            cap = problem.caps[k][school]
        else:
            amount = float((need / per_unit).sum())
            cap = problem.caps[k][rows[0]]
        if amount > cap + EPS:
            return math.inf
        total += amount * problem.cost[k]
    return total


def choice_from_relaxation(problem: GapProblem, z_relaxed: NDArray[np.float64]) -> NDArray[np.float64]:
    """z (K × n): per section the ``allowed`` unmet indicators with the largest relaxed z."""
    K, n = problem.base.shape
    unmet = _unmet(problem)
    ranked = np.where(unmet, z_relaxed + 1e-6 * problem.base, -np.inf)
    order = np.argsort(-ranked, axis=0, kind="stable")[: problem.allowed_unmet]
    z = np.zeros((K, n))
    cols = np.broadcast_to(np.arange(n), order.shape)
    z[order, cols] = 1.0
    return z * unmet


# ---------------------------------------------------------------------------------------------
# Rounding and the naive plan


def _round_up(problem: GapProblem, amounts: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    out = []
    for k, a in enumerate(amounts):
        step = 1.0 if problem.integer[k] else AMOUNT_STEP.get(problem.units[k], 0.01)
        # solver noise (1e-7 of a person) must not become a whole person
        rounded = np.ceil(a / step - 1e-6) * step
        out.append(np.round(np.maximum(rounded, 0.0), 10))
    return out


def _cost(problem: GapProblem, amounts: list[NDArray[np.float64]]) -> float:
    return float(sum(problem.cost[k] * a.sum() for k, a in enumerate(amounts)))


def round_plan(problem: GapProblem, margin: float, solution: Solution, z: NDArray[np.float64]) -> Outcome:
    extra = np.zeros((len(problem.codes), len(STAGES)))
    amounts = _round_up(problem, solution.amounts)
    for _ in range(REPAIR_ROUNDS):
        values = problem.values(amounts)
        over = [(k, g, _cv(values[k, rows], problem.students[rows]) - (problem.cv_limit[g] - margin))
                for k, g, rows in cv_groups(problem)]
        over = [(k, g, d) for k, g, d in over if d > EPS]
        if not over:
            break
        for k, g, d in over:
            extra[k, g] += d + 1e-4
        again = solve(problem, margin, z, extra)
        if again is None:
            break
        amounts = _round_up(problem, again.amounts)
    if not violations(problem, problem.values(amounts), margin):
        amounts = tighten(problem, margin, amounts)
    return Outcome(amounts, _cost(problem, amounts), violations(problem, problem.values(amounts), margin))


def naive_plan(problem: GapProblem) -> Outcome:
    """Every failing section's blocking indicators to their thresholds (the assessment's choice of
    what may stay), whole-school amounts re-split; no thought for the CVs."""
    K, n = problem.base.shape
    blocking = _engine_blocking(problem)
    amounts = [np.zeros(problem.n_vars(k)) for k in range(K)]
    for k in range(K):
        rows = np.flatnonzero(blocking[k] & (problem.own[k] > 0))
        need = (1.0 - problem.base[k, rows]) / problem.own[k, rows]
        if problem.shared[k]:
            np.maximum.at(amounts[k], problem.section_school[rows], need)
        else:
            amounts[k][rows] = need
    amounts = _round_up(problem, amounts)
    return Outcome(amounts, _cost(problem, amounts), violations(problem, problem.values(amounts), 0.0))


def _engine_blocking(problem: GapProblem) -> NDArray[np.bool_]:
    """The blocking marks (K × n) by the assessment's rule (``resource._blocking``): the ``allowed``
    unmet indicators nearest their thresholds, and within the rest ratio, may stay."""
    unmet = _unmet(problem)
    rest = problem.rest_ratio
    allowed = problem.allowed_unmet
    if allowed <= 0:
        return unmet
    near = unmet & ((problem.base >= rest - EPS) if rest is not None else True)
    ranked = np.where(near, problem.base, -np.inf)
    keep = np.argsort(-ranked, axis=0, kind="stable")[:allowed]
    blocking = unmet.copy()
    cols = np.broadcast_to(np.arange(unmet.shape[1]), keep.shape)
    blocking[keep, cols] &= ~near[keep, cols]
    return blocking


# ---------------------------------------------------------------------------------------------
# Additions as rows, and applied to the records


def additions_of(problem: GapProblem, amounts: list[NDArray[np.float64]]) -> list[Addition]:
    out = []
    for k, a in enumerate(amounts):
        for v in np.flatnonzero(a > EPS):
            if problem.shared[k]:
                record, stage = problem.records[v], None
            else:
                record, stage = problem.records[problem.section_school[v]], STAGES[problem.section_stage[v]]
            amount = float(a[v])
            out.append(Addition(record.name, record.key, stage, problem.codes[k], amount, problem.units[k],
                                round(amount * float(problem.cost[k]), 6), record.township))
    position = {r.key: i for i, r in enumerate(problem.records)}
    out.sort(key=lambda x: (position[x.school_key], int(x.indicator) if x.indicator.isdigit() else 99,
                            x.stage or ""))
    return out


def apply_additions(records: list[SchoolRecord], additions: list[Addition], problem: GapProblem) -> list[SchoolRecord]:
    """The records with the additions made (teachers to their stage's column, facilities to the school's)."""
    field_of = dict(zip(problem.codes, problem.fields, strict=True))
    changes: dict[str, dict[str, float]] = {}
    for a in additions:
        column = field_of[a.indicator] if a.stage is None else f"{a.stage}_{field_of[a.indicator]}"
        per = changes.setdefault(a.school_key, {})
        per[column] = per.get(column, 0.0) + a.amount
    out = []
    for record in records:
        change = changes.get(record.key)
        if change:
            record = replace(record, **{c: getattr(record, c) + v for c, v in change.items()})
        out.append(record)
    return out


def diagnose(problem: GapProblem, margin: float) -> list[str]:
    """Name what cannot be met within the caps: a school's rule, else a single CV or county value."""
    if solve(problem, margin, None, with_cv=False) is None:
        out = []
        for s, record in enumerate(problem.records):
            rows = np.flatnonzero(problem.section_school == s)
            for i in rows:
                if not _section_reachable(problem, s, i):
                    out.append(f"{record.name}（{STAGE_NAMES[STAGES[problem.section_stage[i]]]}）在单价文件的上限内"
                               f"无法达到每校标准（{_capped_codes(problem, s, i)}）")
        return out or ["在单价文件的上限内，各校无法同时达到每校标准"]
    out = []
    for k, g, _ in cv_groups(problem):
        if solve(problem, margin, None, only_cv=(k, g)) is None:
            out.append(f"在单价文件的上限内，{STAGE_NAMES[STAGES[g]]}指标 {problem.codes[k]} 的差异系数"
                       f"无法降到 {problem.cv_limit[g] - margin:.3f} 以下")
    return out or ["在单价文件的上限内，各项差异系数无法同时达到要求"]


def _section_reachable(problem: GapProblem, school: int, i: int) -> bool:
    reach = []
    for k in np.flatnonzero(problem.in_rule):
        own = problem.effect[k][k]
        cap = problem.caps[k][school if problem.shared[k] else i]
        if own is None:
            reach.append(problem.base[k, i])
            continue
        per_unit = own[i, school] if problem.shared[k] else own[i, i]
        reach.append(problem.base[k, i] + per_unit * cap if np.isfinite(cap) else math.inf)
    reach_a = np.array(reach)
    unmet = (reach_a < 1 - EPS).sum()
    rest = problem.rest_ratio if problem.rest_ratio is not None else 0.0
    return unmet <= max(problem.allowed_unmet, 0) and not (reach_a < rest - EPS).any()


def _capped_codes(problem: GapProblem, school: int, i: int) -> str:
    capped = [f"指标 {problem.codes[k]} 上限 {problem.caps[k][school if problem.shared[k] else i]:g}"
              f" {problem.units[k]}" for k in range(len(problem.codes))
              if np.isfinite(problem.caps[k][school if problem.shared[k] else i])]
    return "、".join(capped) or "无上限"
