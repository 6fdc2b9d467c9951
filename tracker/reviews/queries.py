"""Reading reviews and their findings (评估反馈问题), for the API and `junheng review list`."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from tracker.reviews.models import Review, ReviewFinding
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
