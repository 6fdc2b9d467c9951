"""The survey's results: rates per group, per school, per question and overall.

The rule is the standard's (``survey`` in the standard file, tracker.standards.schema.SurveyRule):
an answer in ``satisfied`` (满意, 比较满意) counts as satisfied; one in ``left_out`` (不了解) is
not counted; a rate is satisfied answers ÷ counted answers; the overall rate counts every answer
of every group (not an average of the groups' rates). Rates are fractions (0.853).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracker.standards.schema import SurveyRule
from tracker.surveys.questionnaire import GROUPS, Questionnaire

NO_SCHOOL = "（不分学校）"  # 人大代表和政协委员, 社会人士: not asked through a school


@dataclass
class Tally:
    satisfied: int = 0
    counted: int = 0  # answers that count (satisfied or not); the rate's denominator
    left_out: int = 0  # 不了解: neither satisfied nor counted

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.counted if self.counted else None

    def add(self, answer: str, rule: SurveyRule, n: int = 1) -> None:
        if answer in rule.left_out:
            self.left_out += n
        else:
            self.counted += n
            if answer in rule.satisfied:
                self.satisfied += n

    def json(self) -> dict[str, Any]:
        return {"rate": self.rate, "answers": self.counted, "satisfied": self.satisfied, "left_out": self.left_out}


@dataclass
class QuestionResult:
    group: str
    id: str
    text: str
    tally: Tally = field(default_factory=Tally)
    choices: dict[str, int] = field(default_factory=dict)  # answers per choice


@dataclass
class SurveyResults:
    rule: SurveyRule
    overall: Tally
    groups: dict[str, Tally]
    respondents: dict[str, int]  # per group
    schools: dict[str, Tally]
    questions: list[QuestionResult]

    @property
    def below(self) -> list[QuestionResult]:
        """The questions under the threshold (with answers to count)."""
        return [q for q in self.questions if q.tally.rate is not None and q.tally.rate < self.rule.threshold - 1e-12]


def rule_text(rule: SurveyRule) -> str:
    left = f"“{'、'.join(rule.left_out)}”不计入；" if rule.left_out else ""
    return (f"回答“{'、'.join(rule.satisfied)}”计为满意；{left}满意率 = 满意回答数 ÷ 计入的回答数；"
            f"总体满意率计入所有群体的每一个回答；低于 {rule.threshold:.0%} 的题目列入问题清单。")


def tally(questionnaire: Questionnaire, rule: SurveyRule,
          responses: Iterable[tuple[str, str | None, dict[str, str]]]) -> SurveyResults:
    """``responses``: (group, school name or None, {question id: answer}) per respondent."""
    questions: dict[str, QuestionResult] = {}
    for group in questionnaire.groups:
        for q in group.questions:
            questions[q.id] = QuestionResult(group.name, q.id, q.text, choices={c: 0 for c in questionnaire.choices})
    order = [g for g in GROUPS if any(x.name == g for x in questionnaire.groups)]
    overall = Tally()
    groups = {g: Tally() for g in order}
    respondents = dict.fromkeys(order, 0)
    schools: dict[str, Tally] = {}
    # count first (one Counter increment per answer), classify each distinct key once after
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for group, school, answers in responses:
        if group not in groups:
            continue
        respondents[group] += 1
        school = school or NO_SCHOOL
        counts.update((group, school, qid, answer) for qid, answer in answers.items())
    for (group, school, qid, answer), n in counts.items():
        question = questions.get(qid)
        if question is None or question.group != group or answer not in question.choices:
            continue
        question.choices[answer] += n
        for t in (question.tally, groups[group], schools.setdefault(school, Tally()), overall):
            t.add(answer, rule, n)
    return SurveyResults(rule, overall, groups, respondents, dict(sorted(schools.items())), list(questions.values()))


def results_json(results: SurveyResults, survey: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"survey", "rule", "threshold", "overall": {"rate", "answers", …}, "groups": {"家长": {…}},
    "schools": {…}, "questions": [...]}``; ``answers`` counts the answers in the rate."""
    return {
        "survey": survey or {},
        "rule": rule_text(results.rule),
        "threshold": results.rule.threshold,
        "overall": {**results.overall.json(), "respondents": sum(results.respondents.values())},
        "groups": {g: {**t.json(), "respondents": results.respondents[g]} for g, t in results.groups.items()},
        "schools": {s: t.json() for s, t in results.schools.items()},
        "questions": [{"group": q.group, "id": q.id, "text": q.text, **q.tally.json(), "choices": q.choices,
                       "below": q in results.below} for q in results.questions],
    }
