"""The inter-school difference coefficient (差异系数), weighted by enrolment.

With Pᵢ a section's students, P = ΣPᵢ and Xᵢ its value (domain.md):

    X̄ = ΣPᵢXᵢ / P          (equals the county's ratio of totals)
    S  = √(ΣPᵢ(Xᵢ − X̄)² / P)
    CV = S / X̄

This is neither the plain nor the sample standard deviation. Below two sections, or with
X̄ = 0, the CV is undefined: None here (NaN in the array functions), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True, slots=True)
class DifferenceCoefficient:
    """CV of one indicator in one stage, with the weighted mean and deviation it came from."""

    mean: float | None  # X̄, None without pupils
    std: float | None  # S
    cv: float | None  # S / X̄; None below two sections or when X̄ == 0
    sections: int

    @classmethod
    def of(cls, values: ArrayLike, students: ArrayLike) -> DifferenceCoefficient:
        x = np.asarray(values, dtype=float)
        p = np.asarray(students, dtype=float)
        if x.shape != p.shape or x.ndim != 1:
            raise ValueError("values and students must be 1-D arrays of the same length")
        total = p.sum()
        if x.size == 0 or total <= 0:
            return cls(None, None, None, int(x.size))
        mean = float((p * x).sum() / total)
        std = float(np.sqrt((p * (x - mean) ** 2).sum() / total))
        cv = std / mean if x.size >= 2 and mean != 0 else None
        return cls(mean, std, cv, int(x.size))

    def within(self, limit: float) -> bool | None:
        """CV ≤ limit; None when the CV is undefined."""
        if self.cv is None:
            return None
        return bool(self.cv <= limit + TOLERANCE)


# Float noise allowance for "≤ limit" / "≥ threshold" comparisons on unrounded values; far
# below any rounding the official forms use, so it never turns a real miss into a pass.
TOLERANCE = 1e-9


def contributions(values: ArrayLike, students: ArrayLike, mean: float) -> NDArray[np.float64]:
    """Each section's share Pᵢ(Xᵢ − X̄)² of the weighted sum of squares: who pulls the CV up."""
    x = np.asarray(values, dtype=float)
    p = np.asarray(students, dtype=float)
    return p * (x - mean) ** 2


def grouped(
    values: NDArray[np.float64], students: NDArray[np.float64], groups: NDArray[np.intp], n_groups: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Weighted mean, S and CV of several indicators per group, in one pass over the arrays.

    ``values`` is (indicators, sections), ``students`` and ``groups`` are (sections,), groups
    numbered 0..n_groups-1 (the stages). Returns (mean, std, cv) each (indicators, n_groups),
    NaN where undefined, and the section count per group.
    """
    values = np.atleast_2d(values)
    counts = np.bincount(groups, minlength=n_groups)
    total = np.bincount(groups, weights=students, minlength=n_groups)
    k = values.shape[0]
    # Offset the group index per indicator so one bincount handles all indicators at once.
    flat_groups = (groups[None, :] + n_groups * np.arange(k)[:, None]).ravel()
    weighted = np.bincount(flat_groups, weights=(values * students).ravel(), minlength=k * n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = weighted.reshape(k, n_groups) / total
        dev = values - mean[:, groups]
        ss = np.bincount(flat_groups, weights=(students * dev * dev).ravel(), minlength=k * n_groups)
        std = np.sqrt(ss.reshape(k, n_groups) / total)
        cv = std / mean
    cv = np.where((counts >= 2)[None, :] & (mean != 0) & np.isfinite(cv), cv, np.nan)
    return mean, std, cv, counts
