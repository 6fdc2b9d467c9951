"""What happened and how things stand: review findings, the event log, the units' lights."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func
from sqlmodel import select

from api.deps import MAX_ID, CurrentUser, DbSession, UserCampaign, store_calendar
from api.schemas.campaigns import FindingOut
from api.schemas.common import Page, columns_of
from api.schemas.events import EventOut
from api.schemas.tasks import UnitLightOut
from tracker.accounts.access import event_clause, finding_clause, role_of
from tracker.accounts.models import UserRole
from tracker.org.models import Department, School
from tracker.reviews.models import ReviewFinding
from tracker.reviews.service import finding_reviews, review_label
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.reminders.lights import Light, task_light, yellow_within
from tracker.clock import local_date
from tracker.tasks.models import Task, TaskStatus

router = APIRouter(tags=["记录与亮灯"])

EVENT_TYPE = r"^[a-z_]+(\.[a-z_]+)*$"


@router.get("/campaigns/{campaign}/findings", response_model=list[FindingOut], summary="评估反馈问题")
def list_findings(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> list[FindingOut]:
    findings = list(session.exec(select(ReviewFinding).where(finding_clause(user), ReviewFinding.campaign_id == campaign.id)
                                 .order_by(ReviewFinding.review_id, ReviewFinding.seq)))
    tasks = dict(session.exec(select(Task.finding_id, Task.id).where(
        Task.finding_id.in_([f.id for f in findings]))).all()) if findings else {}
    of = finding_reviews(session, [f.id for f in findings])  # which review or 督查 round each is from
    return [FindingOut.model_validate({**columns_of(f), "task_id": tasks.get(f.id), "review_level": of[f.id].level,
                                       "review_label": review_label(of[f.id])}) for f in findings]


@router.get("/campaigns/{campaign}/events", response_model=Page[EventOut], summary="事件记录（新的在前）")
def list_events(
    session: DbSession,
    user: CurrentUser,
    campaign: UserCampaign,
    type: Annotated[str | None, Query(max_length=64, pattern=EVENT_TYPE, description="事件类型，如 task.verified")] = None,
    task: Annotated[int | None, Query(ge=1, le=MAX_ID, description="任务编号")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[EventOut]:
    conditions = [event_clause(user), Event.campaign_id == campaign.id]
    if type is not None:
        conditions.append(Event.type == type)
    if task is not None:
        conditions.append(Event.task_id == task)
    total = session.exec(select(func.count()).select_from(Event).where(*conditions)).one()
    rows = session.exec(select(Event).where(*conditions).order_by(Event.at.desc(), Event.id.desc())
                        .limit(limit).offset(offset))
    return Page[EventOut](items=[EventOut.model_validate(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/campaigns/{campaign}/lights", response_model=list[UnitLightOut], summary="各单位亮灯（绿/黄/红）")
def list_lights(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> list[UnitLightOut]:
    """Each responsible unit's light (its worst task's) and how many of its tasks have each light.
    Units see their own light only."""
    calendar = store_calendar(session)
    today = local_date(utcnow())
    role = role_of(user)
    stmt = select(Task.status, Task.due_on, Task.progress, Task.created_at, Task.department_id,
                  Task.responsible_school_id).where(Task.campaign_id == campaign.id,
                                                    Task.status != TaskStatus.withdrawn.value)
    if role is UserRole.department:
        stmt = stmt.where(Task.department_id == user.department_id)
    elif role is UserRole.school:
        stmt = stmt.where(Task.responsible_school_id == user.school_id)
    counts: dict[tuple[str, int], Counter] = {}
    within = yellow_within(campaign)
    for row in session.exec(stmt):
        light = task_light(row, today, yellow_within=within, calendar=calendar)
        if light is None:
            continue
        if row.department_id is not None:
            key = ("department", row.department_id)
        elif row.responsible_school_id is not None:
            key = ("school", row.responsible_school_id)
        else:
            continue
        counts.setdefault(key, Counter())[light] += 1
    names = {("department", i): n for i, n in session.exec(
        select(Department.id, Department.name).where(Department.campaign_id == campaign.id))}
    names.update({("school", i): n for i, n in session.exec(
        select(School.id, School.name).where(School.campaign_id == campaign.id))})
    out = []
    for (kind, unit_id), counter in counts.items():
        worst = max(counter, key=lambda light: light.rank)
        out.append(UnitLightOut(unit_kind=kind, unit_id=unit_id, unit_name=names.get((kind, unit_id), "?"),
                                light=worst.value, red=counter[Light.red], yellow=counter[Light.yellow],
                                green=counter[Light.green]))
    out.sort(key=lambda u: (-Light(u.light).rank, u.unit_kind, u.unit_name))
    return out
