"""地区总览 (issue 15 §2): a 市/省 督导 account's page of its counties — ranked, with lights —
each linking into the county's own pages, read-only (the account is shown them as a 评估人员 of
that county: ``api.deps.county_viewer``); and the region's own notices."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import (
    CAMPAIGN_CODE, CSRF_FIELD, REGION_VIEW, CsrfChecked, DbSession, PageUser, csrf_token, optional_page_user, page_user,
    store_calendar, store_session,
)
from api.pages.common import FLASH_KEY, flash, redirect, render
from api.templating import templates
from tracker.clock import local_today
from tracker.accounts.models import User
from tracker.accounts.regional import account_region, account_region_marked, county_of_region
from tracker.org.queries import campaign_by_code
from tracker.regions.notices import issue_notice, region_notices
from tracker.regions.summaries import commit_if_written
from tracker.regions.rollup import LIGHT_NAMES, region_rollup

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
    key = (str(session.get_bind().url), region.id, today, mark, header, user.id, user.name, user.role,
           user.campaign_id, viewing if isinstance(viewing, str) else None)
    if FLASH_KEY not in request.session:  # a message to show once: rendered afresh, never kept
        kept = _pages.get(key)
        if kept is not None:
            return HTMLResponse(with_csrf(kept, request))
    figures = region_rollup(session, region, today, mark=mark, prepare=store_calendar)
    commit_if_written(session)  # the assessment summaries refreshed on the way
    context = {"r": figures, "table_html": county_table(figures), "notices": region_notices(session, region.id, limit=10),
               "viewing": viewing}
    if FLASH_KEY in request.session:
        return render(request, session, user, "region.html", context)
    page = render(request, session, user, "region.html", {**context, "csrf_input": _csrf_slot}).body
    parts = tuple(page.split(CSRF_SLOT))
    with _pages_lock:
        if len(_pages) >= 64:
            _pages.clear()
        _pages[key] = parts
    return HTMLResponse(with_csrf(parts, request))


# The page's bytes are kept per region, change mark, Beijing date and viewer (account, name,
# role, its campaign's header texts, the county it looks into): what differs between two
# requests of the same viewer is only the session's CSRF token, put into the kept bytes' slots.
_pages: dict[tuple, tuple[bytes, ...]] = {}
_pages_lock = threading.Lock()
CSRF_SLOT = b"\x00csrf\x00"


def _csrf_slot(request: Request) -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{CSRF_SLOT.decode()}">')


def with_csrf(parts: tuple[bytes, ...], request: Request) -> bytes:
    return str(escape(csrf_token(request))).encode().join(parts)


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
