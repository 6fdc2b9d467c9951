"""资料清单与资料汇编 (issue 13 §4): per indicator, the materials the assessment team expects,
which required ones have files and which are missing (office and reviewers); tagging a file
of a task with the item it meets (from the task page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import MAX_ID, CsrfChecked, DbSession, PageUser
from api.evidence import set_evidence_item
from api.pages.common import flash, redirect, render
from api.schemas.common import TEXT_PATTERN
from tracker.accounts.access import check_reads_county_results
from tracker.materials.queries import material_status
from tracker.materials.service import MaterialTagError, campaign_checklist
from tracker.org.models import Campaign
from tracker.tasks.models import Evidence

router = APIRouter(include_in_schema=False)


@router.get("/materials", response_class=HTMLResponse, name="materials")
def materials(request: Request, session: DbSession, user: PageUser) -> Response:
    check_reads_county_results(user)
    campaign = session.get(Campaign, user.campaign_id)
    checklist = campaign_checklist(session, campaign)
    blocks = material_status(session, campaign, checklist=checklist)
    return render(request, session, user, "materials.html", {
        "checklist": checklist, "blocks": blocks, "missing": sum(len(b.missing) for b in blocks),
    }, nav_path="/indicators")


@router.post("/evidence/{evidence_id}/item", name="evidence_item")
def evidence_item(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                  evidence_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                  item: Annotated[str, Form(max_length=20, pattern=TEXT_PATTERN)] = "") -> Response:
    try:
        evidence = set_evidence_item(session, user, evidence_id, item)
        flash(request, f"已标注「{evidence.filename}」对应资料项 {item}" if item.strip()
              else f"已取消「{evidence.filename}」的资料项标注")
    except MaterialTagError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        evidence = session.get(Evidence, evidence_id)
    return redirect(f"/tasks/{evidence.task_id}#evidence")


def task_materials_context(session, task, evidence: list[Evidence]) -> dict:
    """The task page's share: each file's item, and the items a file of this task may meet."""
    from tracker.materials.queries import evidence_tags
    from tracker.materials.service import item_choices

    checklist = campaign_checklist(session, session.get(Campaign, task.campaign_id))
    tags = evidence_tags(session, [e.id for e in evidence])
    titles = {i.id: i.title for i in checklist.items}
    return {"material_items": item_choices(checklist, task.indicator),
            "material_tags": {eid: (item, titles.get(item, "（清单中已无此项）")) for eid, item in tags.items()}}
