"""调度通报: the weekly briefings as issued (tracker.briefings), with their Word and PDF files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import DbSession, PageUser
from api.evidence import content_disposition
from api.pages.common import render
from tracker.accounts.access import require_role
from tracker.accounts.models import UserRole
from tracker.briefings.service import BriefingNotFound, get_briefing, list_briefings
from tracker.org.models import Campaign

router = APIRouter(include_in_schema=False)

READERS = (UserRole.office, UserRole.reviewer, UserRole.department)
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}


@router.get("/briefings", response_class=HTMLResponse, name="briefings")
def briefings(request: Request, session: DbSession, user: PageUser) -> Response:
    require_role(user, *READERS, what="查看调度通报")
    campaign = session.get(Campaign, user.campaign_id)
    return render(request, session, user, "briefings.html", {"briefings": list_briefings(session, campaign)})


@router.get("/briefings/{number}.{kind}", name="briefing_file")
def briefing_file(session: DbSession, user: PageUser, number: Annotated[int, Path(ge=1, le=100_000)],
                  kind: Annotated[str, Path(pattern="^(docx|pdf)$")]) -> Response:
    require_role(user, *READERS, what="下载调度通报")
    campaign = session.get(Campaign, user.campaign_id)
    briefing = get_briefing(session, campaign, number)
    content = briefing.docx if kind == "docx" else briefing.pdf
    if content is None:
        raise BriefingNotFound(f"第 {number} 期调度通报没有 {kind.upper()} 文件")
    name = f"{campaign.county}优质均衡创建调度通报第{briefing.number}期（{briefing.iso_week}）.{kind}"
    return Response(content, media_type=MEDIA[kind], headers={"Content-Disposition": content_disposition(name),
                                                               "Cache-Control": "private, no-store"})
