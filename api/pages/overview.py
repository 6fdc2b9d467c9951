"""总览 (office and reviewers): the phase timeline with its gates and working days left, progress,
overdue and unacknowledged counts, a light per unit, this week's changes, calendar warnings."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import DbSession, PageUser
from api.pages.common import home_for, redirect, render, today
from tracker.accounts.access import require_role, role_of
from tracker.accounts.models import UserRole
from tracker.org.models import Campaign
from tracker.campaigns.overview import campaign_overview, event_name
from tracker.events.models import Event
from tracker.tasks.assign import describe_changes
from tracker.tasks.queries import task_titles as titles_of
from tracker.reviews.service import COUNTY_LEVEL, review_lines
from tracker.tasks.models import ExtensionStatus
from tracker.tasks.moves import campaign_extensions

router = APIRouter(include_in_schema=False)


def describe_event(event: Event) -> str:
    """What an event says, in a line: the move and its figures (progress, reason, file …)."""
    p = event.payload or {}
    name = event_name(event.type)
    details = []
    if event.type == "task.progress":
        details.append(f"进度 {p.get('percent')}%")
        if p.get("note"):
            details.append(str(p["note"]))
    elif event.type in ("task.returned", "task.withdrawn", "task.reopened", "submission.returned"):
        if p.get("reason"):
            details.append(f"原因：{p['reason']}")
    elif event.type in ("task.submitted", "task.verified") and p.get("note"):
        details.append(str(p["note"]))
    elif event.type == "task.due_changed":
        if p.get("due_from") and p.get("due_to"):
            details.append(f"{p['due_from']} → {p['due_to']}")
        if p.get("reason"):
            details.append(f"原因：{p['reason']}")
    elif event.type in ("task.extension_requested", "task.extension_approved"):  # issue 12 §2
        if p.get("due_from") and p.get("due_to"):
            details.append(f"{p['due_from']} → {p['due_to']}")
        if p.get("reason") or p.get("note"):
            details.append(f"{'理由' if p.get('reason') else '意见'}：{p.get('reason') or p.get('note')}")
    elif event.type == "task.extension_refused":
        details.append(f"申请延至 {p.get('asked_for', '')}")
        if p.get("reason"):
            details.append(f"原因：{p['reason']}")
    elif event.type == "task.transferred":  # issue 12 §3
        details.append(f"{p.get('from_unit', '')} → {p.get('to_unit', '')}")
        if p.get("reason"):
            details.append(f"原因：{p['reason']}")
    elif event.type == "task.split":
        details.append(f"分解为 {p.get('count', 0)} 项子任务（{'、'.join(p.get('units') or [])}）")
    elif event.type == "task.cooperator_reported":
        details.append(f"{p.get('unit', '')} 进度 {p.get('percent')}%")
        if p.get("note"):
            details.append(str(p["note"]))
    elif event.type == "task.cooperator_chased":
        details.append(str(p.get("unit", "")))
        if p.get("note"):
            details.append(str(p["note"]))
    elif event.type == "task.edited":  # the office changed a task it assigned (issue 12)
        details.append(describe_changes(p.get("changes") or {}))
        if p.get("reason"):
            details.append(f"原因：{p['reason']}")
    elif event.type == "evidence.added":
        details.append(str(p.get("filename", "")))
    elif event.type in ("submission.imported", "submission.received"):
        details.append(str(p.get("label") or p.get("school") or p.get("filename") or ""))
    elif event.type == "assessment.completed":
        details.append(f"问题 {p.get('shortfalls', 0)} 项")
    elif event.type in ("phase.gate_passed", "phase.activated"):
        details.append(str(p.get("name", "")))
    elif event.type == "review.opened":
        details.append(f"{p.get('level', '')}{p.get('round') or ''}")
    elif event.type == "review.verdict":
        details.append(f"{p.get('level', '')}：{p.get('verdict', '')}")
    elif event.type == "task.created" and p.get("title") and event.task_id is None:
        details.append(str(p["title"]))
    return name + ("：" + "；".join(d for d in details if d) if any(details) else "")


def task_titles(session: Session, events: list[Event]) -> dict[int, str]:
    return titles_of(session, (e.task_id for e in events if e.task_id is not None))


@router.get("/", response_class=HTMLResponse, name="home")
def home(session: DbSession, user: PageUser) -> Response:
    campaign = session.get(Campaign, user.campaign_id)
    return redirect(home_for(user, campaign.kind if campaign else "county"))


@router.get("/overview", response_class=HTMLResponse, name="overview")
def overview(request: Request, session: DbSession, user: PageUser) -> Response:
    require_role(user, UserRole.office, UserRole.reviewer, what="总览")
    campaign = session.get(Campaign, user.campaign_id)
    data = campaign_overview(session, campaign, today(session))
    units = sorted(data.units, key=lambda u: (-(u.light.rank if u.light else -1), -u.overdue, u.kind != "department"))
    return render(request, session, user, "overview.html", {
        "o": data, "units": units, "describe": describe_event, "titles": task_titles(session, data.week_events),
        "event_name": event_name, "reviews": review_lines(session, campaign), "county_level": COUNTY_LEVEL,
        # issue 12 §2: the 延期申请 waiting for the office's decision
        "pending_extensions": campaign_extensions(session, campaign.id, status=ExtensionStatus.pending)
        if role_of(user) is UserRole.office else [],
    })
