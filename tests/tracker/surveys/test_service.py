"""Codes: single use, unknown, expired, a closed survey; opening and closing rounds."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select

from tests.factories_db import build_world
from tracker.db import session_scope
from tracker.errors import ErrorKind
from tracker.surveys.models import Survey, SurveyCode, SurveyResponse
from tracker.surveys.questionnaire import QuestionnaireError, load_questionnaire_file
from tracker.surveys.service import (
    CODE_ALPHABET, CODE_LENGTH, CodeRefused, SurveyError, close_survey, invitation, issue_codes, open_survey,
    submit_online,
)

NOW = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
PARENT = {f"P{i}": "满意" for i in range(1, 8)}


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def world(engine):
    with session_scope(engine) as session:
        world = build_world(session)
        survey = open_survey(session, world.campaign, "王主任")
        codes = issue_codes(session, survey, "家长", 3, world.schools["城关一小"], days=10, now=NOW)
    return world, survey, codes


def test_codes_are_long_random_and_stored_only_as_hashes(engine, world):
    _, survey, codes = world
    assert len(set(codes)) == 3
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    with session_scope(engine) as session:
        stored = session.exec(select(SurveyCode.code_hash)).all()
    assert len(stored) == 3 and not set(codes) & set(stored) and all(len(h) == 64 for h in stored)


def test_a_code_answers_once_and_a_second_use_is_refused(engine, world):
    _, survey, codes = world
    with session_scope(engine) as session:
        found = invitation(session, codes[0], NOW)
        assert found.group.name == "家长" and found.school.name == "城关一小"
        response = submit_online(session, codes[0].lower(), PARENT, NOW)  # typed in lower case: the same code
        assert response.channel == "online" and response.answers == PARENT
    with session_scope(engine) as session:
        with pytest.raises(CodeRefused) as refused:
            submit_online(session, codes[0], PARENT, NOW)
        assert refused.value.reason == "used" and "已经使用过" in refused.value.message
        assert refused.value.kind is ErrorKind.conflict
        with pytest.raises(CodeRefused):
            invitation(session, codes[0], NOW)
        assert _count(session, SurveyResponse) == 1


def test_unknown_and_expired_codes_are_refused_in_chinese(engine, world):
    _, survey, codes = world
    with session_scope(engine) as session:
        for code in ("ABCDEFGHJKMN", "", "../../etc", codes[1][:-1]):
            with pytest.raises(CodeRefused) as refused:
                invitation(session, code, NOW)
            assert refused.value.reason == "unknown" and "答卷码无效" in refused.value.message
        with pytest.raises(CodeRefused) as refused:  # issued for 10 days
            submit_online(session, codes[1], PARENT, NOW + dt.timedelta(days=10))
        assert refused.value.reason == "expired" and "有效期" in refused.value.message
        assert _count(session, SurveyResponse) == 0


def test_a_closed_survey_refuses_its_codes_paper_and_new_codes(engine, world):
    w, survey, codes = world
    with session_scope(engine) as session:
        close_survey(session, session.get(Survey, survey.id), "王主任", NOW)
    with session_scope(engine) as session:
        with pytest.raises(CodeRefused) as refused:
            submit_online(session, codes[2], PARENT, NOW)
        assert refused.value.reason == "closed" and "已经结束" in refused.value.message
        with pytest.raises(SurveyError, match="已经结束"):
            issue_codes(session, session.get(Survey, survey.id), "家长", 1, w.schools["城关一小"], now=NOW)
        with pytest.raises(SurveyError, match="已经结束"):
            close_survey(session, session.get(Survey, survey.id), "王主任")
        assert _count(session, SurveyResponse) == 0
        # a new round may open now
        assert open_survey(session, w.campaign, "王主任").id != survey.id


def test_a_missing_answer_stores_nothing_and_leaves_the_code_unused(engine, world):
    _, survey, codes = world
    with session_scope(engine) as session:
        with pytest.raises(SurveyError, match="第 7 题.*还没有作答"):
            submit_online(session, codes[0], {k: v for k, v in PARENT.items() if k != "P7"}, NOW)
        with pytest.raises(SurveyError, match="不是可选的答案"):
            submit_online(session, codes[0], {**PARENT, "P1": "很好"}, NOW)
    with session_scope(engine) as session:
        assert invitation(session, codes[0], NOW).code.used_at is None


def test_opening_and_issuing_are_checked(engine, world):
    w, survey, _ = world
    with session_scope(engine) as session:
        with pytest.raises(SurveyError, match="正在进行") as again:
            open_survey(session, w.campaign, "王主任")
        assert again.value.kind is ErrorKind.conflict
        survey = session.get(Survey, survey.id)
        with pytest.raises(SurveyError, match="要指定学校"):
            issue_codes(session, survey, "家长", 1, None)
        with pytest.raises(SurveyError, match="没有“家属”群体"):
            issue_codes(session, survey, "家属", 1, w.schools["城关一小"])
        with pytest.raises(SurveyError, match="1 到 5000"):
            issue_codes(session, survey, "家长", 0, w.schools["城关一小"])
        assert len(issue_codes(session, survey, "社会人士", 2, None)) == 2  # not asked through a school


def test_a_questionnaire_file_is_validated_whole(tmp_path):
    path = tmp_path / "问卷.yaml"
    path.write_text("id: x\ntitle: 问卷\nchoices: [满意]\ngroups:\n  - name: 家属\n    questions:\n"
                    "      - {id: Q 1, text: 好吗}\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError) as error:
        load_questionnaire_file(path)
    message = error.value.message
    assert "问卷.yaml" in message and "choices" in message and "家属" in message and "groups[0].questions[0].id" in message
