"""The campaign and its organisation: phases (with their gates), units, schools, status."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import select

from api.deps import CountyReader, CurrentUser, DbSession, UserCampaign, store_calendar
from api.schemas.campaigns import CampaignOut, CampaignStatusOut, DepartmentOut, PhaseOut, SchoolOut
from api.schemas.common import columns_of
from tracker.campaigns.gates import gate_status
from tracker.org.models import Campaign, Department, Phase, School
from tracker.db import utcnow
from tracker.clock import local_date
from tracker.tasks.service import campaign_status

router = APIRouter(tags=["创建工作"])


@router.get("/campaigns", response_model=list[CampaignOut], summary="我的创建工作")
def list_campaigns(session: DbSession, user: CurrentUser) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(Campaign.id == user.campaign_id)))


@router.get("/campaigns/{campaign}", response_model=CampaignOut, summary="创建工作")
def get_campaign(campaign: UserCampaign) -> Campaign:
    return campaign


@router.get("/campaigns/{campaign}/phases", response_model=list[PhaseOut], summary="阶段与关口")
def list_phases(session: DbSession, campaign: UserCampaign) -> list[PhaseOut]:
    store_calendar(session)
    today = local_date(utcnow())
    out = []
    for phase in session.exec(select(Phase).where(Phase.campaign_id == campaign.id).order_by(Phase.ordinal, Phase.id)):
        gate = gate_status(session, phase, today)
        out.append(PhaseOut.model_validate({
            **columns_of(phase), "total_tasks": gate.total_tasks, "open_tasks": gate.open_tasks,
            "days_left": gate.days_left, "verdict_needed": gate.verdict_needed}))
    return out


@router.get("/campaigns/{campaign}/departments", response_model=list[DepartmentOut], summary="责任单位")
def list_departments(session: DbSession, campaign: UserCampaign) -> list[Department]:
    return list(session.exec(select(Department).where(Department.campaign_id == campaign.id).order_by(Department.id)))


@router.get("/campaigns/{campaign}/schools", response_model=list[SchoolOut], summary="学校")
def list_schools(session: DbSession, campaign: UserCampaign) -> list[School]:
    return list(session.exec(select(School).where(School.campaign_id == campaign.id).order_by(School.key)))


@router.get("/campaigns/{campaign}/status", response_model=CampaignStatusOut, summary="总体进展（办公室、评估人员）")
def get_status(session: DbSession, user: CountyReader, campaign: UserCampaign) -> dict:
    store_calendar(session)
    return campaign_status(session, campaign, local_date(utcnow()))
