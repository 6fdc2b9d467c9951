"""Reviews and the county's own 督查: list them, open one (市级/省级/国家 or a 县级督查 round),
enter its findings (each becomes a rectification task) and record its verdict. The office
writes; the office and reviewers read the list; units see their findings under
``/campaigns/{campaign}/findings`` and their tasks as ever."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import Session

from api.deps import MAX_ID, CountyReader, DbSession, OfficeUser, UserCampaign
from api.errors import CONFLICT_RESPONSE
from api.schemas.campaigns import FindingOut
from api.schemas.common import columns_of
from api.schemas.reviews import FindingsIn, ReviewIn, ReviewOut, VerdictIn
from tracker.accounts.models import User
from tracker.accounts.service import acting_person
from tracker.org.models import Campaign
from tracker.reviews import service as reviews
from tracker.reviews.models import Review

router = APIRouter(tags=["评估与督查"])

ReviewId = Annotated[int, Path(ge=1, le=MAX_ID, description="评估编号")]


def _line_out(line: reviews.ReviewLine) -> ReviewOut:
    review = line.review
    return ReviewOut.model_validate({
        **columns_of(review), "label": line.label, "phase": line.phase_name,
        "verdict_needed": not reviews.is_county(review) and review.verdict is None,
        "findings": line.findings, "open_tasks": line.open_tasks})


def _out(session: Session, campaign: Campaign, review: Review) -> ReviewOut:
    return _line_out(next(line for line in reviews.review_lines(session, campaign, review.level)
                          if line.review.id == review.id))


def _campaign_and_review(session: Session, user: User, review_id: int) -> tuple[Campaign, Review]:
    campaign = session.get(Campaign, user.campaign_id)
    return campaign, reviews.review_in(session, campaign, review_id)  # another campaign's: 404


@router.get("/campaigns/{campaign}/reviews", response_model=list[ReviewOut], summary="评估与县级督查（办公室、评估专家）")
def list_reviews(session: DbSession, user: CountyReader, campaign: UserCampaign) -> list[ReviewOut]:
    return [_line_out(line) for line in reviews.review_lines(session, campaign)]


@router.post("/campaigns/{campaign}/reviews", response_model=ReviewOut, status_code=201,
             summary="登记评估或一轮县级督查（办公室）")
def open_review(session: DbSession, user: OfficeUser, campaign: UserCampaign, body: ReviewIn) -> ReviewOut:
    if body.phase:
        phase = reviews.find_phase(session, campaign, body.phase)
    else:
        phase = reviews.phase_for_level(session, campaign, body.level)
    review = reviews.open_review(session, campaign, phase, body.level, body.held_on,
                                 actor=acting_person(session, user).name,
                                 round_name=body.round_name, team=body.team, scope=body.scope)
    session.commit()
    return _out(session, campaign, review)


@router.post("/reviews/{review_id}/findings", response_model=list[FindingOut], status_code=201,
             summary="录入反馈问题，每个问题建立一项整改任务（办公室；整批校验，有问题则不录入）")
def add_findings(session: DbSession, user: OfficeUser, review_id: ReviewId, body: FindingsIn) -> list[FindingOut]:
    _, review = _campaign_and_review(session, user, review_id)
    first = reviews.next_seq(session, review)
    given = {f.seq for f in body.findings if f.seq is not None}
    findings, auto = [], first
    for number, item in enumerate(body.findings):
        seq = item.seq
        if seq is None:  # numbered on from the review's highest, skipping those given in the body
            while auto in given:
                auto += 1
            seq, auto = auto, auto + 1
        findings.append(reviews.finding_from_fields(
            text=item.text, units=[item.lead, *item.cooperating], due=item.due_on, indicator=item.indicator,
            seq=seq, where=f"findings[{number}]"))
    tasks = reviews.add_findings(session, review, findings, acting_person(session, user))
    session.commit()
    stored = reviews.findings_of(session, review)
    by_seq = {f.seq: f for f in stored}
    task_of = {t.finding_id: t.id for t in tasks}
    return [FindingOut.model_validate({**columns_of(by_seq[f.seq]), "task_id": task_of.get(by_seq[f.seq].id),
                                       "review_level": review.level, "review_label": reviews.review_label(review)})
            for f in findings]


@router.post("/reviews/{review_id}/verdict", response_model=ReviewOut, responses=CONFLICT_RESPONSE,
             summary="录入评估结论（办公室；县级督查可不录）")
def record_verdict(session: DbSession, user: OfficeUser, review_id: ReviewId, body: VerdictIn) -> ReviewOut:
    campaign, review = _campaign_and_review(session, user, review_id)
    reviews.record_verdict(session, review, body.verdict, acting_person(session, user), note=body.note)
    session.commit()
    return _out(session, campaign, review)
