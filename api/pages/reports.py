"""申报材料 (issue 13 §1–2): the office writes the 自评报告's texts and downloads the 自评报告 and
the 申报表, generated from the latest assessment at the moment of the download."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CsrfChecked, DbSession, PageUser
from api.evidence import content_disposition
from api.pages.common import flash, redirect, render
from api.schemas.common import TEXT_PATTERN
from notifications.reports import application_docx, self_evaluation_docx
from tracker.accounts.access import require_role
from tracker.accounts.models import UserRole
from tracker.errors import ErrorKind
from tracker.org.models import Campaign
from tracker.reports.application import write_application_xlsx
from tracker.reports.data import report_data
from tracker.reports.texts import (SECTIONS, TEXT_LIMIT, ReportTextError, clear_report_text, set_report_text,
                                   texts_of)

router = APIRouter(include_in_schema=False)

MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _actor(session, user) -> str:
    from tracker.accounts.service import acting_person

    return acting_person(session, user).name


@router.get("/reports", response_class=HTMLResponse, name="reports")
def reports(request: Request, session: DbSession, user: PageUser) -> Response:
    require_role(user, UserRole.office, what="编写申报材料")
    texts = texts_of(session, user.campaign_id)
    return render(request, session, user, "reports.html",
                  {"sections": [(key, name, texts[key]) for key, name in SECTIONS.items()], "limit": TEXT_LIMIT})


@router.post("/reports/text/{section}", name="report_text")
def report_text(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                section: Annotated[str, Path(max_length=20)],
                text: Annotated[str, Form(max_length=TEXT_LIMIT + 1000, pattern=TEXT_PATTERN)] = "",
                clear: Annotated[str, Form(max_length=10)] = "") -> Response:
    require_role(user, UserRole.office, what="编写申报材料")
    campaign = session.get(Campaign, user.campaign_id)
    try:
        if clear:
            clear_report_text(session, campaign, section, _actor(session, user))
            flash(request, f"已清除「{section}」，报告中显示为【待填写】")
        else:
            set_report_text(session, campaign, section, text, _actor(session, user))
            flash(request, f"已保存「{section}」")
        session.commit()
    except ReportTextError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return redirect("/reports")


@router.get("/reports/{document}.{kind}", name="report_file")
def report_file(session: DbSession, user: PageUser,
                document: Annotated[str, Path(pattern="^(自评报告|申报表)$")],
                kind: Annotated[str, Path(pattern="^(docx|xlsx)$")]) -> Response:
    require_role(user, UserRole.office, what="下载申报材料")
    campaign = session.get(Campaign, user.campaign_id)
    if document == "自评报告" and kind != "docx":
        raise ReportTextError("自评报告只有 Word 文件", kind=ErrorKind.not_found)
    data = report_data(session, campaign)
    if kind == "docx":
        content = self_evaluation_docx(data) if document == "自评报告" else application_docx(data)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            content = write_application_xlsx(data, FilePath(tmp) / "申报表.xlsx").read_bytes()
    name = f"{campaign.county}{document}.{kind}"
    return Response(content, media_type=MEDIA[kind], headers={"Content-Disposition": content_disposition(name),
                                                               "Cache-Control": "private, no-store"})
