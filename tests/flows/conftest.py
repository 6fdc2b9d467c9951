"""Fixtures for real flow runs: the example campaign in the tracker (Prefect's test harness,
``prefect_harness``, is in tests/conftest.py: CLI tests that run flows use it too)."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def example_campaign(db_url) -> str:
    """The example county's plan applied to the test database; returns the campaign code."""
    from tracker.campaigns.service import apply_plan
    from tracker.db import session_scope
    from tracker.plans import load_plan

    with session_scope() as session:
        return apply_plan(session, load_plan(EXAMPLES / "plan.yaml")).code


@pytest.fixture
def schools_sheet() -> Path:
    return EXAMPLES / "schools.xlsx"
