"""Assessing a campaign's records with everything the store holds for it: the county inputs and,
for the recognition indicator (national 32, Hunan 36), the satisfaction survey.

The survey's overall rate is the indicator's figure unless the office entered one; the item's
detail names where the figure came from (the survey, or 办公室录入). Each question whose rate is
below the standard's threshold is a county shortfall of that indicator (not blocking: the
indicator's verdict is the overall rate), keyed by group and question, so it becomes a task for
the units the plan names for the indicator, like any other shortfall.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import Session

from tracker.assessment.county_inputs import entered_county_inputs
from tracker.assessment.engine import Assessment, assess
from tracker.assessment.shortfalls import Shortfall
from tracker.org.models import Campaign
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import Standard
from tracker.surveys.figure import RecognitionFigure, recognition_figure

ENTERED_SOURCE = "来源：办公室录入"


def kindergarten_weight_of(campaign: Campaign) -> float | None:
    """The plan's 幼儿班折算 (a kindergarten pupil's weight), None where the plan does not set it
    (then the assessment uses the setting JUNHENG_KINDERGARTEN_WEIGHT)."""
    weight = (campaign.plan or {}).get("kindergarten_weight")
    return None if weight is None else float(weight)


def assess_with_survey(session: Session, campaign: Campaign, standard: Standard, records: list[SchoolRecord],
                    as_of: dt.date) -> Assessment:
    inputs = entered_county_inputs(session, campaign)
    rule = standard.survey
    figure = recognition_figure(session, campaign, standard) if rule is not None else None
    entered = rule is not None and rule.indicator in inputs
    if figure is not None and not entered:
        inputs[figure.indicator] = figure.percent
    result = assess(standard, records, inputs, as_of, kindergarten_weight=kindergarten_weight_of(campaign))
    if rule is None:
        return result
    source = ENTERED_SOURCE if entered else (figure.source if figure is not None else "")
    if source:
        result.county = [dataclasses.replace(item, detail=f"{item.detail}；{source}")
                         if item.code == rule.indicator else item for item in result.county]
    if figure is not None:
        result.shortfalls.extend(question_shortfalls(standard, figure))
    return result


def question_shortfalls(standard: Standard, figure: RecognitionFigure) -> list[Shortfall]:
    rule = standard.survey
    assert rule is not None
    ind = standard.indicator(rule.indicator)
    required = rule.threshold * 100
    out = []
    for q in figure.below:
        rate = q.tally.rate
        assert rate is not None
        actual = round(rate * 100, 4)
        sample = "（示例调查）" if figure.illustrative else ""
        out.append(Shortfall(
            indicator=rule.indicator, stage=f"{q.group}·{q.id}", school=None, actual=actual, required=required,
            missing=round(required - actual, 4), unit="%", departments=list(ind.departments), blocking=False,
            kind="county",
            text=(f"满意度调查{sample}{q.group}问卷第 {q.id} 题「{q.text}」满意率 {rate:.1%}"
                  f"（{q.tally.satisfied} ÷ {q.tally.counted}），低于 {rule.threshold:.0%}"),
            title=f"{q.group}满意度：{q.text}"))
    return out
