"""The 签收 page behind the signed link in a 任务交办单 or 签收提醒.

GET shows the task and a 签收 button and changes nothing — mail scanners and link previews open
links on their own. Only the button's POST signs, as the person the link was made for
(``lifecycle.accept``), and signing twice is harmless: the page then says who signed and when.
A tampered or expired link gets a 400 page in Chinese.

No CSRF token here, by design — the one form of the site without one (tests/api/test_csrf.py
lists it as the exemption). The page has no session to forge a request in: the signed, expiring
token in the link is the secret, and it can do one thing only, sign the one task for the one
person it was made for. A forged POST would need the link itself, which already signs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api.deps import OptionalPageUser
from tracker.clock import zone
from tracker.org.models import Campaign, Person
from tracker.db import get_engine, utcnow
from tracker.reminders.ack import AckClaim, AckTokenError, read_ack_token
from tracker.tasks import lifecycle
from tracker.tasks.lifecycle import NotPermitted, TransitionError
from tracker.tasks.models import Task, TaskStatus
from tracker.tasks.service import cooperators

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def store_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def _problem(request: Request, status: int, title: str, message: str) -> Response:
    return templates.TemplateResponse(request, "ack_problem.html", {"title": title, "message": message},
                                      status_code=status)


def _claim(request: Request, token: str, session: Session) -> tuple[AckClaim, Task, Person] | Response:
    try:
        claim = read_ack_token(token, utcnow())
    except AckTokenError as exc:
        return _problem(request, 400, "签收链接已过期" if exc.expired else "签收链接无效", exc.message)
    task = session.get(Task, claim.task_id)
    person = session.get(Person, claim.person_id)
    if task is None or person is None or person.campaign_id != task.campaign_id:
        return _problem(request, 400, "签收链接无效", "链接对应的任务或人员已不存在，请联系领导小组办公室。")
    return claim, task, person


def task_link(task: Task, logged_in: bool) -> str:
    """Where the page links to the task: its page when this browser is logged in (access is then
    checked there as always), else the login page, which goes on to it."""
    path = f"/tasks/{task.id}"
    return path if logged_in else "/login?next=" + quote(path, safe="")


def _page(request: Request, session: Session, task: Task, person: Person, token: str, *,
          status_code: int = 200, message: str = "", logged_in: bool = False) -> Response:
    campaign = session.get(Campaign, task.campaign_id)
    signer = session.get(Person, task.assignee_id) if task.assignee_id else None
    status = TaskStatus(task.status)
    return templates.TemplateResponse(request, "ack.html", {
        "token": token,
        "task": task,
        "campaign": campaign,
        "person": person,
        "unit": lifecycle.unit_name(session, task),
        "cooperating": [d.name for d in cooperators(session, task)],
        "status": status.value,
        "can_sign": status is TaskStatus.assigned,
        "signed_at": (task.acknowledged_at.astimezone(zone()).strftime("%Y-%m-%d %H:%M")
                      if task.acknowledged_at else None),
        "signer": signer.name if signer else None,
        "closed": status in (TaskStatus.verified, TaskStatus.withdrawn),
        "message": message,
        "task_link": task_link(task, logged_in),
    }, status_code=status_code)


@router.get("/ack/{token}", response_class=HTMLResponse)
def show_task(request: Request, token: str, user: OptionalPageUser,
              session: Session = Depends(store_session)) -> Response:
    found = _claim(request, token, session)
    if isinstance(found, Response):
        return found
    _claim_, task, person = found
    return _page(request, session, task, person, token, logged_in=user is not None)


# CSRF-exempt on purpose: the signed token in the path is the secret (see the module docstring)
@router.post("/ack/{token}", response_class=HTMLResponse)
def sign_task(request: Request, token: str, session: Session = Depends(store_session)) -> Response:
    found = _claim(request, token, session)
    if isinstance(found, Response):
        return found
    _claim_, task, person = found
    if TaskStatus(task.status) is TaskStatus.assigned:
        try:
            lifecycle.accept(session, task, person)
            session.commit()
        except NotPermitted as exc:
            session.rollback()
            return _page(request, session, task, person, token, status_code=403, message=exc.message)
        except TransitionError:
            session.rollback()  # signed by someone else a moment ago: show what stands
            session.refresh(task)
    # back to the page (303): reloading it does not post again
    return RedirectResponse(request.url_for("show_task", token=token), status_code=303)
