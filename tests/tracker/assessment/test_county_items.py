"""County items: veto answers are read against what the item asks."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.tracker.assessment.schools import county
from tracker.assessment import AssessmentInputError, assess
from tracker.assessment.report import to_json
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


# --- Hunan: points per sub-item, and totals between the grade bands --------------------------


@pytest.fixture(scope="module")
def hunan():
    return load_standard("hunan-2023")


def full_marks(hunan, **overrides):
    scores = {i.code: i.points for i in hunan.indicators if i.judged.value == "scored"}
    scores.update(overrides)
    return scores


def scored(result, code):
    return next(i for i in result.scoring.items if i.code == code)


def test_sub_item_points_add_up_to_the_indicator(hunan):
    # indicator 8: 3 + 2 + 3 + 2 points; entered per sub-item, 8's own entry left out
    scores = full_marks(hunan)
    del scores["8"]
    scores.update({"8.1": 3, "8.2": 1.5, "8.3": 2.5, "8.4": 2})
    result = assess(hunan, county(), scores, as_of=AS_OF)
    item = scored(result, "8")
    assert item.points == 9 and item.sub_points == [3, 1.5, 2.5, 2] and "合计 9 分" in item.detail
    assert result.scoring.total == 99
    json_item = next(i for i in to_json(result)["scoring"]["items"] if i["code"] == "8")
    assert json_item["sub_points"] == [3, 1.5, 2.5, 2]


def test_sub_items_not_all_entered_leave_the_indicator_unscored(hunan):
    scores = full_marks(hunan)
    del scores["8"]
    scores.update({"8.1": 3, "8.2": 2})
    result = assess(hunan, county(), scores, as_of=AS_OF)
    item = scored(result, "8")
    assert item.points is None and "缺 8.3、8.4" in item.detail and result.scoring.total is None


def test_complete_sub_items_win_over_a_total_entered_too(hunan):
    scores = full_marks(hunan, **{"8": 10, "8.1": 3, "8.2": 2, "8.3": 3, "8.4": 1})
    item = scored(assess(hunan, county(), scores, as_of=AS_OF), "8")
    assert item.points == 9 and "录入的总分 10 分未采用" in item.detail


@pytest.mark.parametrize(("code", "value", "words"), [("8.2", 2.5, "0 到 2"), ("8.5", 1, "未知的指标代码「8.5」"),
                                                       ("1.1", 1, "未知的指标代码「1.1」")])
def test_bad_sub_item_points_are_refused(hunan, code, value, words):
    with pytest.raises(AssessmentInputError, match=words):
        assess(hunan, county(), full_marks(hunan, **{code: value}), as_of=AS_OF)


@pytest.mark.parametrize(("lost", "grade", "between"), [
    (14.5, "合格", True),  # 85.5: between 80–85 and 86–90, the lower band
    (14, "良好", False),  # 86
    (9.5, "良好", True),  # 90.5
    (20, "合格", False),  # 80
])
def test_totals_between_bands_take_the_lower_band_and_say_so(hunan, lost, grade, between):
    scores = full_marks(hunan)
    for ind in hunan.indicators:  # take the points off, each item keeping ≥ 80 %
        if ind.judged.value == "scored" and lost > 0:
            take = min(lost, 0.2 * ind.points)
            scores[ind.code] = ind.points - take
            lost -= take
    result = assess(hunan, county(), scores, as_of=AS_OF)
    assert result.scoring.grade == grade
    assert bool(result.scoring.grade_note) is between
    assert "85 与 86 之间（如 85.5 分）定为合格" in result.scoring.grade_rule
    assert to_json(result)["scoring"]["grade_rule"] == result.scoring.grade_rule


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_thing = st.text(alphabet="以考试方式招生违规择校重点学校班弄虚作假", min_size=1, max_size=12)


@given(thing=_thing, yes=st.sampled_from(["是", "yes", "Yes "]), no=st.sampled_from(["否", "no", " NO"]))
def test_yes_and_no_follow_the_wording_of_any_veto(thing, yes, no):
    assert veto_answer("V", f"存在{thing}", yes) == ("fail", None)
    assert veto_answer("V", f"存在{thing}", no) == ("pass", None)
    assert veto_answer("V", f"未发生{thing}", yes) == ("pass", None)
    assert veto_answer("V", f"未发生{thing}", no) == ("fail", None)
    for title in (f"存在{thing}", f"未发生{thing}"):
        assert veto_answer("V", title, "存在")[0] == "fail" and veto_answer("V", title, "不存在")[0] == "pass"
