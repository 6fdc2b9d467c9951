"""Reading stored assessments (snapshots) and their shortfalls, for the pages, API and CLI. Who
sees which shortfalls is decided by ``shortfall_clause`` of tracker.accounts.access, passed in
as ``visible``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord

NEWEST_FIRST = (AssessmentSnapshot.created_at.desc(), AssessmentSnapshot.id.desc())


def snapshots(session: Session, campaign_id: int) -> list[AssessmentSnapshot]:
    """The campaign's assessments, newest first."""
    return list(session.exec(select(AssessmentSnapshot).where(AssessmentSnapshot.campaign_id == campaign_id)
                             .order_by(*NEWEST_FIRST)))


def latest_snapshot_id(session: Session, campaign_id: int) -> int | None:
    return session.exec(select(AssessmentSnapshot.id).where(AssessmentSnapshot.campaign_id == campaign_id)
                        .order_by(*NEWEST_FIRST)).first()


def snapshots_of_submission(session: Session, submission_id: int) -> list[AssessmentSnapshot]:
    """The assessments made of one submission, in the order they were made."""
    return list(session.exec(select(AssessmentSnapshot).where(AssessmentSnapshot.submission_id == submission_id)
                             .order_by(AssessmentSnapshot.id)))


def latest_by_submission(session: Session,
                         submission_ids: Iterable[int]) -> dict[int, tuple[AssessmentSnapshot, int]]:
    """Per submission id: its latest assessment (the highest id) and how many shortfalls that
    found. Submissions never assessed are left out. Two statements, whatever the number."""
    ids = list(submission_ids)
    if not ids:
        return {}
    latest = (select(func.max(AssessmentSnapshot.id)).where(AssessmentSnapshot.submission_id.in_(ids))
              .group_by(AssessmentSnapshot.submission_id))
    found = list(session.exec(select(AssessmentSnapshot).where(AssessmentSnapshot.id.in_(latest))))
    counts = dict(session.exec(select(ShortfallRecord.assessment_id, func.count())
                               .where(ShortfallRecord.assessment_id.in_([s.id for s in found]))
                               .group_by(ShortfallRecord.assessment_id)).all()) if found else {}
    return {s.submission_id: (s, int(counts.get(s.id, 0))) for s in found}


def shortfalls_page(session: Session, assessment_id: int, visible: ColumnElement[bool], *,
                    indicator: str | None = None, school_id: int | None = None, limit: int = 200,
                    offset: int = 0) -> tuple[list[ShortfallRecord], int]:
    """A page of an assessment's shortfalls among those ``visible`` (optionally of one indicator or
    school), in the order they were found, and how many there are in all."""
    conditions = [visible, ShortfallRecord.assessment_id == assessment_id]
    if indicator is not None:
        conditions.append(ShortfallRecord.indicator == indicator)
    if school_id is not None:
        conditions.append(ShortfallRecord.school_id == school_id)
    total = session.exec(select(func.count()).select_from(ShortfallRecord).where(*conditions)).one()
    rows = list(session.exec(select(ShortfallRecord).where(*conditions).order_by(ShortfallRecord.id)
                             .limit(limit).offset(offset)))
    return rows, total


def school_shortfalls(session: Session, assessment_id: int, school_id: int) -> list[ShortfallRecord]:
    """An assessment's shortfalls at one school, by indicator."""
    return list(session.exec(select(ShortfallRecord).where(ShortfallRecord.assessment_id == assessment_id,
                                                           ShortfallRecord.school_id == school_id)
                             .order_by(ShortfallRecord.indicator)))


def shortfall_count(session: Session, assessment_id: int) -> int:
    """How many shortfalls an assessment found."""
    return int(session.exec(select(func.count()).select_from(ShortfallRecord)
                            .where(ShortfallRecord.assessment_id == assessment_id)).one())
