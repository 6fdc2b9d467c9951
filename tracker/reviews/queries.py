"""Reading reviews and their findings (评估反馈问题), for the API, the pages and `junheng review list`,
and which verdicts count for a phase's gate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from tracker.org.models import Campaign, Phase
from tracker.reviews.levels import COUNTY_LEVEL, normalize_level, review_label
from tracker.reviews.models import Review, ReviewFinding
from tracker.tasks.lifecycle import OPEN
from tracker.tasks.models import Task
from tracker.tasks.queries import finding_task_ids


def reviews(session: Session, campaign_id: int) -> list[Review]:
    """The campaign's reviews in the order they were entered."""
    return list(session.exec(select(Review).where(Review.campaign_id == campaign_id).order_by(Review.id)))


def finding_counts(session: Session, review_ids: Iterable[int]) -> dict[int, int]:
    """How many findings each review has, by review id (reviews without any are left out)."""
    ids = list(review_ids)
    if not ids:
        return {}
    return dict(session.exec(select(ReviewFinding.review_id, func.count()).where(ReviewFinding.review_id.in_(ids))
                             .group_by(ReviewFinding.review_id)).all())


def findings_with_tasks(session: Session, campaign_id: int,
                        visible: ColumnElement[bool]) -> list[tuple[ReviewFinding, int | None]]:
    """The campaign's findings among those ``visible`` (an access clause of
    tracker.accounts.access), by review and number, each with its task's id."""
    findings = list(session.exec(select(ReviewFinding).where(visible, ReviewFinding.campaign_id == campaign_id)
                                 .order_by(ReviewFinding.review_id, ReviewFinding.seq)))
    tasks = finding_task_ids(session, [f.id for f in findings])
    return [(f, tasks.get(f.id)) for f in findings]


def next_seq(session: Session, review: Review) -> int:
    """The 序号 a finding entered on its own gets: one past the review's highest."""
    top = session.exec(select(func.max(ReviewFinding.seq)).where(ReviewFinding.review_id == review.id)).one()
    return int(top or 0) + 1


def findings_of(session: Session, review: Review) -> list[ReviewFinding]:
    """The review's findings in 序号 order."""
    return list(session.exec(select(ReviewFinding).where(ReviewFinding.review_id == review.id)
                             .order_by(ReviewFinding.seq)))


# ---------------------------------------------------------------------------------------------
# What the lists show


@dataclass(frozen=True)
class ReviewLine:
    """A review with its phase and how far its findings are rectified."""

    review: Review
    phase_code: str
    phase_name: str
    findings: int
    tasks: int
    open_tasks: int

    @property
    def label(self) -> str:
        return review_label(self.review)


def review_lines(session: Session, campaign: Campaign, level: str | None = None) -> list[ReviewLine]:
    """The campaign's reviews (of one level if given), oldest first: three queries however many."""
    stmt = select(Review).where(Review.campaign_id == campaign.id)
    if level is not None:
        stmt = stmt.where(Review.level == normalize_level(level))
    rows = list(session.exec(stmt.order_by(Review.id)))
    phases = {p.id: p for p in session.exec(select(Phase).where(Phase.campaign_id == campaign.id))}
    findings = dict(session.exec(select(ReviewFinding.review_id, func.count()).where(
        ReviewFinding.campaign_id == campaign.id).group_by(ReviewFinding.review_id)).all())
    tasks = {review_id: (int(total), int(open_ or 0)) for review_id, total, open_ in session.exec(
        select(ReviewFinding.review_id, func.count(Task.id),
               func.sum(case((Task.status.in_([s.value for s in OPEN]), 1), else_=0)))
        .join(Task, Task.finding_id == ReviewFinding.id)
        .where(ReviewFinding.campaign_id == campaign.id).group_by(ReviewFinding.review_id)).all()}
    return [ReviewLine(review=r, phase_code=phases[r.phase_id].code, phase_name=phases[r.phase_id].name,
                       findings=int(findings.get(r.id, 0)), tasks=tasks.get(r.id, (0, 0))[0],
                       open_tasks=tasks.get(r.id, (0, 0))[1]) for r in rows]


def finding_reviews(session: Session, finding_ids: list[int]) -> dict[int, Review]:
    """The review of each finding, by finding id (for lists that show where a finding came from)."""
    if not finding_ids:
        return {}
    return {fid: review for fid, review in session.exec(
        select(ReviewFinding.id, Review).join(Review, Review.id == ReviewFinding.review_id)
        .where(ReviewFinding.id.in_(finding_ids))).all()}


# ---------------------------------------------------------------------------------------------
# Gates: which verdicts count


def latest_verdict(session: Session, phase_id: int) -> Review | None:
    """The latest verdict that counts for a phase's gate: of a review above the county held in
    it (a 县级督查's verdict never holds a gate)."""
    return session.exec(
        select(Review).where(Review.phase_id == phase_id, Review.level != COUNTY_LEVEL, Review.verdict.is_not(None))
        .order_by(Review.verdict_at.desc(), Review.id.desc())
    ).first()


def hosting_phase_ids(session: Session, campaign_id: int) -> set[int]:
    """The phases that hold a review above the county (whatever their kind): their gates wait
    for its verdict."""
    return set(session.exec(select(Review.phase_id).where(
        Review.campaign_id == campaign_id, Review.level != COUNTY_LEVEL).distinct()).all())


def decided_phase_ids(session: Session, campaign_id: int) -> set[int]:
    """The phases with a verdict of a review above the county."""
    return set(session.exec(select(Review.phase_id).where(
        Review.campaign_id == campaign_id, Review.level != COUNTY_LEVEL, Review.verdict.is_not(None)).distinct()).all())

