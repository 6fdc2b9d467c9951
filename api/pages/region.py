"""地区总览 (issue 15 §2): a 市/省 督导 account's page of its counties — ranked, with lights —
each linking into the county's own pages, read-only (the account is shown them as a 评估人员 of
that county: ``api.deps.county_viewer``); and the region's own notices.

The page is kept as bytes per viewer (``page_key``) and a page asked for again is sent by
``KeptRollups`` before FastAPI sees the request (as the roll-up API's JSON): one statement (the session, its account, the
region's change mark and header: ``tracker.accounts.regional.region_page_view``)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import (
    CAMPAIGN_CODE, CSRF_FIELD, REGION_VIEW, SESSION_CSRF, SESSION_TOKEN, CsrfChecked, DbSession, PageUser, csrf_token,
    optional_page_user, page_user, store_calendar, store_session,
)
from api.kept_answers import AnswerCache, app_path, bearer_token, send_kept
from api.pages.common import FLASH_KEY, flash, redirect, render
from api.templating import templates
from tracker.clock import local_today
from tracker.accounts.models import User
from tracker.accounts.regional import (
    RegionPageView, account_region, account_region_marked, county_of_region, region_of_api_token, region_page_view,
)
from tracker.db import get_engine, utcnow
from tracker.org.queries import campaign_by_code
from tracker.regions.notices import issue_notice, region_notices
from tracker.regions.summaries import commit_if_written
from tracker.regions.rollup import LIGHT_NAMES, kept_rollup, region_rollup, rollup_json

router = APIRouter(include_in_schema=False)


@router.get("/region", response_class=HTMLResponse, name="region")
async def region_page(request: Request) -> Response:
    """The page a province's 督导 keeps open: the store session, the log-in and the page in one
    worker thread (the dependencies would each take their own hop to the thread pool, which
    costs more than a kept page)."""
    return await run_in_threadpool(_region_page, request)


def _region_page(request: Request) -> Response:
    with contextmanager(store_session)() as session:
        return region_page_of(request, session, page_user(request, optional_page_user(request, session)))


def region_page_of(request: Request, session: Session, user: User) -> Response:
    region, mark, header = account_region_marked(session, user, header=True)  # one statement
    today = local_today()
    viewing = request.session.get(REGION_VIEW)
    key = page_key(str(session.get_bind().url), RegionPageView.of(user, region, mark, header), today, viewing)
    if FLASH_KEY not in request.session:  # a message to show once: rendered afresh, never kept
        kept = pages.get(key)
        if kept is not None:
            return HTMLResponse(with_csrf(kept, csrf_token(request)))
    figures = region_rollup(session, region, today, mark=mark, prepare=store_calendar)
    commit_if_written(session)  # the assessment summaries refreshed on the way
    context = {"r": figures, "table_html": county_table(figures), "notices": region_notices(session, region.id, limit=10),
               "viewing": viewing}
    if FLASH_KEY in request.session:
        return render(request, session, user, "region.html", context)
    page = render(request, session, user, "region.html", {**context, "csrf_input": _csrf_slot}).body
    pages.put(key, page)
    return HTMLResponse(with_csrf(page, csrf_token(request)))


# The page's bytes are kept per store, viewer (account, name, role, its campaign's header texts:
# ``RegionPageView``, with its region's change mark), Beijing date and the county it looks into:
# what differs between two requests of the same viewer is only the session's CSRF token, put
# into the kept bytes' slots. A province of a few thousand counties is still kept (8 MB).
pages = AnswerCache(max_bytes=64 * 1024 * 1024, max_answer=8 * 1024 * 1024)
CSRF_SLOT = b"\x00csrf\x00"
log = logging.getLogger(__name__)


def page_key(store: str, view: RegionPageView, today, viewing) -> tuple:
    return store, view, today, viewing if isinstance(viewing, str) else None


def _csrf_slot(request: Request) -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{CSRF_SLOT.decode()}">')


def with_csrf(page: bytes, token: str) -> bytes:
    return page.replace(CSRF_SLOT, str(escape(token)).encode())


MY_STATUS = "/api/v1/regions/mine/status"  # api/v1/regions.py ``my_status``


class KeptRollups:
    """ASGI middleware, just inside the session cookie's (``SessionMiddleware``: the cookie is read
    and written back by it, exactly as for the app), for a region account's two kept roll-ups:

    - a GET of /region whose page is kept is answered with the kept bytes and the session's CSRF
      token. Whatever the app would do more than that goes to the app: no or an ended session,
      one whose idle clock is to be moved on, no CSRF token yet (the app makes one), a flash
      message, nothing kept;
    - a GET of ``MY_STATUS`` with a region account's bearer token is answered with the JSON of
      the roll-up ``region_rollup`` keeps under the region's current change mark, if any.

    One statement each; any failure here also sends the request on to the app."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = app_path(scope)
            if path == "/region" and len(pages):
                body = await self._kept_page(scope)
                if body is not None:
                    await send_kept(send, body, b"text/html; charset=utf-8")
                    return
            elif path == MY_STATUS:
                body = await self._kept_status(scope)
                if body is not None:
                    await send_kept(send, body, b"application/json")
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _kept_page(scope: Scope) -> bytes | None:
        cookie = HTTPConnection(scope).session  # read as the route reads it (a "Vary: Cookie" alike)
        token, csrf = cookie.get(SESSION_TOKEN), cookie.get(SESSION_CSRF)
        if not isinstance(token, str) or not isinstance(csrf, str) or not csrf or FLASH_KEY in cookie:
            return None
        return await _looked_up(_kept_page, token, csrf, cookie.get(REGION_VIEW))

    @staticmethod
    async def _kept_status(scope: Scope) -> bytes | None:
        token = bearer_token(scope)  # the session cookie is left unread, as the route leaves it
        return None if not token else await _looked_up(_kept_status, token)


