"""The campaign and its organisation: phases (with their gates), units, schools, status."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CountyReader, CurrentUser, DbSession, UserCampaign, store_calendar
from api.schemas.campaigns import CampaignOut, CampaignStatusOut, DepartmentOut, PhaseOut, SchoolOut
from api.schemas.common import columns_of
from tracker.campaigns.gates import gate_status
from tracker.clock import local_today
from tracker.org import queries as org
from tracker.accounts.regional import is_region_account
from tracker.org.models import Campaign, Department, School
from tracker.regions.service import region_campaigns
from tracker.tasks.service import campaign_status

router = APIRouter(tags=["创建工作"])


@router.get("/campaigns", response_model=list[CampaignOut], summary="我的创建工作")
def list_campaigns(session: DbSession, user: CurrentUser) -> list[Campaign]:
    if is_region_account(user):  # a 市/省 督导: every county of its region (issue 15 §2)
        return region_campaigns(session, user.region_id)
    campaign = session.get(Campaign, user.campaign_id)
    return [campaign] if campaign is not None else []


@router.get("/campaigns/{campaign}", response_model=CampaignOut, summary="创建工作")
def get_campaign(campaign: UserCampaign) -> Campaign:
    return campaign


@router.get("/campaigns/{campaign}/phases", response_model=list[PhaseOut], summary="阶段与关口")
def list_phases(session: DbSession, campaign: UserCampaign) -> list[PhaseOut]:
    store_calendar(session)
    today = local_today()
    out = []
    for phase in org.phases(session, campaign.id):
        gate = gate_status(session, phase, today)
        out.append(PhaseOut.model_validate({
            **columns_of(phase), "total_tasks": gate.total_tasks, "open_tasks": gate.open_tasks,
            "days_left": gate.days_left, "verdict_needed": gate.verdict_needed}))
    return out


@router.get("/campaigns/{campaign}/departments", response_model=list[DepartmentOut], summary="责任单位")
def list_departments(session: DbSession, campaign: UserCampaign) -> list[Department]:
    return org.departments(session, campaign.id)


@router.get("/campaigns/{campaign}/schools", response_model=list[SchoolOut], summary="学校")
def list_schools(session: DbSession, campaign: UserCampaign) -> list[School]:
    return org.schools(session, campaign.id)


@router.get("/campaigns/{campaign}/status", response_model=CampaignStatusOut, summary="总体进展（办公室、评估人员）")
def get_status(session: DbSession, user: CountyReader, campaign: UserCampaign) -> dict:
    store_calendar(session)
    return campaign_status(session, campaign, local_today())
