"""满意度调查 (issue 13 §3): the office's page of results, the .xlsx, and closing the round."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CsrfChecked, DbSession, PageUser
from api.evidence import content_disposition
from api.pages.common import flash, redirect, render
from tracker.accounts.access import require_role
from tracker.accounts.models import UserRole
from tracker.accounts.service import acting_person
from tracker.org.models import Campaign
from tracker.surveys import queries
from tracker.surveys.figure import results_data
from tracker.surveys.results_sheet import write_results_xlsx
from tracker.surveys.service import close_survey, standard_of, survey_for

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/survey", response_class=HTMLResponse, name="survey")
def survey_page(request: Request, session: DbSession, user: PageUser) -> Response:
    require_role(user, UserRole.office, UserRole.reviewer, what="查看满意度调查")
    campaign = session.get(Campaign, user.campaign_id)
    survey = queries.latest_survey(session, campaign.id)
    data = results_data(session, campaign, standard_of(campaign), survey) if survey is not None else None
    return render(request, session, user, "survey.html", {"data": data, "can_close": (
        survey is not None and survey.closed_at is None and UserRole(user.role) is UserRole.office)},
        nav_path="/reports")


@router.get("/survey/results.xlsx", name="survey_xlsx")
def survey_xlsx(session: DbSession, user: PageUser) -> Response:
    require_role(user, UserRole.office, UserRole.reviewer, what="下载满意度调查结果")
    campaign = session.get(Campaign, user.campaign_id)
    data = results_data(session, campaign, standard_of(campaign), survey_for(session, campaign))
    with tempfile.TemporaryDirectory() as tmp:
        content = write_results_xlsx(data, FilePath(tmp) / "满意度调查结果.xlsx").read_bytes()
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": content_disposition(f"{campaign.county}满意度调查结果.xlsx"),
        "Cache-Control": "private, no-store"})


@router.post("/survey/close", name="survey_close")
def survey_close(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked) -> Response:
    require_role(user, UserRole.office, what="结束满意度调查")
    campaign = session.get(Campaign, user.campaign_id)
    survey = close_survey(session, survey_for(session, campaign, open_only=True), acting_person(session, user).name)
    session.commit()
    flash(request, f"满意度调查「{survey.title}」已结束；答卷码不能再作答。按调查结果更新指标请重新评估（junheng reassess）")
    return redirect("/survey")
