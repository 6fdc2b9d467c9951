"""The planner's problem as arrays: what each addition does to each section's indicator values.

Every value of indicators 1–7 is affine in the additions: a section's value of indicator k is
``scale × (have + Σ added to its numerator fields − Σ added to its subtract fields) ÷ pupils``.
Teachers (1–3) are added to one section; facilities (4–7) are added to the whole school and
re-split over its stages by the same shares the assessment uses. Values are kept relative to
each section's threshold (V = X ÷ T), so "meets the threshold" is V ≥ 1 for every indicator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from tracker.assessment.resource import STAGE_INDEX
from tracker.assessment.sections import SHARED_FIELDS, split_sections, split_shared_addition
from tracker.assessment.shortfalls import COUNTED_UNITS, shortfall_unit
from tracker.gaps.costs import CostBook
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import STAGES, Standard


# Continuous amounts are stated rounded up to these steps (the shortfalls' steps), so a plan is
# never understated; counted things (people, rooms) are whole.
AMOUNT_STEP: dict[str, float] = {"m²": 0.1, "万元": 0.01}


@dataclass(slots=True)
class GapProblem:
    """Sections, schools and the affine map from additions to relative values V (K × n)."""

    standard: Standard
    records: list[SchoolRecord]  # the participating schools, in sheet order
    codes: list[str]  # resource indicator codes, in the standard's order
    fields: list[str]  # the field each indicator's addition goes to (its first numerator)
    shared: NDArray[np.bool_]  # (K,) the addition is whole-school, split over stages
    units: list[str]  # 人, m², 万元, 间
    integer: NDArray[np.bool_]  # (K,) counted things
    cost: NDArray[np.float64]  # (K,) 万元 per unit
    section_school: NDArray[np.intp]  # (n,) index into records
    section_stage: NDArray[np.intp]  # (n,) 0 primary, 1 junior
    students: NDArray[np.float64]  # (n,)
    share: NDArray[np.float64]  # (n,) the section's share of its school's facilities
    base: NDArray[np.float64]  # (K, n) V before any addition
    effect: list[list[sparse.csr_matrix | None]]  # effect[k][j]: V_k change per unit of addition j
    in_rule: NDArray[np.bool_]  # (K,) counted by the per-school rule
    allowed_unmet: int
    rest_ratio: float | None
    cv_limit: NDArray[np.float64]  # (G,) NaN where the stage has none
    county_must_meet: bool
    caps: list[NDArray[np.float64]]  # per indicator, per variable (school or section): max, inf if none
    own: NDArray[np.float64]  # (K, n) V gained per unit of the indicator's own addition at the section
    monotone: NDArray[np.bool_]  # (K,) no addition lowers the indicator

    @property
    def n_sections(self) -> int:
        return int(self.students.shape[0])

    def n_vars(self, k: int) -> int:
        return len(self.records) if self.shared[k] else self.n_sections

    def values(self, amounts: list[NDArray[np.float64]]) -> NDArray[np.float64]:
        """V (K × n) after adding ``amounts`` (per indicator: per school if shared, else per section)."""
        out = self.base.copy()
        for k, row in enumerate(self.effect):
            for j, matrix in enumerate(row):
                if matrix is not None and amounts[j].any():
                    out[k] += matrix @ amounts[j]
        return out

    def stage_rows(self, g: int) -> NDArray[np.intp]:
        return np.flatnonzero(self.section_stage == g)


def build_problem(standard: Standard, records: list[SchoolRecord], costs: CostBook,
                  kindergarten_weight: float | None = None) -> GapProblem:
    if kindergarten_weight is None:
        from tracker.settings import get_settings

        kindergarten_weight = get_settings().kindergarten_weight
    sections = split_sections(records, standard, kindergarten_weight)
    position = {r.key: i for i, r in enumerate(records)}
    used = sorted({position[s.school_key] for s in sections})
    kept = [records[i] for i in used]
    renumber = {records[i].key: j for j, i in enumerate(used)}
    n, m = len(sections), len(kept)
    section_school = np.array([renumber[s.school_key] for s in sections], dtype=np.intp)
    section_stage = np.array([STAGE_INDEX[s.stage] for s in sections], dtype=np.intp)
    students = np.array([s.students for s in sections], dtype=float)
    # a whole-school facility addition is split again over the school's stages exactly as the
    # assessment splits what exists; the split is linear, so one unit's split gives the shares
    shares = [split_shared_addition(r, standard, 1.0, kindergarten_weight) for r in kept]
    share = np.array([shares[section_school[i]][s.stage] for i, s in enumerate(sections)], dtype=float)

    indicators = standard.resource_indicators
    codes = [ind.code for ind in indicators]
    fields = [ind.formula.numerator[0] for ind in indicators]  # type: ignore[union-attr]
    shared = np.array([f in SHARED_FIELDS for f in fields], dtype=bool)
    units = [shortfall_unit(ind) for ind in indicators]
    integer = np.array([u in COUNTED_UNITS for u in units], dtype=bool)
    cost = np.array([costs.unit_costs.get(c, 0.0) for c in codes], dtype=float)
    thresholds = np.array([[ind.thresholds.get(STAGES[g], np.nan) for g in section_stage] for ind in indicators])
    base = np.empty((len(codes), n))
    effect: list[list[sparse.csr_matrix | None]] = []
    spread = sparse.csr_matrix((share, (np.arange(n), section_school)), shape=(n, m))
    for k, ind in enumerate(indicators):
        formula = ind.formula
        assert formula is not None
        have = sum(np.array([getattr(s, f) for s in sections], dtype=float) for f in formula.numerator)
        for f in formula.subtract:
            have = have - np.array([getattr(s, f) for s in sections], dtype=float)
        coef = formula.scale / (students * thresholds[k])
        base[k] = np.asarray(have) * coef
        row: list[sparse.csr_matrix | None] = []
        for j, f in enumerate(fields):
            sign = (f in formula.numerator) - (f in formula.subtract)
            if sign == 0:
                row.append(None)
            elif shared[j]:
                row.append(sparse.diags(sign * coef) @ spread)
            else:
                row.append(sparse.diags(sign * coef, format="csr"))
        effect.append(row)

    own = np.zeros((len(codes), n))
    for k in range(len(codes)):
        matrix = effect[k][k]
        if matrix is not None and n:
            own[k] = np.asarray(matrix[np.arange(n), section_school]).ravel() if shared[k] else matrix.diagonal()
    monotone = np.array([all(m is None or (m.data >= 0).all() for m in row) for row in effect], dtype=bool)
    rule = standard.per_school_rule
    in_rule = np.array([c in rule.indicators for c in codes], dtype=bool)
    caps = []
    for k, code in enumerate(codes):
        if shared[k]:
            caps.append(np.array([_cap(costs, r, code) for r in kept]))
        else:
            # a cap on teachers is per school, all stages together: checked by the solver as a sum;
            # here each section gets the school's cap as its own bound too
            caps.append(np.array([_cap(costs, kept[section_school[i]], code) for i in range(n)]))
    cv_limit = np.array([standard.cv_limit(s) if s in standard.stages else np.nan for s in STAGES])
    return GapProblem(standard, kept, codes, fields, shared, units, integer, cost, section_school,
                      section_stage, students, share, base, effect, in_rule,
                      int(in_rule.sum()) - rule.min_met, rule.rest_min_ratio, cv_limit,
                      rule.county_must_meet, caps, own, monotone)


def _cap(costs: CostBook, record: SchoolRecord, code: str) -> float:
    cap = costs.cap(record.name, record.key, code)
    return np.inf if cap is None else cap
