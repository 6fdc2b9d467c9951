"""考核 page (office and reviewers): the table of a period, departments and schools ranked
separately, the rule in words, and the .xlsx of the same period."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import DbSession, PageUser
from api.evidence import content_disposition
from api.pages.common import render, today
from tracker.accounts.access import require_role
from tracker.accounts.models import UserRole
from tracker.appraisal.service import appraise, parse_day
from tracker.org.models import Campaign

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table(session, user, start: str | None, end: str | None):
    require_role(user, UserRole.office, UserRole.reviewer, what="查看考核表")
    today(session)  # installs the store's working-day calendar
    campaign = session.get(Campaign, user.campaign_id)
    return campaign, appraise(session, campaign, parse_day(start, "开始日期"), parse_day(end, "结束日期"))


@router.get("/appraisal", response_class=HTMLResponse, name="appraisal")
def appraisal_page(request: Request, session: DbSession, user: PageUser, start: Annotated[str | None, Query(
        alias="from", max_length=20)] = None, end: Annotated[str | None, Query(alias="to", max_length=20)] = None,
                   ) -> Response:
    from notifications.appraisal import rule_lines

    _, result = _table(session, user, start, end)
    query = urlencode({"from": result.start.isoformat(), "to": result.end.isoformat()})
    return render(request, session, user, "appraisal.html", {
        "a": result, "rule": rule_lines(result.rule), "xlsx": f"/appraisal.xlsx?{query}"}, nav_path="/departments")


@router.get("/appraisal.xlsx", name="appraisal_xlsx")
def appraisal_xlsx(session: DbSession, user: PageUser, start: Annotated[str | None, Query(
        alias="from", max_length=20)] = None, end: Annotated[str | None, Query(alias="to", max_length=20)] = None,
                   ) -> Response:
    from notifications.appraisal import write_appraisal_xlsx

    campaign, result = _table(session, user, start, end)
    name = f"{campaign.county}考核表（{result.start.isoformat()}至{result.end.isoformat()}）.xlsx"
    return Response(write_appraisal_xlsx(result), media_type=XLSX, headers={
        "Content-Disposition": content_disposition(name), "Cache-Control": "private, no-store"})
