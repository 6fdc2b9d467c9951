"""考核 (issue 12 §7): the table of a period — office, reviewers (the city's too) see every unit,
a department or a school its own row — its .xlsx, and the office's 通报表扬 / 通报批评 (.docx)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CountyReader, CurrentUser, DbSession, UserCampaign, store_calendar
from api.evidence import content_disposition
from api.schemas.appraisal import AppraisalNoticeIn, AppraisalOut
from tracker.accounts.access import check_issues_appraisal_notice, visible_appraisal_rows
from tracker.accounts.service import acting_person
from tracker.appraisal.service import appraise, issue_notice, parse_day

router = APIRouter(tags=["考核"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
From = Annotated[str | None, Query(alias="from", max_length=20, description="期间第一天，如 2026-12-01；默认创建工作开始之日")]
To = Annotated[str | None, Query(alias="to", max_length=20, description="期间最后一天；默认今天")]


def _file(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={
        "Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


def _binary(media: str) -> dict:
    return {200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}}, "description": "文件"}}


@router.get("/campaigns/{campaign}/appraisal", response_model=AppraisalOut, summary="考核表（按期间）")
def get_appraisal(session: DbSession, user: CurrentUser, campaign: UserCampaign, start: From = None,
                  end: To = None) -> dict:
    store_calendar(session)
    result = appraise(session, campaign, parse_day(start, "from"), parse_day(end, "to"))
    return {"campaign": campaign.code, "start": result.start, "end": result.end, "today": result.today,
            "rule": result.rule.model_dump(), "units": [r.as_dict() for r in visible_appraisal_rows(user, result.units)]}


@router.get("/campaigns/{campaign}/appraisal/xlsx", response_class=Response, responses=_binary(XLSX),
            summary="下载考核表（.xlsx；办公室、评估人员）")
def download_appraisal(session: DbSession, user: CountyReader, campaign: UserCampaign, start: From = None,
                       end: To = None) -> Response:
    from notifications.appraisal import write_appraisal_xlsx

    store_calendar(session)
    result = appraise(session, campaign, parse_day(start, "from"), parse_day(end, "to"))
    return _file(write_appraisal_xlsx(result), XLSX,
                 f"{campaign.county}考核表（{result.start.isoformat()}至{result.end.isoformat()}）.xlsx")


@router.post("/campaigns/{campaign}/appraisal/notices", response_class=Response, responses=_binary(DOCX),
             summary="印发通报表扬或通报批评（办公室），返回通报（.docx）")
def post_appraisal_notice(session: DbSession, user: CurrentUser, campaign: UserCampaign,
                          body: AppraisalNoticeIn) -> Response:
    from notifications.appraisal import notice_title, write_notice_docx

    check_issues_appraisal_notice(user)
    store_calendar(session)
    person = acting_person(session, user)
    notice = issue_notice(session, campaign, body.kind, body.units, body.reason, actor=person.name,
                          actor_id=person.id)
    content = write_notice_docx(notice)  # rendered before the commit: a failure records nothing
    session.commit()
    return _file(content, DOCX, f"{notice_title(notice)}.docx")
