"""The survey room's reads."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.org.models import School
from tracker.surveys.models import Survey, SurveyCode, SurveyResponse


def latest_survey(session: Session, campaign_id: int) -> Survey | None:
    """The campaign's newest survey, open or closed."""
    return session.exec(select(Survey).where(Survey.campaign_id == campaign_id)
                        .order_by(Survey.opened_at.desc(), Survey.id.desc()).limit(1)).first()


def open_survey_of(session: Session, campaign_id: int) -> Survey | None:
    return session.exec(select(Survey).where(Survey.campaign_id == campaign_id, Survey.closed_at.is_(None))
                        .order_by(Survey.id.desc()).limit(1)).first()


def code_by_hash(session: Session, code_hash: str) -> SurveyCode | None:
    return session.exec(select(SurveyCode).where(SurveyCode.code_hash == code_hash)).first()


def response_rows(session: Session, survey_id: int) -> list[tuple[str, str | None, dict]]:
    """(group, school name, answers) of every response of a survey, in one statement."""
    rows = session.exec(
        select(SurveyResponse.group, School.name, SurveyResponse.answers)
        .join(School, School.id == SurveyResponse.school_id, isouter=True)
        .where(SurveyResponse.survey_id == survey_id)
        .order_by(SurveyResponse.id))
    return [(group, name, answers or {}) for group, name, answers in rows]


def school_by_name(session: Session, campaign_id: int, name: str) -> School | None:
    return session.exec(select(School).where(School.campaign_id == campaign_id, School.name == name)).first()


def school_names_of(session: Session, campaign_id: int) -> list[str]:
    return list(session.exec(select(School.name).where(School.campaign_id == campaign_id).order_by(School.name)))


def school_ids_by_name(session: Session, campaign_id: int) -> dict[str, int]:
    return {name: sid for sid, name in session.exec(select(School.id, School.name).where(School.campaign_id == campaign_id))}


def latest_surveys(session: Session, campaign_ids) -> dict[int, Survey]:
    """Each campaign's newest survey (``latest_survey``'s order), one statement for them all."""
    newest = (select(Survey.id, func.row_number().over(partition_by=Survey.campaign_id,
                                                       order_by=(Survey.opened_at.desc(), Survey.id.desc()))
                     .label("n"))
              .where(Survey.campaign_id.in_(campaign_ids)).subquery())
    rows = session.exec(select(Survey).join(newest, newest.c.id == Survey.id).where(newest.c.n == 1))
    return {survey.campaign_id: survey for survey in rows}


def response_answers(session: Session, survey_ids) -> dict[int, list[tuple[str, None, dict]]]:
    """(group, None, answers) of every response of the given surveys, per survey, one statement:
    what ``tally`` needs for the overall rate (schools left out)."""
    out: dict[int, list[tuple[str, None, dict]]] = defaultdict(list)
    rows = session.exec(select(SurveyResponse.survey_id, SurveyResponse.group, SurveyResponse.answers)
                        .where(SurveyResponse.survey_id.in_(survey_ids)).order_by(SurveyResponse.id))
    for survey_id, group, answers in rows:
        out[survey_id].append((group, None, answers or {}))
    return out
