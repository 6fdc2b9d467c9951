"""Reading data submissions (填报批次) and their rows, for the pages, API and CLI. Who sees which
submission and which rows is decided by the access clauses of tracker.accounts.access
(``submission_clause``, ``data_row_clause``), passed in as ``visible``."""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy import or_
from sqlmodel import Session, select

from tracker.schooldata.models import DataSubmission, SchoolDataRow


def submissions(session: Session, campaign_id: int, visible: ColumnElement[bool], *,
                limit: int | None = None) -> list[DataSubmission]:
    """The campaign's submissions among those ``visible``, newest first."""
    query = (select(DataSubmission).where(visible, DataSubmission.campaign_id == campaign_id)
             .order_by(DataSubmission.submitted_at.desc(), DataSubmission.id.desc()))
    return list(session.exec(query.limit(limit) if limit is not None else query))


def submission_is_visible(session: Session, submission_id: int, visible: ColumnElement[bool]) -> bool:
    return session.exec(select(DataSubmission.id).where(DataSubmission.id == submission_id, visible)).first() \
        is not None


def campaign_submissions(session: Session, campaign_id: int) -> list[DataSubmission]:
    """Every submission of the campaign in the order they were stored."""
    return list(session.exec(select(DataSubmission).where(DataSubmission.campaign_id == campaign_id)
                             .order_by(DataSubmission.id)))


def school_submissions(session: Session, school_id: int, limit: int) -> list[DataSubmission]:
    """What the school sent itself, newest first."""
    return list(session.exec(select(DataSubmission).where(DataSubmission.school_id == school_id)
                             .order_by(DataSubmission.submitted_at.desc()).limit(limit)))


def submission_rows(session: Session, submission_id: int, visible: ColumnElement[bool]) -> list[SchoolDataRow]:
    """The submission's rows among those ``visible``, in the sheet's order."""
    return list(session.exec(select(SchoolDataRow).where(SchoolDataRow.submission_id == submission_id, visible)
                             .order_by(SchoolDataRow.row)))


def school_row(session: Session, submission_id: int, school_key: str) -> SchoolDataRow | None:
    """One school's row of a submission."""
    return session.exec(select(SchoolDataRow).where(SchoolDataRow.submission_id == submission_id,
                                                    SchoolDataRow.school_key == school_key)).first()


def current_school_row(session: Session, campaign_id: int, school_key: str) -> tuple[SchoolDataRow, DataSubmission] | None:
    """The school's current figures, to pre-fill its data form: its row in the newest submission
    holding it, among the county data (not returned) and what the school sent itself (any status:
    a returned row is what it corrects next). None when it has no row yet."""
    return session.exec(
        select(SchoolDataRow, DataSubmission).join(DataSubmission, DataSubmission.id == SchoolDataRow.submission_id)
        .where(DataSubmission.campaign_id == campaign_id, SchoolDataRow.school_key == school_key,
               or_(DataSubmission.school_id.is_not(None), DataSubmission.status != "returned"))
        .order_by(DataSubmission.submitted_at.desc(), DataSubmission.id.desc())).first()
