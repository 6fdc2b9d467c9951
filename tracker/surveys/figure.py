"""What the survey gives the assessment: the recognition indicator's figure (national 32, Hunan
36) from the campaign's newest survey with answers, and the questions below the threshold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from tracker.org.models import Campaign
from tracker.standards import load_standard
from tracker.standards.schema import Standard
from tracker.surveys import queries
from tracker.surveys.models import Survey
from tracker.surveys.questionnaire import Questionnaire
from tracker.surveys.results import QuestionResult, SurveyResults, tally


def survey_results(session: Session, survey: Survey, standard: Standard) -> SurveyResults:
    assert standard.survey is not None
    return tally(Questionnaire.model_validate(survey.questionnaire), standard.survey,
                 queries.response_rows(session, survey.id))


@dataclass(frozen=True)
class RecognitionFigure:
    indicator: str
    percent: float  # the overall rate × 100, as the indicator's threshold (85 %) is written
    survey_id: int
    survey_title: str
    illustrative: bool
    answers: int
    respondents: int
    below: list[QuestionResult]

    @property
    def source(self) -> str:
        sample = "（示例）" if self.illustrative else ""
        return (f"来源：满意度调查{sample}「{self.survey_title}」#{self.survey_id}，"
                f"{self.respondents} 份答卷、{self.answers} 个计入的回答")


def recognition_figure(session: Session, campaign: Campaign, standard: Standard) -> RecognitionFigure | None:
    """The figure of the campaign's newest survey, or None (no rule, no survey, no answers)."""
    if standard.survey is None:
        return None
    survey = queries.latest_survey(session, campaign.id)
    if survey is None:
        return None
    results = survey_results(session, survey, standard)
    rate = results.overall.rate
    if rate is None:
        return None
    return RecognitionFigure(standard.survey.indicator, round(rate * 100, 6), survey.id, survey.title,
                             survey.illustrative, results.overall.counted, sum(results.respondents.values()),
                             results.below)


def overall_rates(session: Session, campaigns: list[Campaign]) -> dict[int, float]:
    """Each campaign's overall satisfaction rate (a fraction, as ``survey results``) from its
    newest survey, for the region roll-up: two statements whatever the number of campaigns.
    Campaigns without a survey, answers or a survey rule in their standard are left out."""
    surveys = queries.latest_surveys(session, [c.id for c in campaigns])
    answers = queries.response_answers(session, [s.id for s in surveys.values()]) if surveys else {}
    rates: dict[int, float] = {}
    for campaign in campaigns:
        survey = surveys.get(campaign.id)
        if survey is None or not answers.get(survey.id):
            continue
        standard = load_standard(campaign.standard_id)
        if standard.survey is None:
            continue
        rate = tally(Questionnaire.model_validate(survey.questionnaire), standard.survey, answers[survey.id]).overall.rate
        if rate is not None:
            rates[campaign.id] = rate
    return rates


def results_data(session: Session, campaign: Campaign, standard: Standard, survey: Survey) -> dict:
    """The results' JSON (tracker.surveys.results.results_json) with the survey named."""
    from tracker.surveys.results import results_json

    results = survey_results(session, survey, standard)
    return results_json(results, {
        "id": survey.id, "title": survey.title, "illustrative": survey.illustrative,
        "closed": survey.closed_at is not None, "indicator": standard.survey.indicator if standard.survey else None,
    })
