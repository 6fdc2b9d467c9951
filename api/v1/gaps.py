"""补短板测算 of a campaign (issue 14): the least-cost additions over its latest assessment's data.

Uses the shipped costs file (illustrative prices, ``costs_illustrative`` says so); the CLI takes a
county's own (`junheng plan-gaps --campaign CODE --costs 单价.yaml`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CountyReader, DbSession, UserCampaign

router = APIRouter(tags=["创建工作"])


@router.get("/campaigns/{campaign}/gap-plan", summary="补短板测算（办公室、评估人员）")
def get_gap_plan(
    session: DbSession, user: CountyReader, campaign: UserCampaign,
    margin: Annotated[float, Query(ge=0, lt=0.45, description="差异系数预留余量：目标为 限值 − 余量")] = 0.02,
) -> dict[str, Any]:
    """以最少费用补充教师、校舍和运动场馆面积、仪器设备、多媒体教室，使最近一次评估的资源配置通过。
    JSON：feasible、total_cost（万元）、additions、after（补充后的评估）、naive（朴素方案）等。"""
    from tracker.assessment.snapshots import finite_json
    from tracker.gaps.campaign import campaign_gap_plan
    from tracker.gaps.costs import read_costs
    from tracker.gaps.report import plan_json

    data = finite_json(plan_json(campaign_gap_plan(session, campaign, read_costs(), margin)))
    session.commit()  # the plan is kept: tasks and the 任务分解表 show its amounts
    return data
