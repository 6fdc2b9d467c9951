"""Survey rates on a hand-computed set of responses (issue 13 §6), with the arithmetic shown."""

from __future__ import annotations

import pytest

from tracker.standards import load_standard
from tracker.surveys.questionnaire import shipped_questionnaire
from tracker.surveys.results import results_json, rule_text, tally

ALL_PARENTS = {f"P{i}": "满意" for i in range(1, 8)}
# P1 不满意 · P2 满意 · P3 不了解 · P4 一般 · P5 比较满意 · P6 满意 · P7 满意
MIXED_PARENT = {"P1": "不满意", "P2": "满意", "P3": "不了解", "P4": "一般", "P5": "比较满意", "P6": "满意", "P7": "满意"}
ALL_TEACHER = {f"T{i}": "比较满意" for i in range(1, 6)}
# T1 不了解 · T2 不了解 · T3 一般 · T4 满意 · T5 满意
MIXED_TEACHER = {"T1": "不了解", "T2": "不了解", "T3": "一般", "T4": "满意", "T5": "满意"}

RESPONSES = [
    ("家长", "城关一小", ALL_PARENTS),
    ("家长", "城关一小", MIXED_PARENT),
    ("教师", "城关二小", ALL_TEACHER),
    ("教师", "城关二小", MIXED_TEACHER),
]


@pytest.fixture
def results():
    standard = load_standard("national-2017")
    return tally(shipped_questionnaire(standard), standard.survey, RESPONSES)


def test_rates_by_group_and_overall_are_satisfied_over_counted_answers(results):
    # 家长: 7 satisfied of 7, then P2 P5 P6 P7 satisfied (4) of 6 counted (P3 不了解 left out)
    #       → 11 ÷ 13 = 0.846153…
    parents = results.groups["家长"]
    assert (parents.satisfied, parents.counted, parents.left_out) == (7 + 4, 7 + 6, 1)
    assert parents.rate == pytest.approx(11 / 13)
    # 教师: 5 of 5 (比较满意 counts as satisfied), then T4 T5 (2) of 3 counted (T1 T2 left out)
    #       → 7 ÷ 8 = 0.875
    teachers = results.groups["教师"]
    assert (teachers.satisfied, teachers.counted, teachers.left_out) == (5 + 2, 5 + 3, 2)
    assert teachers.rate == pytest.approx(0.875)
    # overall counts every answer of every group: (11 + 7) ÷ (13 + 8) = 18 ÷ 21 = 0.857142…,
    # not the mean of the group rates ((0.846153 + 0.875) ÷ 2 = 0.860577)
    assert results.overall.rate == pytest.approx(18 / 21)
    assert results.overall.rate != pytest.approx((11 / 13 + 0.875) / 2)
    assert results.groups["学生"].rate is None and results.respondents["家长"] == 2


def test_rates_by_school_and_question(results):
    assert results.schools["城关一小"].rate == pytest.approx(11 / 13)
    assert results.schools["城关二小"].rate == pytest.approx(7 / 8)
    by_id = {q.id: q for q in results.questions}
    assert by_id["P1"].tally.rate == pytest.approx(1 / 2)  # 满意, 不满意
    assert by_id["P3"].tally.rate == 1.0 and by_id["P3"].tally.left_out == 1  # 满意, (不了解)
    assert by_id["P4"].tally.rate == pytest.approx(1 / 2)  # 满意, 一般
    assert by_id["T1"].tally.rate == 1.0  # 比较满意, (不了解)
    assert by_id["P1"].choices["不满意"] == 1 and by_id["P1"].choices["满意"] == 1
    # below 85 %: P1, P4 (1/2), T3 (比较满意, 一般: 1/2); every other answered question is at 100 %
    assert [q.id for q in results.below] == ["P1", "P4", "T3"]


def test_the_json_has_fractions_the_rule_and_every_level(results):
    data = results_json(results, {"id": 1})
    assert data["overall"]["rate"] == pytest.approx(0.857142857)
    assert data["overall"]["answers"] == 21 and data["overall"]["respondents"] == 4
    assert data["groups"]["家长"] == {"rate": pytest.approx(11 / 13), "answers": 13, "satisfied": 11,
                                     "left_out": 1, "respondents": 2}
    assert list(data["groups"]) == ["学生", "家长", "教师", "校长", "人大代表和政协委员", "社会人士"]
    assert "满意、比较满意" in data["rule"] and "不了解" in data["rule"] and "所有群体的每一个回答" in data["rule"]
    assert data["threshold"] == 0.85
    assert [q["id"] for q in data["questions"] if q["below"]] == ["P1", "P4", "T3"]


def test_answers_outside_the_questionnaire_are_not_counted():
    standard = load_standard("national-2017")
    results = tally(shipped_questionnaire(standard), standard.survey, [
        ("家长", None, {"P1": "满意", "T1": "不满意", "P2": "很好", "X9": "不满意"}),  # T1 is a teacher's question
        ("外星人", None, {"P1": "不满意"}),
    ])
    assert (results.overall.satisfied, results.overall.counted) == (1, 1)


def test_both_standards_state_the_rule_and_ship_an_illustrative_questionnaire():
    for standard_id, indicator in (("national-2017", "32"), ("hunan-2023", "36")):
        standard = load_standard(standard_id)
        assert standard.survey.indicator == indicator
        assert standard.survey.satisfied == ["满意", "比较满意"] and standard.survey.left_out == ["不了解"]
        questionnaire = shipped_questionnaire(standard)
        assert questionnaire.illustrative and "非官方" in questionnaire.note
        assert [g.name for g in questionnaire.groups] == ["学生", "家长", "教师", "校长", "人大代表和政协委员", "社会人士"]
        assert "满意" in rule_text(standard.survey)
