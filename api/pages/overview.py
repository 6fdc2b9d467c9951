"""总览 (office and reviewers): the phase timeline with its gates and working days left, progress,
overdue and unacknowledged counts, a light per unit, this week's changes, calendar warnings."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from contextlib import contextmanager

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import (
    CSRF_FIELD, SESSION_CSRF, SESSION_TOKEN, DbSession, PageUser, csrf_token, optional_page_user, page_user,
    store_session,
)
from api.kept_answers import AnswerCache, app_path, send_kept
from api.pages.common import FLASH_KEY, home_for, redirect, render, today
from tracker.clock import local_today
from tracker.accounts.access import require_role, role_of
from tracker.accounts.models import User, UserRole
from tracker.accounts.sessions import page_viewer
from tracker.db import get_engine, utcnow
from tracker.org.models import Campaign
from tracker.campaigns.overview import campaign_overview, event_name, overview_mark
from tracker.events.models import Event
from tracker.tasks.assign import describe_changes
from tracker.tasks.queries import task_titles as titles_of
from tracker.reviews.service import COUNTY_LEVEL, review_lines
from tracker.tasks.models import ExtensionStatus
from tracker.tasks.moves import campaign_extensions

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


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
async def overview(request: Request) -> Response:
    """The store session, the log-in and the page in one worker thread (the dependencies would
    each take their own hop to the thread pool, which costs more than a kept page)."""
    return await run_in_threadpool(_overview, request)


def _overview(request: Request) -> Response:
    with contextmanager(store_session)() as session:
        return overview_of(request, session, page_user(request, optional_page_user(request, session)))


def overview_of(request: Request, session: Session, user: User) -> Response:
    require_role(user, UserRole.office, UserRole.reviewer, what="总览")
    key = overview_key(session, user)
    if key is not None and FLASH_KEY not in request.session:  # a message to show once: never kept
        kept = pages.get(key)
        if kept is not None:
            return HTMLResponse(with_csrf(kept, request))
    campaign = session.get(Campaign, user.campaign_id)
    data = campaign_overview(session, campaign, today(session))
    units = sorted(data.units, key=lambda u: (-(u.light.rank if u.light else -1), -u.overdue, u.kind != "department"))
    context = {
        "o": data, "units": units, "describe": describe_event, "titles": task_titles(session, data.week_events),
        "event_name": event_name, "reviews": review_lines(session, campaign), "county_level": COUNTY_LEVEL,
        # issue 12 §2: the 延期申请 waiting for the office's decision
        "pending_extensions": campaign_extensions(session, campaign.id, status=ExtensionStatus.pending)
        if role_of(user) is UserRole.office else [],
    }
    if key is None or FLASH_KEY in request.session:
        return render(request, session, user, "overview.html", context)
    page = render(request, session, user, "overview.html", {**context, "csrf_input": csrf_slot}).body
    pages.put(key, page)
    return HTMLResponse(with_csrf(page, request))


# Kept pages (issue 10): the bytes per store, campaign, overview mark (read before the figures),
# Beijing date and viewer (account, name, role, unit: the header, the nav, the 延期申请 shown to
# the office only). What differs between two requests of one viewer is only the session's CSRF
# token (the 退出 form), put into the kept bytes' slots; a page with a flash message is never kept.
CSRF_SLOT = b"\x00csrf\x00"


pages = AnswerCache(max_bytes=16 * 1024 * 1024)  # the bytes with their CSRF slots


def overview_key(session: Session, user: User) -> Hashable | None:
    """The key of the viewer's page now; None when the campaign's mark is not known."""
    mark = overview_mark(session, user.campaign_id)
    if mark is None:
        return None
    return page_key(str(session.get_bind().url), user.campaign_id, mark, user.id, user.name, user.role,
                    user.department_id, user.school_id)


def page_key(store: str, campaign_id: int, mark: int, user_id: int, name: str, role: str,
             department_id: int | None, school_id: int | None) -> Hashable:
    """One key for the route and ``KeptOverviews`` alike: a page is sent only under the key it
    was made with."""
    return store, campaign_id, mark, local_today(), user_id, name, UserRole(role).value, department_id, school_id


def csrf_slot(request: Request) -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{CSRF_SLOT.decode()}">')


def with_csrf(page: bytes, request: Request) -> bytes:
    return str(escape(csrf_token(request))).encode().join(page.split(CSRF_SLOT))


class KeptOverviews:
    """ASGI middleware, just inside the session cookie's (as ``api.pages.region.KeptRollups``): a
    GET of /overview whose page is kept for the session's viewer is answered with the kept bytes
    and the session's CSRF token, in one statement (the session, its user and the campaign's
    revision: ``tracker.accounts.sessions.page_viewer``). Whatever the app would do more than that
    goes to the app: no or an ended session, one whose idle clock is to be moved on, no CSRF token
    yet, a flash message, a region account (its county view is the app's), nothing kept, any error."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and len(pages) and app_path(scope) == "/overview":
            cookie = HTTPConnection(scope).session
            token, csrf = cookie.get(SESSION_TOKEN), cookie.get(SESSION_CSRF)
            if isinstance(token, str) and isinstance(csrf, str) and csrf and FLASH_KEY not in cookie:
                try:
                    body = await run_in_threadpool(_kept_page, token, csrf)
                except Exception:  # the app answers instead (and reports what is wrong)
                    log.exception("kept 总览: lookup failed")
                    body = None
                if body is not None:
                    await send_kept(send, body, b"text/html; charset=utf-8")
                    return
        await self.app(scope, receive, send)


def _kept_page(token: str, csrf: str) -> bytes | None:
    engine = get_engine()
    found = page_viewer(engine, token, utcnow())
    if found is None or found[1]:  # no one logged in, or the idle clock to move on (the app does)
        return None
    viewer = found[0]
    if viewer.stamp is None or UserRole(viewer.role) not in (UserRole.office, UserRole.reviewer):
        return None
    page = pages.get(page_key(str(engine.url), viewer.campaign_id, viewer.stamp, viewer.user_id, viewer.name,
                              viewer.role, viewer.department_id, viewer.school_id))
    return None if page is None else str(escape(csrf)).encode().join(page.split(CSRF_SLOT))
