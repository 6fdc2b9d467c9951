"""调度通报: the weekly briefings as issued (tracker.briefings) — the list, one with its stored
figures, and its Word and PDF files. Office, reviewers and departments may read them, as on the
dashboard page (api/pages/briefings.py); schools may not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from api.deps import MAX_ID, DbSession, UserCampaign, require_role
from api.evidence import content_disposition
from api.pages.briefings import MEDIA, READERS
from api.schemas.briefings import BriefingDetailOut, BriefingOut
from tracker.accounts.models import User
from tracker.briefings.models import Briefing
from tracker.briefings.service import BriefingNotFound, briefing_data, get_briefing, list_briefings
from tracker.org.models import Campaign

router = APIRouter(tags=["调度通报"])

BriefingReader = Annotated[User, Depends(require_role(*READERS, what="查看调度通报"))]
Number = Annotated[int, Path(ge=1, le=MAX_ID, description="期数")]
Which = Annotated[str, Path(pattern=r"^([0-9]{1,9}|[0-9]{4}-[Ww][0-9]{1,2})$",
                            description="期数（如 3）或周次（如 2026-W48）")]


def _file_response(kind: str) -> dict:
    return {200: {"content": {MEDIA[kind]: {"schema": {"type": "string", "format": "binary"}}},
                  "description": "文件（Content-Disposition 带 RFC 5987 filename*）"}}


def _summary(briefing: Briefing) -> dict:
    return {"id": briefing.id, "number": briefing.number, "iso_week": briefing.iso_week,
            "period_start": briefing.period_start, "period_end": briefing.period_end,
            "issued_on": briefing.issued_on, "as_of": briefing.as_of, "issues": briefing.issues,
            "has_docx": briefing.docx is not None, "has_pdf": briefing.pdf is not None,
            "updated_at": briefing.updated_at}


@router.get("/campaigns/{campaign}/briefings", response_model=list[BriefingOut], summary="调度通报列表（新的在前）")
def list_campaign_briefings(session: DbSession, user: BriefingReader, campaign: UserCampaign) -> list:
    return list_briefings(session, campaign)


@router.get("/campaigns/{campaign}/briefings/{which}", response_model=BriefingDetailOut,
            summary="一期调度通报及其数据")
def get_campaign_briefing(session: DbSession, user: BriefingReader, campaign: UserCampaign,
                          which: Which) -> BriefingDetailOut:
    briefing = get_briefing(session, campaign, which)
    return BriefingDetailOut.model_validate({**_summary(briefing), "data": briefing_data(briefing)})


def _document(session: DbSession, campaign: Campaign, number: int, kind: str) -> Response:
    briefing = get_briefing(session, campaign, number)
    content = briefing.docx if kind == "docx" else briefing.pdf
    if content is None:
        raise BriefingNotFound(f"第 {number} 期调度通报没有 {kind.upper()} 文件")
    name = f"{campaign.county}优质均衡创建调度通报第{briefing.number}期（{briefing.iso_week}）.{kind}"
    return Response(content, media_type=MEDIA[kind], headers={
        "Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


@router.get("/campaigns/{campaign}/briefings/{number}/docx", response_class=Response,
            responses=_file_response("docx"), summary="下载调度通报（Word）")
def download_briefing_docx(session: DbSession, user: BriefingReader, campaign: UserCampaign,
                           number: Number) -> Response:
    return _document(session, campaign, number, "docx")


@router.get("/campaigns/{campaign}/briefings/{number}/pdf", response_class=Response,
            responses=_file_response("pdf"), summary="下载调度通报（PDF）")
def download_briefing_pdf(session: DbSession, user: BriefingReader, campaign: UserCampaign,
                          number: Number) -> Response:
    return _document(session, campaign, number, "pdf")
