"""County items: veto answers are read against what the item asks."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.tracker.assessment.schools import county
from tracker.assessment import AssessmentInputError, assess
from tracker.assessment.inputs import veto_answer, veto_names_the_bad_thing
from tracker.standards import load_standard

AS_OF = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def national():
    return load_standard("national-2017")


def veto_status(national, answer, code="V1"):
    result = assess(national, county(), {code: answer}, as_of=AS_OF)
    return next(c for c in result.county if c.code == code).status


@pytest.mark.parametrize(("answer", "status"), [
    ("是", "fail"), ("否", "pass"),  # the item asks "存在以考试方式招生?": 是 is a veto
    ("存在", "fail"), ("不存在", "pass"), ("有", "fail"), ("无", "pass"),
    ("发生", "fail"), ("未发生", "pass"),
    ("通过", "pass"), ("不通过", "fail"), ("pass", "pass"), ("fail", "fail"),
    ("yes", "fail"), ("No", "pass"),
])
def test_veto_answers_follow_the_item(national, answer, status):
    assert veto_status(national, answer) == status


def test_yes_to_a_veto_is_a_veto_shortfall(national):
    result = assess(national, county(), {"V6": "是"}, as_of=AS_OF)  # 有弄虚作假行为: 是
    assert result.county_ok is False
    (s,) = [s for s in result.shortfalls if s.indicator == "V6"]
    assert "一票否决" in s.text


@pytest.mark.parametrize("answer", [True, False, "也许", 1])
def test_ambiguous_or_unreadable_veto_answers_are_refused_with_the_wording(national, answer):
    with pytest.raises(AssessmentInputError) as caught:
        assess(national, county(), {"V1": answer}, as_of=AS_OF)
    assert "存在以考试方式招生" in str(caught.value) and "存在/不存在" in str(caught.value)


def test_the_wording_decides_yes_and_no():
    assert veto_names_the_bad_thing("存在违规择校行为") is True
    assert veto_names_the_bad_thing("有弄虚作假行为") is True
    assert veto_names_the_bad_thing("未发生重大安全责任事故") is False
    assert veto_names_the_bad_thing("重点学校或重点班") is None
    # a veto worded as the absence: 是 means it did not happen
    assert veto_answer("X", "未发生重大安全责任事故", "是") == ("pass", None)
    assert veto_answer("X", "未发生重大安全责任事故", "发生") == ("fail", None)
    status, problem = veto_answer("X", "重点学校或重点班", "是")
    assert status is None and "重点学校或重点班" in problem and "有歧义" in problem
    # descriptive words need no wording
    assert veto_answer("X", "重点学校或重点班", "存在") == ("fail", None)


def test_application_conditions_keep_yes_as_pass(national):
    result = assess(national, county(), {"E1": "是"}, as_of=AS_OF)
    assert next(c for c in result.county if c.code == "E1").status == "pass"
