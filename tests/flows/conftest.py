"""Fixtures for real flow runs: Prefect's test harness (a throw-away Prefect server with its own
SQLite database, started once per test session) and the example campaign in the tracker."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def prefect_harness():
    """Flow runs in these tests are real Prefect runs, recorded by a temporary Prefect server."""
    import os

    from prefect.testing.utilities import prefect_test_harness

    os.environ.setdefault("PREFECT_UI_ENABLED", "false")  # the harness server needs no web UI
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def example_campaign(db_url) -> str:
    """The example county's plan applied to the test database; returns the campaign code."""
    from tracker.campaigns.plan import load_plan
    from tracker.campaigns.service import apply_plan
    from tracker.db import session_scope

    with session_scope() as session:
        return apply_plan(session, load_plan(EXAMPLES / "plan.yaml")).code


@pytest.fixture
def schools_sheet() -> Path:
    return EXAMPLES / "schools.xlsx"
