"""The region level (issue 15 §2): a 市/省 督导 account's roll-up of its counties, its own
reviews of them (市级复评 for a city, 省级评估 for a province; findings become the county's
tasks as ever) and its own notices. A county's own routes answer a region account as a
read-only 评估人员 of that county (``api.deps.county_viewer``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CAMPAIGN_CODE, MAX_ID, CurrentUser, DbSession, store_calendar
from api.schemas.campaigns import FindingOut
from api.schemas.common import columns_of
from api.schemas.reviews import FindingsIn, ReviewIn, VerdictIn
from tracker.accounts.regional import (
    account_region, account_region_marked, check_region_review, county_of_region, region_review, visible_region,
)
from tracker.clock import local_today
from tracker.org.queries import campaign_by_code
from tracker.regions.notices import issue_notice, region_notices
from tracker.regions.summaries import commit_if_written
from tracker.regions.rollup import region_rollup, rollup_json
from tracker.reviews import service as reviews

router = APIRouter(prefix="/regions", tags=["地区（市、省）"])

RegionCode = Annotated[str, Path(pattern=CAMPAIGN_CODE, description="地区编号")]
CountyCode = Annotated[str, Path(pattern=CAMPAIGN_CODE, description="县的创建工作编号")]
ReviewId = Annotated[int, Path(ge=1, le=MAX_ID, description="评估编号")]


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=200, description="标题")
    body: str = Field(default="", max_length=20_000, description="正文")


class RegionReviewOut(BaseModel):
    id: int
    campaign: str
    level: str
    phase_id: int
    held_on: dt.date | None
    verdict: str | None


def _review_out(campaign, review) -> RegionReviewOut:
    return RegionReviewOut(id=review.id, campaign=campaign.code, level=review.level, phase_id=review.phase_id,
                           held_on=review.held_on, verdict=review.verdict)


STATUS_DOC = {200: {"description": "{region, region_name, level, today, counties: [{campaign, county, phase, rank, "
                                    "tasks: {total, done, overdue, …}, cvs: {primary|junior: {1..7}}, light, …}]}",
                     "content": {"application/json": {}}}}


def _answer(figures: dict) -> Response:
    return Response(rollup_json(figures), media_type="application/json")


@router.get("/mine/status", summary="本地区各县创建进展、灯色和排名（市/省督导）", responses=STATUS_DOC)
def my_status(session: DbSession, user: CurrentUser) -> Response:
    region, mark, _ = account_region_marked(session, user)  # one statement: the region and its change mark
    figures = region_rollup(session, region, local_today(), mark=mark, prepare=store_calendar)
    commit_if_written(session)  # the assessment summaries refreshed on the way
    return _answer(figures)


@router.get("/{region}/status", summary="某地区各县创建进展、灯色和排名（本地区或所辖市）", responses=STATUS_DOC)
def region_status(session: DbSession, user: CurrentUser, region: RegionCode) -> Response:
    figures = region_rollup(session, visible_region(session, user, region), local_today(), prepare=store_calendar)
    commit_if_written(session)
    return _answer(figures)


@router.post("/counties/{campaign}/reviews", response_model=RegionReviewOut, status_code=201,
             summary="登记对某县的本级评估（市级复评或省级评估）")
def open_review(session: DbSession, user: CurrentUser, campaign: CountyCode, body: ReviewIn) -> RegionReviewOut:
    county = county_of_region(session, user, campaign_by_code(session, campaign))
    level = check_region_review(session, user, county, reviews.normalize_level(body.level))
    phase = reviews.find_phase(session, county, body.phase) if body.phase else \
        reviews.phase_for_level(session, county, level)
    review = reviews.open_review(session, county, phase, level, body.held_on, actor=user.name)
    session.commit()
    return _review_out(county, review)


@router.post("/reviews/{review_id}/findings", response_model=list[FindingOut], status_code=201,
             summary="录入本级评估的反馈问题：每个问题成为该县的一项整改任务（整批校验）")
def add_findings(session: DbSession, user: CurrentUser, review_id: ReviewId, body: FindingsIn) -> list[FindingOut]:
    _, review = region_review(session, user, review_id)
    seq = reviews.next_seq(session, review)
    findings = [reviews.finding_from_fields(text=item.text, units=[item.lead, *item.cooperating], due=item.due_on,
                                            indicator=item.indicator, seq=item.seq or seq + i,
                                            where=f"findings[{i}]")
                for i, item in enumerate(body.findings)]
    tasks = reviews.add_findings(session, review, findings, user.name)
    session.commit()
    task_of = {t.finding_id: t.id for t in tasks}
    return [FindingOut.model_validate({**columns_of(f), "task_id": task_of.get(f.id), "review_level": review.level,
                                       "review_label": reviews.review_label(review)})
            for f in reviews.findings_of(session, review) if f.id in task_of]


@router.post("/reviews/{review_id}/verdict", response_model=RegionReviewOut, summary="录入本级评估结论")
def record_verdict(session: DbSession, user: CurrentUser, review_id: ReviewId, body: VerdictIn) -> RegionReviewOut:
    campaign, review = region_review(session, user, review_id)
    reviews.record_verdict(session, review, body.verdict, user.name, note=body.note)
    session.commit()
    return _review_out(campaign, review)


@router.get("/{region}/notices", summary="本地区的通知")
def list_notices(session: DbSession, user: CurrentUser, region: RegionCode) -> list[dict]:
    return [columns_of(n) for n in region_notices(session, visible_region(session, user, region).id)]


@router.post("/mine/notices", status_code=201, summary="发布本地区通知（市/省督导）")
def post_notice(session: DbSession, user: CurrentUser, body: NoticeIn) -> dict:
    notice = issue_notice(session, account_region(session, user), body.title, body.body, user.name)
    session.commit()
    return columns_of(notice)
