"""The dependencies routes declare: the store session, who is asking, their campaign, and CSRF.

For the API (bearer tokens, ``Authorization: Bearer …`` from ``POST /api/v1/auth/token``):

    DbSession        a store session; write routes commit it themselves
    CurrentUser      the user of the bearer token, else 401
    OfficeUser       CurrentUser who must be office, else 403 (``require_role(...)`` for others)
    UserCampaign     the ``{campaign}`` path parameter (a campaign code) resolved, and it must be
                     the user's campaign (another campaign's code answers 404)

For pages (the session cookie set by ``POST /login``):

    PageUser         the logged-in user, else a 303 to /login?next=…
    OptionalPageUser the logged-in user or None
    CsrfChecked      every form POST declares it: the form's ``csrf_token`` field (or the
                     ``X-CSRF-Token`` header) must equal the session's token, else 403
    csrf_token(request)   the session's token (made on first use); templates call it

And ``store_calendar(session)``: the working-day calendar of the store, for counting days.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from api.errors import LoginRequired
from tracker.accounts.access import AccessDenied, require_role as check_role
from tracker.accounts.models import User, UserRole
from tracker.accounts.regional import county_view, is_region_account
from tracker.accounts.service import verify_token, verify_token_in
from tracker.accounts.sessions import end_session, session_user, start_session, touch_session
from tracker.calendar import WorkingDayCalendar, set_active_calendar
from tracker.calendar.queries import stored_calendar_rows
from tracker.calendar.working_days import ImportedYear, OverrideDay
from tracker.org.models import Campaign
from tracker.org.service import CampaignNotFound
from tracker.db import get_engine, utcnow
from tracker.org.queries import campaign_by_code

TOKEN_URL = "/api/v1/auth/token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TOKEN = "sid"  # the page session's token (tracker.accounts.sessions)
SESSION_CSRF = "csrf"

# A campaign code in a path: printable, no slash (codes come from plans: 示例县2027, demo …)
CAMPAIGN_CODE = r"^[^\x00-\x1f\x7f/]{1,64}$"
MAX_ID = 2_147_483_647  # ids are 32-bit integers in PostgreSQL


_calendars: dict[tuple, WorkingDayCalendar] = {}
_calendars_lock = threading.Lock()


def store_calendar(session: Session) -> WorkingDayCalendar:
    """The store's working-day calendar, made the one in use. Read on every request (one small
    query over both tables, so an import shows at once) but built only when the imported years change: a built
    calendar keeps its year tables, which are what counting days costs."""
    years, overrides = stored_calendar_rows(session)
    key = (years, overrides)
    with _calendars_lock:
        calendar = _calendars.get(key)
        if calendar is None:
            if len(_calendars) >= 8:
                _calendars.clear()
            calendar = _calendars[key] = WorkingDayCalendar([ImportedYear(*y) for y in years],
                                                            [OverrideDay(*o) for o in overrides])
    set_active_calendar(calendar)
    return calendar


def store_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


DbSession = Annotated[Session, Depends(store_session)]

bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False,
                              description="用 POST /api/v1/auth/token 取得的令牌")


def current_user(request: Request, session: DbSession, token: Annotated[str | None, Depends(bearer)]) -> User:
    if not token:
        raise LoginRequired("请先登录：请求头需带 Authorization: Bearer <令牌>（由 POST /api/v1/auth/token 取得）")
    code = request.path_params.get("campaign")
    if isinstance(code, str):
        # a request about a campaign: the token, its user and the campaign in one statement
        # (user_campaign takes the campaign from request.state rather than reading it again)
        user, request.state.campaign = verify_token_in(session, token, code)
    else:
        user = verify_token(session, token)
    if user is None:
        raise LoginRequired("令牌无效或已过期，请重新登录取得令牌")
    request.state.user = county_viewer(request, session, user, code)
    return request.state.user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: UserRole, what: str = "此操作") -> Callable[..., User]:
    """A dependency: the current API user, who must have one of ``roles`` (else 403)."""

    def dependency(user: CurrentUser) -> User:
        check_role(user, *roles, what=what)
        return user

    return dependency


OfficeUser = Annotated[User, Depends(require_role(UserRole.office))]
CountyReader = Annotated[User, Depends(require_role(UserRole.office, UserRole.reviewer, what="查看全县情况"))]


def campaign_of(user: User, session: Session, code: str) -> Campaign:
    # the campaign without its plan (32 KB of JSON, parsed on every request before): what a request
    # needs of the plan, the light rule, comes with it (tracker.tasks.queries.campaign_by_code)
    campaign = campaign_by_code(session, code)
    if campaign is None or campaign.id != user.campaign_id:
        raise CampaignNotFound(f"没有编号为「{code}」的创建工作")
    return campaign


async def user_campaign(request: Request, user: CurrentUser, session: DbSession,
                        campaign: Annotated[str, Path(pattern=CAMPAIGN_CODE, description="创建工作编号")]) -> Campaign:
    # async: the campaign was read with the token (current_user), so this costs no trip to the
    # thread pool; only when it was not is it read there
    found = getattr(request.state, "campaign", None)
    if found is not None and found.code == campaign:
        if found.id != user.campaign_id:
            raise CampaignNotFound(f"没有编号为「{campaign}」的创建工作")
        return found
    return await run_in_threadpool(campaign_of, user, session, campaign)


UserCampaign = Annotated[Campaign, Depends(user_campaign)]


# ---------------------------------------------------------------------------------------------
# region accounts (issue 15 §2): looking into a county of the region, read-only

REGION_VIEW = "county"  # the page session's key: the campaign code a region account looks into
REGION_OWN_PATHS = ("/region", "/account", "/login", "/logout", "/api/v1/regions")  # its own: not a county's


def county_viewer(request: Request, session: Session, user: User, code: str | None) -> User:
    """A region account asking for a county of its region (``code``, a campaign code) is answered
    as a read-only 评估人员 of that county (``tracker.accounts.regional.county_view``); another
    region's county does not exist for it (404). Anyone else, and a region account on its own
    paths, is answered as they are."""
    if not is_region_account(user) or not code or request.url.path.startswith(REGION_OWN_PATHS):
        return user
    return county_view(session, user, campaign_by_code(session, code))


# ---------------------------------------------------------------------------------------------
# pages


# --- page sessions (issue 11): the cookie carries a session token; the session is a store row ---


def log_in(request: Request, session: Session, user: User) -> None:
    """Start a page session for ``user`` (a fresh CSRF token too: nothing carries over). The
    caller commits."""
    previous = request.session.get(SESSION_TOKEN)
    if isinstance(previous, str):  # logging in again in the same browser: the old session ends
        end_session(session, previous)
    request.session.clear()
    request.session[SESSION_TOKEN] = start_session(session, user, utcnow())
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def log_out(request: Request, session: Session) -> None:
    """End the session in the store (a copy of the cookie is worthless from now on); commits."""
    token = request.session.get(SESSION_TOKEN)
    if isinstance(token, str):
        end_session(session, token)
        session.commit()
    request.session.clear()


def optional_page_user(request: Request, session: DbSession) -> User | None:
    token = request.session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    now = utcnow()
    found = session_user(session, token, now)  # one indexed lookup
    if found is None:
        request.session.pop(SESSION_TOKEN, None)
        return None
    if found.stale:  # the idle clock moves on every few minutes, not on every request
        touch_session(session, token, now)
        session.commit()
    user = found.user
    if is_region_account(user) and not request.url.path.startswith(REGION_OWN_PATHS):
        wanted = request.session.get(REGION_VIEW)
        user = county_viewer(request, session, user, wanted if isinstance(wanted, str) else None)
    request.state.user = user
    return user


# --- end of page sessions ---


def page_user(request: Request, user: Annotated[User | None, Depends(optional_page_user)]) -> User:
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired("请先登录", next_path=path)
    return user


OptionalPageUser = Annotated[User | None, Depends(optional_page_user)]
PageUser = Annotated[User, Depends(page_user)]


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


CSRF_REJECTED = "表单已过期或来源不明（安全校验未通过），请返回刷新页面后重新提交"


async def check_csrf(request: Request) -> None:
    expected = request.session.get(SESSION_CSRF)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # parsed once: FastAPI's own Form() parameters reuse it
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not expected or not sent or not secrets.compare_digest(sent, expected):
        raise AccessDenied(CSRF_REJECTED)


CsrfChecked = Annotated[None, Depends(check_csrf)]
