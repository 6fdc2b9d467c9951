"""The demo's line on issue 13 §4–5: the illustrative 资料清单's gaps and E4/E2 as the data decides them."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from sqlmodel import Session


def print_materials_and_conditions(console: Console, code: str) -> None:
    from tracker.assessment.conditions import current_decisions
    from tracker.db import get_engine
    from tracker.materials.queries import missing_required_items
    from tracker.materials.service import campaign_checklist
    from tracker.org.service import resolve_campaign
    from tracker.standards import load_standard

    with Session(get_engine()) as session:
        campaign = resolve_campaign(session, code)
        checklist = campaign_checklist(session, campaign)
        missing = missing_required_items(session, campaign.id)
        decisions = current_decisions(session, campaign, load_standard(campaign.standard_id))
    console.print(f"资料清单（{checklist.label}）：必备资料尚缺 {len(missing)} 项，"
                  f"见网页「指标 → 资料清单」或 junheng materials show --missing")
    words = {"pass": "通过", "fail": "不通过", "unknown": "尚不能判定"}
    for d in decisions:
        console.print(f"申报条件 {d.code}：{words[d.status]}（{escape(d.detail)}）")
