"""What happened and how things stand: review findings, the event log, the units' lights."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import MAX_ID, CurrentUser, DbSession, UserCampaign, store_calendar
from api.schemas.campaigns import FindingOut
from api.schemas.common import Page, columns_of
from api.schemas.events import EventOut
from api.schemas.tasks import UnitLightOut
from tracker.accounts.access import event_clause, finding_clause, role_of
from tracker.accounts.models import UserRole
from tracker.clock import local_today
from tracker.events.queries import events_page
from tracker.org.queries import department_names, school_names
from tracker.reviews.service import finding_reviews, review_label
from tracker.reminders.lights import Light, task_light, yellow_within
from tracker.reviews.queries import findings_with_tasks
from tracker.tasks.queries import light_rows

router = APIRouter(tags=["记录与亮灯"])

EVENT_TYPE = r"^[a-z_]+(\.[a-z_]+)*$"


@router.get("/campaigns/{campaign}/findings", response_model=list[FindingOut], summary="评估反馈问题")
def list_findings(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> list[FindingOut]:
    rows = findings_with_tasks(session, campaign.id, finding_clause(user))
    of = finding_reviews(session, [f.id for f, _ in rows])  # which review or 督查 round each is from
    return [FindingOut.model_validate({**columns_of(f), "task_id": task_id, "review_level": of[f.id].level,
                                       "review_label": review_label(of[f.id])}) for f, task_id in rows]


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
    rows, total = events_page(session, campaign.id, event_clause(user), type=type, task_id=task,
                              limit=limit, offset=offset)
    return Page[EventOut](items=[EventOut.model_validate(e) for e in rows], total=total, limit=limit, offset=offset)


@router.get("/campaigns/{campaign}/lights", response_model=list[UnitLightOut], summary="各单位亮灯（绿/黄/红）")
def list_lights(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> list[UnitLightOut]:
    """Each responsible unit's light (its worst task's) and how many of its tasks have each light.
    Units see their own light only."""
    calendar = store_calendar(session)
    today = local_today()
    role = role_of(user)
    if role is UserRole.department:
        rows = light_rows(session, campaign.id, department_id=user.department_id)
    elif role is UserRole.school:
        rows = light_rows(session, campaign.id, school_id=user.school_id)
    else:
        rows = light_rows(session, campaign.id)
    counts: dict[tuple[str, int], Counter] = {}
    within = yellow_within(campaign)
    for row in rows:
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
    names = {("department", i): n for i, n in department_names(session, campaign.id).items()}
    names.update({("school", i): n for i, n in school_names(session, campaign.id).items()})
    out = []
    for (kind, unit_id), counter in counts.items():
        worst = max(counter, key=lambda light: light.rank)
        out.append(UnitLightOut(unit_kind=kind, unit_id=unit_id, unit_name=names.get((kind, unit_id), "?"),
                                light=worst.value, red=counter[Light.red], yellow=counter[Light.yellow],
                                green=counter[Light.green]))
    out.sort(key=lambda u: (-Light(u.light).rank, u.unit_kind, u.unit_name))
    return out
