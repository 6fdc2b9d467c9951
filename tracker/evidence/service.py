"""Evidence rows (佐证材料) of tasks, and the per-indicator evidence binder (资料汇编).

Functions take a session first and never commit. Adding evidence writes one ``evidence.added``
event; the same file (same SHA-256) uploaded twice to a task is kept once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from openpyxl.styles import Alignment, Font
from sqlmodel import Session, select

from tracker.org.models import Campaign, Department, School
from tracker.events.service import record_event
from tracker.evidence.storage import StoredFile, format_size, stored_path
from tracker.materials.queries import IndicatorMaterials, evidence_tags, material_status
from tracker.materials.service import campaign_checklist
from tracker.spreadsheets import new_workbook, workbook_bytes
from tracker.standards import load_standard
from tracker.standards.schema import Standard
from tracker.clock import local_time
from tracker.tasks.models import Evidence, Task, TaskStatus
from tracker.errors import ErrorKind, JunhengError

OTHER_INDICATOR = "其他"  # tasks without an indicator (the plan's preparatory work) in the binder


class EvidenceNotFound(JunhengError, LookupError, kind=ErrorKind.not_found):
    """No such evidence file for this task (Chinese message)."""


@dataclass(frozen=True)
class AddedEvidence:
    evidence: Evidence
    created: bool  # False: the task already had this very file


def add_evidence(session: Session, task: Task, stored: StoredFile, *, uploaded_by: str,
                 actor_id: int | None = None) -> AddedEvidence:
    """Record a stored file as evidence of ``task`` (who may add to which task: api.evidence)."""
    existing = session.exec(
        select(Evidence).where(Evidence.task_id == task.id, Evidence.sha256 == stored.sha256)
    ).first()
    if existing is not None:
        return AddedEvidence(existing, created=False)
    evidence = Evidence(
        campaign_id=task.campaign_id,
        task_id=task.id,
        filename=stored.filename,
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        uploaded_by=uploaded_by,
    )
    session.add(evidence)
    session.flush()
    record_event(session, type="evidence.added", actor=uploaded_by, actor_id=actor_id,
                 campaign_id=task.campaign_id, task_id=task.id,
                 payload={"evidence_id": evidence.id, "filename": evidence.filename,
                          "sha256": evidence.sha256, "size": evidence.size})
    return AddedEvidence(evidence, created=True)


def task_evidence(session: Session, task_id: int) -> list[Evidence]:
    return list(session.exec(select(Evidence).where(Evidence.task_id == task_id)
                             .order_by(Evidence.uploaded_at, Evidence.id)))


def get_evidence(session: Session, evidence_id: int) -> Evidence:
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise EvidenceNotFound(f"没有编号为 #{evidence_id} 的佐证材料")
    return evidence


def evidence_file(evidence: Evidence) -> Path:
    """The stored file; ``EvidenceNotFound`` when the disk no longer has it."""
    path = stored_path(evidence.sha256)
    if not path.is_file():
        raise EvidenceNotFound(f"佐证材料「{evidence.filename}」的文件已不在存储中（sha256 {evidence.sha256[:12]}…），"
                               f"请联系管理员")
    return path


# ---------------------------------------------------------------------------------------------
# 资料汇编: one zip per indicator for reviewers


CATALOGUE_NAME = "目录.xlsx"
CATALOGUE_COLUMNS = ["序号", "指标", "指标内容", "任务编号", "任务", "任务状态", "责任单位", "文件", "包内路径",
                     "大小", "SHA-256", "上传人", "上传日期", "资料项"]
CHECK_SHEET = "资料清单核对"  # issue 13 §4: per indicator, each checklist item with its files or 缺
CHECK_COLUMNS = ["指标", "指标内容", "资料项编号", "资料名称", "要求", "文件数", "情况", "责任单位"]


def indicator_title(standard: Standard, code: str | None) -> str:
    if not code:
        return "计划任务（不对应具体指标）"
    try:
        return standard.indicator(code).title
    except KeyError:
        pass
    for condition in (*standard.application_conditions, *standard.vetoes):
        if condition.code == code:
            return condition.title
    return ""


def _folder_part(text: str, limit: int = 40) -> str:
    text = re.sub(r'[\x00-\x1f\x7f<>:"/\\|?*]', "_", text).strip().strip(".")
    return text[:limit].rstrip() or "_"


@dataclass(frozen=True)
class ArchiveEntry:
    evidence: Evidence
    task: Task
    unit: str
    member: str  # path inside the zip


@dataclass(frozen=True)
class EvidenceArchive:
    entries: list[ArchiveEntry]
    missing: list[Evidence]  # rows whose file is no longer on disk (listed in the catalogue)
    materials: list[IndicatorMaterials] = field(default_factory=list)  # the checklist, item by item

    @property
    def missing_required(self) -> list[str]:
        """The required checklist items without a file, as 「指标 5 5-1 …」."""
        return [f"指标 {b.code} {s.item.id} {s.item.title}" for b in self.materials for s in b.missing]


def archive_entries(session: Session, campaign: Campaign, indicator: str | None = None) -> list[ArchiveEntry]:
    """The evidence of the campaign's tasks for ``indicator`` (every indicator when None), in
    the binder's order: indicator, task, upload time."""
    standard = load_standard(campaign.standard_id)
    stmt = (select(Evidence, Task).join(Task, Task.id == Evidence.task_id)
            .where(Evidence.campaign_id == campaign.id))
    if indicator is not None:
        stmt = stmt.where(Task.indicator == indicator)
    rows = list(session.exec(stmt))
    departments = {d.id: d.name for d in session.exec(select(Department).where(Department.campaign_id == campaign.id))}
    schools = {s.id: s.name for s in session.exec(select(School).where(School.campaign_id == campaign.id))}
    rows.sort(key=lambda r: (standard.indicator_sort_key(r[1].indicator), r[1].id, r[0].uploaded_at, r[0].id))

    entries: list[ArchiveEntry] = []
    used: set[str] = set()
    for evidence, task in rows:
        code = task.indicator
        folder = (f"指标{code}_{_folder_part(indicator_title(standard, code), 24)}" if code
                  else OTHER_INDICATOR)
        task_folder = f"任务{task.id:05d}_{_folder_part(task.title)}"
        stem, ext = os.path.splitext(evidence.filename)
        member = f"{folder}/{task_folder}/{evidence.filename}"
        n = 2
        while member in used:  # two different files with one name in a task
            member = f"{folder}/{task_folder}/{stem}（{n}）{ext}"
            n += 1
        used.add(member)
        unit = (departments.get(task.department_id) if task.department_id is not None
                else schools.get(task.responsible_school_id, "")) or ""
        entries.append(ArchiveEntry(evidence, task, unit, member))
    return entries


