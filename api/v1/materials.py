"""资料清单 (issue 13 §4): per indicator, the materials expected and which required ones have
files; tagging a file with the item it meets. (An upload may tag at once: form field ``item``.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_ID, CurrentUser, DbSession
from api.evidence import set_evidence_item
from api.schemas.common import TEXT_PATTERN
from api.schemas.materials import (
    EvidenceItemIn,
    EvidenceItemOut,
    IndicatorMaterialsOut,
    MaterialItemOut,
    MaterialsOut,
    MissingItemOut,
)
from tracker.accounts.access import check_reads_county_results
from tracker.materials.queries import material_status, missing_required_items
from tracker.materials.service import campaign_checklist
from tracker.org.models import Campaign

router = APIRouter(tags=["资料清单"])
Indicator = Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN, description="指标代码；不填为全部")]


@router.get("/materials", response_model=MaterialsOut, summary="资料清单及各项的文件情况（办公室、评估人员）")
def materials(session: DbSession, user: CurrentUser, indicator: Indicator = None) -> MaterialsOut:
    check_reads_county_results(user)
    campaign = session.get(Campaign, user.campaign_id)
    checklist = campaign_checklist(session, campaign)
    blocks = material_status(session, campaign, indicator or None, checklist=checklist)
    return MaterialsOut(
        title=checklist.title, illustrative=checklist.illustrative, imported=checklist.imported,
        missing_required=sum(len(b.missing) for b in blocks),
        indicators=[IndicatorMaterialsOut(
            indicator=b.code, title=b.title, units=b.units, required=b.required, required_met=b.required_met,
            items=[MaterialItemOut(id=s.item.id, title=s.item.title, required=s.item.required, files=s.files,
                                   missing=s.missing) for s in b.items]) for b in blocks])


@router.get("/materials/missing", response_model=list[MissingItemOut], summary="尚无文件的必备资料项")
def missing(session: DbSession, user: CurrentUser, indicator: Indicator = None) -> list[MissingItemOut]:
    check_reads_county_results(user)
    return [MissingItemOut(**m.__dict__) for m in missing_required_items(session, user.campaign_id, indicator or None)]


@router.put("/evidence/{evidence_id}/item", response_model=EvidenceItemOut, summary="标注佐证材料对应的资料项")
def put_evidence_item(session: DbSession, user: CurrentUser, body: EvidenceItemIn,
                      evidence_id: Annotated[int, Path(ge=1, le=MAX_ID, description="佐证材料编号")]) -> EvidenceItemOut:
    evidence = set_evidence_item(session, user, evidence_id, body.item)
    return EvidenceItemOut(evidence_id=evidence.id, item=(body.item or "").strip() or None)
