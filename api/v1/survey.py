"""满意度调查 (issue 13 §3): the results as JSON, and closing the round."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CountyReader, DbSession, OfficeUser, UserCampaign
from tracker.accounts.service import acting_person
from tracker.surveys.figure import results_data
from tracker.surveys.service import close_survey, standard_of, survey_for

router = APIRouter(tags=["满意度调查"])


@router.get("/campaigns/{campaign}/survey/results", summary="满意度调查结果：总体、各群体、各学校、各题（满意率为小数）")
def survey_results(session: DbSession, user: CountyReader, campaign: UserCampaign) -> dict[str, Any]:
    return results_data(session, campaign, standard_of(campaign), survey_for(session, campaign))


@router.post("/campaigns/{campaign}/survey/close", summary="结束正在进行的满意度调查")
def close_current_survey(session: DbSession, user: OfficeUser, campaign: UserCampaign) -> dict[str, Any]:
    survey = close_survey(session, survey_for(session, campaign, open_only=True), acting_person(session, user).name)
    session.commit()
    return {"id": survey.id, "title": survey.title, "closed_at": survey.closed_at}
