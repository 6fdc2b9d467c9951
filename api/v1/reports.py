"""申报材料 (issue 13 §1): the office's texts of the 自评报告, per section. The documents
themselves are downloaded from the office's page (/reports) or written by `junheng report`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import DbSession, OfficeUser, UserCampaign
from api.schemas.reports import ReportTextIn, ReportTextOut
from tracker.accounts.service import acting_person
from tracker.reports.queries import report_texts
from tracker.reports.texts import PLACEHOLDER, SECTIONS, check_section, set_report_text

router = APIRouter(tags=["申报材料"])

Section = Annotated[str, Path(max_length=20, description="部分：" + "、".join(SECTIONS))]


def _listing(session, campaign_id: int) -> list[ReportTextOut]:
    found = report_texts(session, campaign_id)
    return [ReportTextOut(section=key, name=name, text=found[key].text if key in found else PLACEHOLDER,
                          filled=key in found, updated_by=found[key].updated_by if key in found else "",
                          updated_at=found[key].updated_at if key in found else None)
            for key, name in SECTIONS.items()]


@router.get("/campaigns/{campaign}/report-texts", response_model=list[ReportTextOut], summary="自评报告各部分的文字")
def list_report_texts(session: DbSession, user: OfficeUser, campaign: UserCampaign) -> list[ReportTextOut]:
    return _listing(session, campaign.id)


@router.put("/campaigns/{campaign}/report-texts/{section}", response_model=ReportTextOut,
            summary="填写自评报告某一部分的文字")
def put_report_text(session: DbSession, user: OfficeUser, campaign: UserCampaign, section: Section,
                    body: ReportTextIn) -> ReportTextOut:
    check_section(section)
    set_report_text(session, campaign, section, body.text, acting_person(session, user).name)
    session.commit()
    return next(t for t in _listing(session, campaign.id) if t.section == section)
