"""Opening and closing a survey, issuing single-use codes, and taking an answer sheet online.

A code is 12 characters from 31 that cannot be misread (no 0/O, 1/I/L): 31¹² ≈ 7.9·10¹⁷, about 59
bits, drawn with ``secrets``; only its SHA-256 is stored. Using a code is one UPDATE that sets
``used_at`` only where it is still unused and unexpired, so of two submissions racing with one
code only one gets a row back; the response's ``code_id`` is unique as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlmodel import Session

from tracker.db import utcnow
from tracker.errors import ErrorKind, JunhengError
from tracker.org.models import Campaign, School
from tracker.standards import load_standard
from tracker.standards.schema import Standard
from tracker.surveys import queries
from tracker.surveys.models import Survey, SurveyCode, SurveyResponse
from tracker.surveys.questionnaire import (
    GroupQuestions, Questionnaire, check_against_rule, shipped_questionnaire,
)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
MAX_CODES = 5000  # per command: a school's parents, with room
DEFAULT_DAYS = 30
# groups not asked through one school (their codes and paper rows may leave 学校 blank)
COUNTY_GROUPS = ("人大代表和政协委员", "社会人士")


class SurveyError(JunhengError, kind=ErrorKind.invalid):
    pass


class SurveyNotFound(JunhengError, LookupError, kind=ErrorKind.not_found):
    pass


class CodeRefused(JunhengError, kind=ErrorKind.conflict):
    """A code that cannot be used now; ``reason`` is unknown / used / expired / closed."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message, kind=ErrorKind.not_found if reason == "unknown" else None)


REFUSALS = {
    "unknown": "答卷码无效：请核对问卷纸条上的二维码或答卷码。",
    "used": "此答卷码已经使用过，每个答卷码只能作答一次。感谢您的参与！",
    "expired": "此答卷码已过有效期，请联系学校或教育局另领答卷码。",
    "closed": "本次满意度调查已经结束，感谢您的关注！",
}


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:64]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def questionnaire_of(survey: Survey) -> Questionnaire:
    return Questionnaire.model_validate(survey.questionnaire)


def standard_of(campaign: Campaign) -> Standard:
    standard = load_standard(campaign.standard_id)
    if standard.survey is None:
        raise SurveyError(f"标准 {standard.id} 没有设定满意度调查规则（标准文件的 survey 一节）")
    return standard


def open_survey(session: Session, campaign: Campaign, actor: str, questionnaire: Questionnaire | None = None,
                title: str | None = None, illustrative: bool | None = None) -> Survey:
    """Open a survey round with the standard's shipped questionnaire or the office's own.
    One round is open at a time."""
    standard = standard_of(campaign)
    if queries.open_survey_of(session, campaign.id) is not None:
        raise SurveyError("已有一轮满意度调查正在进行，请先结束（junheng survey close）再开始新的一轮",
                          kind=ErrorKind.conflict)
    questionnaire = questionnaire or shipped_questionnaire(standard)
    check_against_rule(questionnaire, standard)
    survey = Survey(campaign_id=campaign.id, title=(title or questionnaire.title).strip()[:200],
                    questionnaire=questionnaire.model_dump(mode="json"),
                    illustrative=questionnaire.illustrative if illustrative is None else illustrative,
                    opened_by=actor)
    session.add(survey)
    session.flush()
    return survey


def survey_for(session: Session, campaign: Campaign, *, open_only: bool = False) -> Survey:
    survey = (queries.open_survey_of if open_only else queries.latest_survey)(session, campaign.id)
    if survey is None:
        what = "正在进行的满意度调查" if open_only else "满意度调查"
        raise SurveyNotFound(f"创建工作「{campaign.name}」没有{what}；请先运行 junheng survey open")
    return survey


def close_survey(session: Session, survey: Survey, actor: str, now: dt.datetime | None = None) -> Survey:
    if survey.closed_at is not None:
        raise SurveyError("这一轮满意度调查已经结束", kind=ErrorKind.conflict)
    survey.closed_at = now or utcnow()
    survey.closed_by = actor
    session.add(survey)
    session.flush()
    return survey


