"""A survey of a campaign, its single-use response codes and its responses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from tracker.db import UTCDateTime, utcnow


class Survey(SQLModel, table=True):
    """One round of the satisfaction survey. ``questionnaire`` is a copy of the questionnaire it
    was opened with (tracker.surveys.questionnaire.Questionnaire as JSON), so editing the
    shipped file later does not change what was asked."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    title: str
    questionnaire: dict = Field(sa_column=Column(JSON, nullable=False))
    illustrative: bool = False  # a demonstration round: its figures are marked 示例
    opened_by: str = ""
    opened_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str = ""


class SurveyCode(SQLModel, table=True):
    """A single-use response code for one school and respondent group. Only the code's SHA-256
    is stored: the printed slips are the only copy of the codes."""

    __tablename__ = "survey_code"
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    code_hash: str = Field(unique=True, max_length=64)
    school_id: int | None = Field(default=None, foreign_key="school.id")
    group: str
    issued_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyResponse(SQLModel, table=True):
    """One respondent's answers ({question id: answer}), online through a code or typed in from a
    paper sheet (``channel``)."""

    __tablename__ = "survey_response"
    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id")
    group: str
    channel: str  # online / paper
    code_id: int | None = Field(default=None, foreign_key="survey_code.id", unique=True)
    answers: dict = Field(sa_column=Column(JSON, nullable=False))
    submitted_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
