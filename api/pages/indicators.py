"""指标 (office and reviewers): per stage, the 7 resource indicators' county value against the
standard and CV against its limit (charts and the same figures as a table), the schools that fall
short and by how much; the county-level indicators with status, tasks and evidence; the 资料汇编
download per indicator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import DbSession, PageUser
from api.evidence import archive_response
from api.pages.common import render
from api.schemas.common import TEXT_PATTERN
from tracker.accounts.access import check_reads_county_results
from tracker.campaigns.board import indicator_board, latest_snapshot
from tracker.org.models import Campaign
from tracker.schooldata.models import DataSubmission

router = APIRouter(include_in_schema=False)

STATUS_NAMES = {"pass": "达标", "fail": "不达标", "unknown": "待录入", "scored": "已评分"}
STATUS_CLASSES = {"pass": "ok", "fail": "bad", "unknown": "yellow"}


@router.get("/indicators", response_class=HTMLResponse, name="indicators")
def indicators(request: Request, session: DbSession, user: PageUser) -> Response:
    check_reads_county_results(user)
    campaign = session.get(Campaign, user.campaign_id)
    snapshot = latest_snapshot(session, campaign)
    board = indicator_board(session, campaign, snapshot) if snapshot is not None else None
    submission = session.get(DataSubmission, snapshot.submission_id) if snapshot is not None else None
    return render(request, session, user, "indicators.html", {
        "board": board, "submission": submission, "status_names": STATUS_NAMES, "status_classes": STATUS_CLASSES,
    })


@router.get("/indicators/gap-plan", response_class=HTMLResponse, name="gap_plan")
def gap_plan(request: Request, session: DbSession, user: PageUser,
             margin: Annotated[float, Query(ge=0, lt=0.45)] = 0.02) -> Response:
    """补短板测算 over the latest assessment (issue 14): computed on request, the solver takes seconds."""
    check_reads_county_results(user)
    from tracker.gaps.campaign import campaign_gap_plan
    from tracker.gaps.costs import read_costs
    from tracker.gaps.report import plan_json

    campaign = session.get(Campaign, user.campaign_id)
    data = None
    if latest_snapshot(session, campaign) is not None:
        data = plan_json(campaign_gap_plan(session, campaign, read_costs(), margin))
        session.commit()  # kept: tasks and the 任务分解表 show its amounts
    return render(request, session, user, "gap_plan.html", {"plan": data, "margin": margin,
                                                            "stage_names": {"primary": "小学", "junior": "初中"}})


@router.get("/indicators/archive", name="indicator_archive")
def indicator_archive(
    session: DbSession, user: PageUser,
    indicator: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN)] = None,
) -> Response:
    """资料汇编 of one indicator (or all): a zip with 目录.xlsx and every evidence file."""
    campaign = session.get(Campaign, user.campaign_id)
    return archive_response(session, user, campaign, indicator)
