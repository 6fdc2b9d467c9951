"""The three-week example county (scenario.py), built once per test on the test's database."""

from __future__ import annotations

import pytest

from tests.tracker.briefings.scenario import Scenario, build_three_weeks


@pytest.fixture
def three_weeks(engine, tmp_path) -> Scenario:
    return build_three_weeks(engine, tmp_path)
