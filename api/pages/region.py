"""地区总览 (issue 15 §2): a 市/省 督导 account's page of its counties — ranked, with lights —
each linking into the county's own pages, read-only (the account is shown them as a 评估人员 of
that county: ``api.deps.county_viewer``); and the region's own notices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.deps import CAMPAIGN_CODE, REGION_VIEW, CsrfChecked, DbSession, PageUser, store_calendar
from api.pages.common import flash, redirect, render
from api.templating import templates
from tracker.clock import local_today
from tracker.accounts.regional import account_region, county_of_region
from tracker.org.queries import campaign_by_code
from tracker.regions.notices import issue_notice, region_notices
from tracker.regions.summaries import commit_if_written
from tracker.regions.rollup import LIGHT_NAMES, region_rollup

router = APIRouter(include_in_schema=False)


@router.get("/region", response_class=HTMLResponse, name="region")
def region_page(request: Request, session: DbSession, user: PageUser) -> Response:
    region = account_region(session, user)
    store_calendar(session)  # the store's working days, built once per change (not per request)
    figures = region_rollup(session, region, local_today())
    commit_if_written(session)  # the assessment summaries refreshed on the way
    return render(request, session, user, "region.html", {
        "r": figures, "table_html": county_table(figures), "notices": region_notices(session, region.id, limit=10),
        "viewing": request.session.get(REGION_VIEW)})


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
