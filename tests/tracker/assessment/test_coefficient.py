"""The enrolment-weighted difference coefficient (差异系数)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.assessment.coefficient import DifferenceCoefficient, grouped

# domain.md's published example: five schools, students / books
BOOKS_STUDENTS = [45, 37, 89, 76, 55]
BOOKS = [279, 137, 935, 160, 402]


def test_books_example_from_domain():
    values = [b / p for b, p in zip(BOOKS, BOOKS_STUDENTS, strict=True)]
    dc = DifferenceCoefficient.of(values, BOOKS_STUDENTS)
    assert dc.mean == pytest.approx(1913 / 302, abs=1e-12)
    assert dc.mean == pytest.approx(6.334437, abs=1e-6)
    assert dc.std == pytest.approx(3.263861, abs=1e-6)
    assert dc.cv == pytest.approx(0.515257, abs=1e-6)
    # the plain population CV of the same ratios is a different number (≈ 0.4888):
    plain = float(np.std(values) / np.mean(values))
    assert abs(plain - dc.cv) > 0.02


def test_hand_computed_four_schools():
    # students P = 100, 200, 300, 400 (P = 1000); values X = 4, 5, 6, 2
    # X̄ = (100·4 + 200·5 + 300·6 + 400·2) / 1000 = (400 + 1000 + 1800 + 800) / 1000 = 4.0
    # deviations X − X̄ = 0, 1, 2, −2; P·(X − X̄)² = 0, 200, 1200, 1600; sum = 3000
    # S = √(3000 / 1000) = √3 = 1.7320508…;  CV = √3 / 4 = 0.4330127…
    dc = DifferenceCoefficient.of([4, 5, 6, 2], [100, 200, 300, 400])
    assert dc.mean == pytest.approx(4.0)
    assert dc.std == pytest.approx(math.sqrt(3))
    assert dc.cv == pytest.approx(math.sqrt(3) / 4)
    assert round(dc.cv, 3) == 0.433
    assert dc.within(0.45) is True
    assert dc.within(0.43) is False


def test_undefined_below_two_sections_and_at_zero_mean():
    one = DifferenceCoefficient.of([5.0], [300])
    assert one.mean == 5.0 and one.cv is None and one.within(0.5) is None
    none = DifferenceCoefficient.of([], [])
    assert none.mean is None and none.cv is None
    zero = DifferenceCoefficient.of([0.0, 0.0], [10, 20])
    assert zero.cv is None


def test_grouped_matches_one_group_at_a_time():
    rng = np.random.default_rng(7)
    n = 500
    students = rng.integers(20, 2000, n).astype(float)
    groups = rng.integers(0, 2, n)
    values = rng.uniform(0.5, 10, (3, n))
    mean, std, cv, counts = grouped(values, students, groups, 2)
    for k in range(3):
        for g in range(2):
            mask = groups == g
            dc = DifferenceCoefficient.of(values[k, mask], students[mask])
            assert mean[k, g] == pytest.approx(dc.mean, rel=1e-12)
            assert std[k, g] == pytest.approx(dc.std, rel=1e-9)
            assert cv[k, g] == pytest.approx(dc.cv, rel=1e-9)
    assert counts.tolist() == [int((groups == 0).sum()), int((groups == 1).sum())]


def test_grouped_leaves_a_one_section_group_undefined():
    mean, _, cv, counts = grouped(np.array([[3.0, 4.0, 5.0]]), np.array([10.0, 20.0, 30.0]), np.array([0, 0, 1]), 2)
    assert counts.tolist() == [2, 1]
    assert not math.isnan(cv[0, 0])
    assert math.isnan(cv[0, 1])
    assert mean[0, 1] == 5.0


sections = st.integers(min_value=2, max_value=40)


@st.composite
def county_values(draw):
    n = draw(sections)
    students = draw(st.lists(st.integers(1, 3000), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(0.01, 5000, allow_nan=False), min_size=n, max_size=n))
    return np.array(values), np.array(students, dtype=float)


@settings(max_examples=200, deadline=None)
@given(county_values(), st.floats(0.001, 1000))
def test_cv_unchanged_when_every_value_is_scaled(data, factor):
    values, students = data
    before = DifferenceCoefficient.of(values, students)
    after = DifferenceCoefficient.of(values * factor, students)
    assert after.cv == pytest.approx(before.cv, rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(sections, st.floats(0.01, 5000), st.lists(st.integers(1, 3000), min_size=40, max_size=40))
def test_cv_is_zero_when_all_ratios_are_equal(n, value, students):
    dc = DifferenceCoefficient.of([value] * n, students[:n])
    assert dc.cv == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_weighted_mean_equals_ratio_of_totals(data):
    n = data.draw(sections)
    students = np.array(data.draw(st.lists(st.integers(1, 3000), min_size=n, max_size=n)), dtype=float)
    totals = np.array(data.draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=n, max_size=n)))
    dc = DifferenceCoefficient.of(totals / students, students)
    assert dc.mean == pytest.approx(totals.sum() / students.sum(), rel=1e-9, abs=1e-9)
