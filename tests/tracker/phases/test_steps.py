"""Which entry steps a phase's flow runs: its kind's, less those its plan switches off."""

from __future__ import annotations

from pathlib import Path

from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.org.queries import phases
from tracker.phases.service import ENTRY_STEPS, steps_for
from tracker.plans import parse_plan
from tracker.plans.kinds import ENTRY_STEP_NAMES, PhaseKind

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "plan.yaml"


def test_a_plan_switches_entry_steps_off(engine):
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "  - {编号: review_city, 名称: 市级复评, 类型: 市级复评, 开始: 2027-04-01, 关口: 2027-06-30}",
        "  - {编号: review_city, 名称: 市级复评, 类型: 市级复评, 开始: 2027-04-01, 关口: 2027-06-30, "
        "停用步骤: [迎检准备, 资料清单]}")
    with session_scope(engine) as session:
        campaign = apply_plan(session, parse_plan(text, source="plan.yaml"))
        by_code = {p.code: p for p in phases(session, campaign.id)}
        assert steps_for(campaign, by_code["review_city"]) == ["review_record", "deployment_notice", "ladder"]
        assert steps_for(campaign, by_code["review_province"]) == list(ENTRY_STEPS[PhaseKind.review_province])


def test_every_entry_step_has_a_chinese_name():
    assert {s for steps in ENTRY_STEPS.values() for s in steps} == set(ENTRY_STEP_NAMES)