def group_of(survey: Survey, group: str) -> GroupQuestions:
    try:
        return questionnaire_of(survey).group(group)
    except JunhengError:
        names = "、".join(g.name for g in questionnaire_of(survey).groups)
        raise SurveyError(f"问卷没有“{group}”群体（有：{names}）") from None


def issue_codes(session: Session, survey: Survey, group: str, count: int, school: School | None = None,
                days: int = DEFAULT_DAYS, now: dt.datetime | None = None) -> list[str]:
    """``count`` new single-use codes for ``group`` (of ``school``), valid for ``days`` days.
    Returns the codes; only their hashes are stored."""
    if survey.closed_at is not None:
        raise SurveyError("这一轮满意度调查已经结束，不能再发答卷码", kind=ErrorKind.conflict)
    group_of(survey, group)
    if not 1 <= count <= MAX_CODES:
        raise SurveyError(f"答卷码数量应在 1 到 {MAX_CODES} 之间，现为 {count}")
    if not 1 <= days <= 366:
        raise SurveyError(f"有效天数应在 1 到 366 之间，现为 {days}")
    if school is None and group not in COUNTY_GROUPS:
        raise SurveyError(f"“{group}”的答卷码要指定学校（--school）")
    now = now or utcnow()
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(new_code())
    ordered = sorted(codes)
    session.execute(insert(SurveyCode), [
        {"survey_id": survey.id, "code_hash": code_hash(c), "school_id": school.id if school else None,
         "group": group, "issued_at": now, "expires_at": now + dt.timedelta(days=days), "used_at": None}
        for c in ordered])
    return ordered


@dataclass(frozen=True)
class CodeInvitation:
    """What a valid code opens: the survey, the group's questions, the school."""

    code: SurveyCode
    survey: Survey
    questionnaire: Questionnaire
    group: GroupQuestions
    school: School | None


def invitation(session: Session, code: str, now: dt.datetime | None = None) -> CodeInvitation:
    """The questions a code opens, or ``CodeRefused`` (unknown, used, expired, closed)."""
    now = now or utcnow()
    row = queries.code_by_hash(session, code_hash(code)) if normalise_code(code) else None
    if row is None:
        raise CodeRefused("unknown", REFUSALS["unknown"])
    survey = session.get(Survey, row.survey_id)
    if survey is None or survey.closed_at is not None:
        raise CodeRefused("closed", REFUSALS["closed"])
    if row.used_at is not None:
        raise CodeRefused("used", REFUSALS["used"])
    if row.expires_at <= now:
        raise CodeRefused("expired", REFUSALS["expired"])
    questionnaire = questionnaire_of(survey)
    return CodeInvitation(row, survey, questionnaire, questionnaire.group(row.group),
                          session.get(School, row.school_id) if row.school_id else None)


def check_answers(group: GroupQuestions, choices: list[str], answers: dict[str, str]) -> dict[str, str]:
    """Every question of the group answered with one of the choices; errors name the question."""
    problems = []
    clean: dict[str, str] = {}
    for number, q in enumerate(group.questions, start=1):
        answer = (answers.get(q.id) or "").strip()
        if not answer:
            problems.append(f"第 {number} 题「{q.text}」还没有作答")
        elif answer not in choices:
            problems.append(f"第 {number} 题「{q.text}」的回答「{answer[:20]}」不是可选的答案")
        else:
            clean[q.id] = answer
    if problems:
        raise SurveyError("；".join(problems))
    return clean


def submit_online(session: Session, code: str, answers: dict[str, str], now: dt.datetime | None = None) -> SurveyResponse:
    """Store one respondent's answers through a code, using the code up. Nothing is stored when
    the code is refused or an answer is missing."""
    now = now or utcnow()
    found = invitation(session, code, now)
    clean = check_answers(found.group, found.questionnaire.choices, answers)
    used = session.execute(
        update(SurveyCode)
        .where(SurveyCode.id == found.code.id, SurveyCode.used_at.is_(None), SurveyCode.expires_at > now)
        .values(used_at=now).returning(SurveyCode.id)).first()
    if used is None:  # used a moment ago by another submission
        raise CodeRefused("used", REFUSALS["used"])
    response = SurveyResponse(survey_id=found.survey.id, school_id=found.code.school_id, group=found.code.group,
                              channel="online", code_id=found.code.id, answers=clean, submitted_at=now)
    session.add(response)
    session.flush()
    return response
