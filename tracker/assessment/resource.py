"""Indicators 1–7 on columns: the array path ``assess()`` uses and the benchmark times.

Sections are held as NumPy columns sorted by stage, so each stage is one contiguous block:
per-stage thresholds broadcast over a slice instead of being gathered per section, and the
weighted sum of squares of the CV is one einsum over that slice. Arrays are (k indicators × n
sections) or (k × g stages); the section order is the table's (primary first), and
``SectionTable.position`` maps each back to the order the sections were given in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tracker.assessment.coefficient import TOLERANCE
from tracker.standards.records import SchoolSection
from tracker.standards.schema import STAGES, Standard

STAGE_INDEX = {stage: i for i, stage in enumerate(STAGES)}
NUMERIC_FIELDS = (
    "students",
    "qualified_teachers",
    "backbone_teachers",
    "pe_art_teachers",
    "teaching_area",
    "indoor_sports_area",
    "sports_area",
    "equipment_value",
    "multimedia_rooms",
)


@dataclass(slots=True)
class SectionTable:
    """Sections as columns, sorted by stage (0 primary, 1 junior) on construction.

    ``school``/``school_key`` are optional so a synthetic benchmark table needs no names.
    Every section must have students > 0 (split_sections never makes one without).
    """

    stage: NDArray[np.intp]
    columns: dict[str, NDArray[np.float64]]
    school: list[str] = field(default_factory=list)
    school_key: list[str] = field(default_factory=list)
    position: NDArray[np.intp] = field(init=False)  # index in the order given
    bounds: list[tuple[int, int]] = field(init=False)  # [start, end) of each stage

    def __post_init__(self) -> None:
        stage = np.asarray(self.stage, dtype=np.intp)
        if stage.size and np.any(stage[1:] < stage[:-1]):
            order = np.argsort(stage, kind="stable")
            stage = stage[order]
            self.columns = {name: np.ascontiguousarray(col[order]) for name, col in self.columns.items()}
            self.school = [self.school[i] for i in order] if self.school else []
            self.school_key = [self.school_key[i] for i in order] if self.school_key else []
            self.position = order
        else:
            self.position = np.arange(stage.size)
        self.stage = stage
        ends = np.searchsorted(stage, np.arange(1, len(STAGES) + 1))
        starts = np.concatenate(([0], ends[:-1]))
        self.bounds = [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]

    def __len__(self) -> int:
        return int(self.stage.shape[0])

    @property
    def students(self) -> NDArray[np.float64]:
        return self.columns["students"]

    @property
    def share(self) -> NDArray[np.float64]:
        """Each section's share of its school's shared facilities (1 where not given)."""
        share = self.columns.get("share")
        return np.ones(len(self)) if share is None else share

    @classmethod
    def from_sections(cls, sections: list[SchoolSection]) -> SectionTable:
        n = len(sections)
        stage = np.fromiter((STAGE_INDEX[s.stage] for s in sections), dtype=np.intp, count=n)
        columns = {
            name: np.fromiter((getattr(s, name) for s in sections), dtype=float, count=n)
            for name in NUMERIC_FIELDS
        }
        columns["share"] = np.fromiter((s.share for s in sections), dtype=float, count=n)
        return cls(stage, columns, [s.school for s in sections], [s.school_key for s in sections])


@dataclass(slots=True)
class ResourceArrays:
    """Indicators 1–7 for every section and stage."""

    codes: list[str]
    scale: NDArray[np.float64]  # (k,) the formulas' scales
    have: list[NDArray[np.float64]]  # k × (n,) Σnumerator − Σsubtract in the sheet's units
    values: NDArray[np.float64]  # (k, n) per-section values, unrounded
    thresholds: NDArray[np.float64]  # (k, g)
    met: NDArray[np.bool_]  # (k, n)
    blocking: NDArray[np.bool_]  # (k, n) unmet and has to be fixed for the school to pass
    school_ok: NDArray[np.bool_]  # (n,)
    county_value: NDArray[np.float64]  # (k, g) ratio of totals (= the weighted mean), NaN without pupils
    county_met: NDArray[np.bool_]  # (k, g)
    std: NDArray[np.float64]  # (k, g) S
    cv: NDArray[np.float64]  # (k, g) NaN where undefined
    cv_limit: NDArray[np.float64]  # (g,)
    cv_ok: NDArray[np.float64]  # (k, g) 1.0 / 0.0, NaN where the CV is undefined
    sections: NDArray[np.int64]  # (g,) sections per stage
    students: NDArray[np.float64]  # (g,) pupils per stage


def compute_resource(standard: Standard, table: SectionTable) -> ResourceArrays:
    """Per-section values, per-school verdicts, county values and CVs of indicators 1–7."""
    indicators = standard.resource_indicators
    codes = [ind.code for ind in indicators]
    k, n, g = len(indicators), len(table), len(STAGES)
    students = table.students
    columns = table.columns

    thresholds = np.full((k, g), np.nan)
    scale = np.empty(k)
    have: list[NDArray[np.float64]] = []
    values = np.empty((k, n))
    for i, ind in enumerate(indicators):
        formula = ind.formula
        assert formula is not None
        scale[i] = formula.scale
        for stage, value in ind.thresholds.items():
            thresholds[i, STAGE_INDEX[stage]] = value
        if len(formula.numerator) == 1 and not formula.subtract:
            row = columns[formula.numerator[0]]  # a view: no copy for the common case
        else:
            row = np.array(columns[formula.numerator[0]], dtype=float)
            for name in formula.numerator[1:]:
                row += columns[name]
            for name in formula.subtract:
                row -= columns[name]
        have.append(row)
        # scale × have ÷ students in that order, as a person computes it (100 × 6 ÷ 1000 = 0.6 exactly)
        np.multiply(row, formula.scale, out=values[i])
        values[i] /= students

    rule = standard.per_school_rule
    in_rule = np.array([c in rule.indicators for c in codes], dtype=bool)
    allowed_unmet = int(in_rule.sum()) - rule.min_met
    met_bound = thresholds - TOLERANCE * np.abs(thresholds)
    # an unmet value at or above this bound is "near": within the rule's rest ratio
    rest = rule.rest_min_ratio
    near_bound = None if rest is None else thresholds * (rest - TOLERANCE)

    met = np.empty((k, n), dtype=bool)
    far = np.zeros((k, n), dtype=bool)  # below the rest ratio: fails the school by itself
    cv = np.full((k, g), np.nan)
    std = np.full((k, g), np.nan)
    mean = np.full((k, g), np.nan)
    totals = np.zeros((k, g))
    stage_students = np.zeros(g)
    for s, (a, b) in enumerate(table.bounds):
        if a == b:
            continue
        block = values[:, a:b]
        np.greater_equal(block, met_bound[:, s : s + 1], out=met[:, a:b])
        if near_bound is not None:
            np.less(block, near_bound[:, s : s + 1], out=far[:, a:b])
        p = students[a:b]
        total = float(p.sum())
        stage_students[s] = total
        totals[:, s] = [row[a:b].sum() for row in have]
        mean[:, s] = scale * totals[:, s] / total  # the ratio of totals = ΣPX / ΣP
        dev = block - mean[:, s : s + 1]
        # einsum, not a BLAS product: OpenBLAS worker threads competing for a busy machine's
        # CPUs tripled the wall time of the whole computation (benchmarks/assess.py)
        std[:, s] = np.sqrt(np.einsum("kn,kn,n->k", dev, dev, p) / total)
        if b - a >= 2:
            with np.errstate(divide="ignore", invalid="ignore"):
                cv[:, s] = np.where(mean[:, s] != 0, std[:, s] / mean[:, s], np.nan)

    unmet = ~met
    if not in_rule.all():
        unmet &= in_rule[:, None]
        far &= in_rule[:, None]
    n_unmet = unmet.sum(axis=0, dtype=np.int16)  # a small int: summing bools as int64 is 10× slower
    if near_bound is None:
        school_ok = n_unmet <= allowed_unmet
        near = unmet
    else:
        school_ok = (n_unmet <= allowed_unmet) & ~far.any(axis=0)
        near = unmet & ~far
    blocking = _blocking(unmet, near, values, thresholds, table, allowed_unmet)

    county_met = mean >= met_bound
    cv_limit = np.array([standard.cv_limit(s) if s in standard.stages else np.nan for s in STAGES])
    undefined = np.isnan(cv) | np.isnan(cv_limit)[None, :]
    cv_ok = np.where(undefined, np.nan, (cv <= cv_limit[None, :] + TOLERANCE).astype(float))
    return ResourceArrays(
        codes=codes,
        scale=scale,
        have=have,
        values=values,
        thresholds=thresholds,
        met=met,
        blocking=blocking,
        school_ok=school_ok,
        county_value=mean,
        county_met=county_met,
        std=std,
        cv=cv,
        cv_limit=cv_limit,
        cv_ok=cv_ok,
        sections=np.array([b - a for a, b in table.bounds], dtype=np.int64),
        students=stage_students,
    )


def _blocking(
    unmet: NDArray[np.bool_],
    near: NDArray[np.bool_],
    values: NDArray[np.float64],
    thresholds: NDArray[np.float64],
    table: SectionTable,
    allowed_unmet: int,
) -> NDArray[np.bool_]:
    """What must be fixed for the school to pass: the ``allowed_unmet`` unmet indicators closest
    to their thresholds (and within the rest ratio) may stay; every other unmet one blocks."""
    if allowed_unmet <= 0:
        return unmet.copy()
    n_near = near.sum(axis=0, dtype=np.int16)
    blocking = unmet.copy()
    # sections with no more near indicators than allowed: all of them may stay
    blocking &= ~(near & (n_near <= allowed_unmet)[None, :])
    cols = np.flatnonzero(n_near > allowed_unmet)
    if cols.size:
        ratio = values[:, cols] / thresholds[:, table.stage[cols]]
        ranked = np.where(near[:, cols], ratio, -np.inf)
        if allowed_unmet == 1:
            keep = np.argmax(ranked, axis=0)[None, :]
        else:
            keep = np.argsort(-ranked, axis=0, kind="stable")[:allowed_unmet]
        blocking[keep, np.broadcast_to(cols, keep.shape)] = False
    return blocking


def resource_verdict(standard: Standard, arrays: ResourceArrays) -> bool | None:
    """False when anything is known to fail; None when something cannot be known; else True."""
    present = arrays.sections > 0
    fails = (not bool(arrays.school_ok.all())) or bool((arrays.cv_ok == 0.0).any())
    if standard.per_school_rule.county_must_meet:
        fails = fails or bool((~arrays.county_met & present[None, :]).any())
    if fails:
        return False
    if not present.all() or bool(np.isnan(arrays.cv_ok).any()):
        return None
    return True