async def _looked_up(look_up, *args) -> bytes | None:
    try:
        return await run_in_threadpool(look_up, *args)
    except Exception:  # the app answers instead (and reports what is wrong)
        log.exception("kept roll-up: lookup failed")
        return None


def _kept_page(token: str, csrf: str, viewing) -> bytes | None:
    engine = get_engine()
    found = region_page_view(engine, token, utcnow())
    if found is None or found[1]:  # no region account logged in, or its idle clock to move on
        return None
    page = pages.get(page_key(str(engine.url), found[0], local_today(), viewing))
    return None if page is None else with_csrf(page, csrf)


def _kept_status(token: str) -> bytes | None:
    engine = get_engine()
    view = region_of_api_token(engine, token, utcnow())
    if view is None:
        return None
    figures = kept_rollup(str(engine.url), view.region.id, local_today(), view.mark)
    return None if figures is None else rollup_json(figures)


_tables: dict[int, tuple[dict, Markup]] = {}


def county_table(figures: dict) -> Markup:
    """The counties' table of one roll-up answer, rendered once: 100 counties' rows cost more than
    the rest of the page, and the answer (``region_rollup``) is the same until something changes."""
    kept = _tables.get(id(figures))
    if kept is not None and kept[0] is figures:
        return kept[1]
    html = Markup(templates.env.get_template("_region_table.html").render(r=figures, light_names=LIGHT_NAMES))
    if len(_tables) >= 64:
        _tables.clear()
    _tables[id(figures)] = (figures, html)
    return html


@router.get("/region/counties/{code}", name="region_county")
def look_into(request: Request, session: DbSession, user: PageUser,
              code: Annotated[str, Path(pattern=CAMPAIGN_CODE)]) -> Response:
    campaign = county_of_region(session, user, campaign_by_code(session, code))
    request.session[REGION_VIEW] = campaign.code
    return redirect("/overview")


@router.post("/region/notices", name="region_notice")
def post_notice(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                title: Annotated[str, Form(min_length=1, max_length=200)],
                body: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    issue_notice(session, account_region(session, user), title, body, user.name)
    session.commit()
    flash(request, "通知已发布")
    return redirect("/region")