def _catalogue(entries: Sequence[ArchiveEntry], standard: Standard, campaign: Campaign,
               missing: set[int], tags: dict[int, str], materials: Sequence[IndicatorMaterials],
               checklist_label: str) -> bytes:
    wb = new_workbook()
    ws = wb.active
    ws.title = "资料目录"
    ws.append([f"{campaign.name} 佐证材料目录"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(CATALOGUE_COLUMNS)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for seq, entry in enumerate(entries, start=1):
        ev, task = entry.evidence, entry.task
        ws.append([
            seq, task.indicator or OTHER_INDICATOR, indicator_title(standard, task.indicator), task.id, task.title,
            TaskStatus(task.status).value, entry.unit, ev.filename,
            "（文件缺失，未收入）" if ev.id in missing else entry.member,
            format_size(ev.size), ev.sha256, ev.uploaded_by,
            local_time(ev.uploaded_at).strftime("%Y-%m-%d"), tags.get(ev.id, ""),
        ])
    for column, width in zip("ABCDEFGHIJKLMN", (6, 8, 40, 10, 40, 10, 24, 30, 60, 10, 66, 10, 12, 10), strict=True):
        ws.column_dimensions[column].width = width
    check = wb.create_sheet(CHECK_SHEET)
    check.append([f"{campaign.name} 资料清单核对（{checklist_label}）"])
    check["A1"].font = Font(bold=True, size=14)
    check.append(CHECK_COLUMNS)
    for cell in check[2]:
        cell.font = Font(bold=True)
    for block in materials:
        for status in block.items:
            check.append([block.code, block.title, status.item.id, status.item.title,
                          "必备" if status.item.required else "可选", status.files,
                          "已有" if status.files else ("缺" if status.item.required else "—"), "、".join(block.units)])
    for column, width in zip("ABCDEFGH", (8, 40, 10, 50, 8, 8, 8, 30), strict=True):
        check.column_dimensions[column].width = width
    return workbook_bytes(wb)


def write_evidence_archive(session: Session, campaign: Campaign, out: BinaryIO,
                           indicator: str | None = None) -> EvidenceArchive:
    """Write the binder as a zip to ``out``: the catalogue (目录.xlsx: indicator, task, unit,
    file, date …) and every file under 指标N_…/任务00042_…/. Files are stored, not deflated:
    PDFs, images and Office files are compressed already."""
    standard = load_standard(campaign.standard_id)
    entries = archive_entries(session, campaign, indicator)
    missing = [e.evidence for e in entries if not stored_path(e.evidence.sha256).is_file()]
    missing_ids = {e.id for e in missing}
    checklist = campaign_checklist(session, campaign)
    materials = material_status(session, campaign, indicator, checklist=checklist)
    tags = evidence_tags(session, [e.evidence.id for e in entries])
    catalogue = _catalogue(entries, standard, campaign, missing_ids, tags, materials, checklist.label)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(zipfile.ZipInfo(CATALOGUE_NAME, date_time=_zip_time()),
                         catalogue, compress_type=zipfile.ZIP_DEFLATED)
        for entry in entries:
            if entry.evidence.id in missing_ids:
                continue
            info = zipfile.ZipInfo(entry.member, date_time=local_time(entry.evidence.uploaded_at).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w") as dest, stored_path(entry.evidence.sha256).open("rb") as src:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    dest.write(chunk)
    return EvidenceArchive(entries=entries, missing=missing, materials=materials)


def _zip_time() -> tuple[int, int, int, int, int, int]:
    from tracker.db import utcnow

    return local_time(utcnow()).timetuple()[:6]


def archive_filename(campaign: Campaign, indicator: str | None, today: dt.date) -> str:
    what = f"指标{indicator}" if indicator else "全部指标"
    return f"{campaign.county}资料汇编_{what}_{today:%Y%m%d}.zip"
