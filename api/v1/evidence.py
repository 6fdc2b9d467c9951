"""Evidence (佐证材料) over the API: upload to a task, download one file, the 资料汇编 zip.
(The list of a task's evidence is ``GET /tasks/{id}/evidence`` in api.v1.tasks.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import FileResponse

from api.deps import MAX_ID, CurrentUser, DbSession
from api.errors import CONFLICT_RESPONSE, TOO_LARGE_RESPONSE, ErrorOut
from api.evidence import archive_response, evidence_response, load_evidence_for, load_task_for, receive_evidence
from api.schemas.common import TEXT_PATTERN
from api.schemas.tasks import EvidenceOut
from tracker.org.models import Campaign
from tracker.evidence.storage import KINDS
from tracker.tasks.models import Evidence

router = APIRouter(tags=["佐证材料"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"item": {"type": "string", "maxLength": 20,
                                    "description": "可选：文件对应的资料项编号（资料清单，如 1-1），放在 file 之前"},
                           "file": {"type": "string", "format": "binary",
                                    "description": "PDF、图片、Office 文档或 ZIP；大小上限见 JUNHENG_EVIDENCE_MAX_BYTES"}},
        }}},
    },
}
# the file as stored: its media type is one of the allowed kinds
FILE_RESPONSE = {200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}
                                   for media in sorted({kind.content_type for kind in KINDS.values()})},
                       "description": "文件（Content-Disposition 带 RFC 5987 filename*）"}}
UNSUPPORTED = {415: {"model": ErrorOut, "description": "文件类型不允许，或扩展名与内容不符"}}


@router.post("/tasks/{task_id}/evidence", status_code=status.HTTP_201_CREATED, response_model=EvidenceOut,
             summary="上传佐证材料", openapi_extra=UPLOAD_BODY,
             responses={**TOO_LARGE_RESPONSE, **UNSUPPORTED, 400: {"model": ErrorOut, "description": "上传内容有误"},
                        **CONFLICT_RESPONSE})
async def upload_evidence(
    request: Request, session: DbSession, user: CurrentUser,
    task_id: Annotated[int, Path(ge=1, le=MAX_ID, description="任务编号")],
) -> Evidence:
    """The body is read as it streams in (multipart, field ``file``): over the size limit the
    upload stops with 413 and nothing is kept. The same file twice on one task is kept once
    (the answer is then the existing record, still 201)."""
    task = load_task_for(session, user, task_id)
    added = await receive_evidence(request, session, user, task)
    return added.evidence


@router.get("/evidence/{evidence_id}", response_class=FileResponse, responses=FILE_RESPONSE, summary="下载佐证材料")
def download_evidence(session: DbSession, user: CurrentUser,
                      evidence_id: Annotated[int, Path(ge=1, le=MAX_ID, description="佐证材料编号")]) -> FileResponse:
    evidence, path = load_evidence_for(session, user, evidence_id)
    return evidence_response(evidence, path)


@router.get("/archive", response_class=FileResponse, summary="资料汇编（办公室、评估人员）",
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "ZIP：目录.xlsx（指标、任务、责任单位、文件、日期）和各任务的文件"}})
def download_archive(
    session: DbSession, user: CurrentUser,
    indicator: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN,
                                           description="指标代码（如 5、14、E1）；不填为全部指标")] = None,
) -> FileResponse:
    campaign = session.get(Campaign, user.campaign_id)  # the user's campaign: a foreign key, always there
    return archive_response(session, user, campaign, indicator)
