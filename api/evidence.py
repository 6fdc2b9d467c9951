"""Evidence over the web, for the API (bearer token) and the pages (session cookie) alike:
who may upload, the download answer, and the 资料汇编 zip.

- Upload: the office (any task not withdrawn) and the responsible unit itself (its open tasks).
  Cooperating units, related schools and reviewers read only.
- Download: whoever may see the task (tracker.accounts.access.can_read_task).
- 资料汇编: office and reviewers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse
from sqlmodel import Session
from starlette.background import BackgroundTask

from api.uploads import ParsedUpload, read_evidence_upload
from tracker.accounts.access import AccessDenied, can_read_task, is_responsible, require_role, role_of
from tracker.accounts.models import User, UserRole
from tracker.org.models import Campaign
from tracker.evidence.service import (
    AddedEvidence,
    EvidenceNotFound,
    add_evidence,
    archive_filename,
    evidence_file,
    get_evidence,
    write_evidence_archive,
)
from tracker.evidence.storage import EvidenceRejected, evidence_root
from tracker.materials.service import check_item, tag_evidence
from tracker.clock import local_today
from tracker.tasks.models import Evidence, Task, TaskStatus
from tracker.tasks.service import TaskNotFound


def upload_refusal(session: Session, user: User, task: Task) -> str | None:
    """Why the user may not add evidence to the task (Chinese), or None."""
    role = role_of(user)
    status = TaskStatus(task.status)
    if role is UserRole.reviewer:
        return "评估人员只能查看，不能上传佐证材料"
    if status is TaskStatus.withdrawn:
        return f"任务 #{task.id} 已撤销，不能再上传佐证材料"
    if role is UserRole.office:
        return None
    if not can_read_task(session, user, task):
        return f"任务 #{task.id} 不属于本单位，无权上传佐证材料"
    if not is_responsible(user, task):
        # 联办 (issue 12 §3): a cooperating department adds the evidence of its own share while
        # the task is open (a department sees only the tasks it leads or cooperates on)
        if role is UserRole.department and status in (TaskStatus.assigned, TaskStatus.accepted,
                                                      TaskStatus.in_progress, TaskStatus.submitted):
            return None
        return f"本单位只是任务 #{task.id} 的相关学校，只能查看，不能上传佐证材料"
    if status is TaskStatus.verified:
        return f"任务 #{task.id} 已销号，佐证材料已定稿；如需补充请联系领导小组办公室"
    return None


def load_task_for(session: Session, user: User, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.campaign_id != user.campaign_id:
        raise TaskNotFound(f"没有编号为 #{task_id} 的任务")
    return task


async def receive_evidence(request: Request, session: Session, user: User, task: Task, *,
                           check_fields=None) -> AddedEvidence:
    """Stream the upload in, check it, store it, record it (commits). ``check_fields`` sees the
    form's text fields before the file is kept (a page checks its CSRF token there) and raises
    to refuse; the file is then discarded."""
    refusal = upload_refusal(session, user, task)
    if refusal is not None:
        raise AccessDenied(refusal)  # before reading a byte of the body
    upload: ParsedUpload = await read_evidence_upload(request)
    item_id = (upload.fields.get("item") or "").strip()  # 资料项 (issue 13 §4): checked before the file is kept
    try:
        if check_fields is not None:
            check_fields(upload.fields)
        if item_id:
            check_item(session, session.get(Campaign, task.campaign_id), task, item_id)
        stored = upload.writer.finish()
    except BaseException:
        upload.discard()
        raise
    from tracker.accounts.service import acting_person

    person = acting_person(session, user)
    added = add_evidence(session, task, stored, uploaded_by=person.name, actor_id=person.id)
    if item_id:
        tag_evidence(session, added.evidence, item_id, person.name)
    session.commit()
    return added


def tag_refusal(session: Session, user: User, evidence: Evidence) -> str | None:
    """Why the user may not tag the file with a checklist item (Chinese), or None: who may upload
    to its task may tag it; the office always."""
    task = session.get(Task, evidence.task_id)
    if role_of(user) is UserRole.office:
        return None
    refusal = upload_refusal(session, user, task)
    return refusal.replace("上传佐证材料", "标注资料项") if refusal else None


def set_evidence_item(session: Session, user: User, evidence_id: int, item_id: str | None) -> Evidence:
    """Tag (or untag) a file of the user's campaign with a checklist item (commits)."""
    evidence = get_evidence(session, evidence_id)
    if evidence.campaign_id != user.campaign_id:
        raise EvidenceNotFound(f"没有编号为 #{evidence_id} 的佐证材料")
    refusal = tag_refusal(session, user, evidence)
    if refusal is not None:
        raise AccessDenied(refusal)
    from tracker.accounts.service import acting_person

    tag_evidence(session, evidence, item_id, acting_person(session, user).name)
    session.commit()
    return evidence


def load_evidence_for(session: Session, user: User, evidence_id: int) -> tuple[Evidence, Path]:
    evidence = get_evidence(session, evidence_id)
    if evidence.campaign_id != user.campaign_id:
        raise EvidenceNotFound(f"没有编号为 #{evidence_id} 的佐证材料")
    task = session.get(Task, evidence.task_id)
    if task is None or not can_read_task(session, user, task):
        raise AccessDenied(f"佐证材料 #{evidence_id} 属于其他单位的任务，无权下载")
    return evidence, evidence_file(evidence)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``filename`` for old clients (ASCII, unsafe characters replaced) and RFC 5987
    ``filename*`` with the real (UTF-8) name."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename) or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def evidence_response(evidence: Evidence, path: Path) -> FileResponse:
    return FileResponse(path, media_type=evidence.content_type, headers={
        "Content-Disposition": content_disposition(evidence.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })


def archive_response(session: Session, user: User, campaign: Campaign, indicator: str | None) -> FileResponse:
    require_role(user, UserRole.office, UserRole.reviewer, what="下载资料汇编")
    tmp_dir = evidence_root() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="archive-", suffix=".zip", delete=False)
    try:
        with handle:
            write_evidence_archive(session, campaign, handle, indicator=indicator or None)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    name = archive_filename(campaign, indicator or None, local_today())
    return FileResponse(handle.name, media_type="application/zip",
                        headers={"Content-Disposition": content_disposition(name),
                                 "Cache-Control": "private, no-store"},
                        background=BackgroundTask(Path(handle.name).unlink, missing_ok=True))


__all__ = ["EvidenceRejected", "archive_response", "content_disposition", "evidence_response", "load_evidence_for",
           "load_task_for", "receive_evidence", "set_evidence_item", "tag_refusal", "upload_refusal"]
