"""The demo's 示范校 step: a programme beside the county walked to its awards, re-runnable."""

from __future__ import annotations

from pathlib import Path

import time_machine

from junheng.cli.demo_programme import programme_demo
from tests.factories_db import build_world
from tracker.accounts.access import role_of
from tracker.accounts.service import find_user
from tracker.clock import local_today
from tracker.db import session_scope
from tracker.org.models import School
from tracker.programmes import access, queries, service

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "programme.yaml"
NOW = "2026-12-09 02:00:00+00:00"


def test_the_demo_programme_reaches_its_awards_and_runs_again(engine):
    with session_scope(engine) as session:
        world = build_world(session, "qingchuan-2027")
        for i in range(2, 9):
            session.add(School(campaign_id=world.campaign.id, key=f"41010{i:02d}", name=f"城关{i}小", school_type="小学"))
    with time_machine.travel(NOW, tick=False):
        first = programme_demo(EXAMPLE, "qingchuan-2027")
        again = programme_demo(EXAMPLE, "qingchuan-2027")
        assert [r["username"] for r in first] == [r["username"] for r in again] == ["sfx-office", "sfx-school", "sfx-panel"]
        assert first[0]["password"] != again[0]["password"]
        with session_scope(engine) as session:
            campaign = service.resolve_programme(session, "demo-sfx")
            assert len(queries.schools(session, campaign.id)) == 8
            categories = sorted(a.category for a in queries.awards(session, campaign.id))
            assert "标兵校" in categories and "一票否决" in categories and "进步校" in categories
            assert all(a.confirmed_at is None for a in queries.awards(session, campaign.id))
            school_user = find_user(session, "sfx-school")
            assert role_of(school_user).value == "school"
            seen = access.view(session, school_user, campaign, local_today())
            assert len(seen.lines) == 1 and seen.scores_visible and seen.lines[0].totals
