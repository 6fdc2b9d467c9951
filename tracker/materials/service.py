"""The campaign's checklist (the office's import, else the standard's shipped file) and tagging
evidence with the item it meets. Functions take a session first and never commit."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from tracker.db import utcnow
from tracker.errors import ErrorKind, JunhengError
from tracker.events.service import record_event
from tracker.materials.checklist import Checklist, ChecklistError, ChecklistItem, parse_checklist, shipped_checklist
from tracker.materials.models import EvidenceMaterial, MaterialChecklist
from tracker.org.models import Campaign
from tracker.standards import load_standard
from tracker.tasks.models import Evidence, Task
from tracker.yamlfile import YamlError, read_text


class MaterialTagError(JunhengError, kind=ErrorKind.invalid):
    """An evidence file cannot be tagged with that item (Chinese message)."""


def campaign_checklist(session: Session, campaign: Campaign) -> Checklist:
    """The office's imported checklist of the campaign, else the standard's shipped one."""
    row = session.exec(select(MaterialChecklist).where(MaterialChecklist.campaign_id == campaign.id)).first()
    if row is None:
        return shipped_checklist(campaign.standard_id)
    return Checklist(standard_id=row.standard_id, title=row.title, illustrative=row.illustrative, source=row.source,
                     items=[ChecklistItem.model_validate(i) for i in row.items], imported=True)


def import_checklist(session: Session, campaign: Campaign, path: str | Path, actor: str) -> Checklist:
    """Replace the campaign's checklist with the file's (validated whole; nothing changes on error).
    Tags of items the new file no longer has stay stored but count for nothing. One
    ``materials.checklist_imported`` event."""
    path = Path(path)
    try:
        text = read_text(path)
    except YamlError as exc:
        raise ChecklistError(f"资料清单文件「{path.name}」：{exc.message}") from None
    except FileNotFoundError:
        raise ChecklistError(f"找不到资料清单文件「{path}」", kind=ErrorKind.not_found) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ChecklistError(f"资料清单文件「{path.name}」无法读取（应为 UTF-8 文本）：{exc}") from None
    checklist = parse_checklist(text, load_standard(campaign.standard_id), path.name)
    row = session.exec(select(MaterialChecklist).where(MaterialChecklist.campaign_id == campaign.id)).first()
    row = row or MaterialChecklist(campaign_id=campaign.id, standard_id=campaign.standard_id)
    row.standard_id, row.title, row.illustrative = checklist.standard_id, checklist.title, checklist.illustrative
    row.source, row.imported_by = path.name, actor
    row.items = [i.model_dump() for i in checklist.items]
    row.imported_at = utcnow()
    session.add(row)
    session.flush()
    record_event(session, type="materials.checklist_imported", actor=actor, campaign_id=campaign.id,
                 payload={"source": path.name, "items": len(checklist.items),
                          "required": sum(1 for i in checklist.items if i.required)})
    return campaign_checklist(session, campaign)


def check_item(session: Session, campaign: Campaign, task: Task | None, item_id: str,
               checklist: Checklist | None = None) -> ChecklistItem:
    """The checklist item ``item_id`` if a file of ``task`` may meet it: on the campaign's checklist
    and, when the task has an indicator, one of that indicator's items. Else ``MaterialTagError``."""
    checklist = checklist or campaign_checklist(session, campaign)
    item = checklist.item(item_id.strip())
    if item is None:
        raise MaterialTagError(f"资料清单中没有编号为「{item_id.strip()}」的资料项")
    if task is not None and task.indicator and task.indicator != item.indicator:
        raise MaterialTagError(f"资料项 {item.id}「{item.title}」属于指标 {item.indicator}，"
                               f"而任务 #{task.id} 对应指标 {task.indicator}")
    return item


def tag_evidence(session: Session, evidence: Evidence, item_id: str | None, actor: str,
                 checklist: Checklist | None = None) -> EvidenceMaterial | None:
    """Tag an evidence file with the checklist item it meets (``None`` or "": untag). The item must
    be on the campaign's checklist and, when the file's task has an indicator, belong to it."""
    campaign = session.get(Campaign, evidence.campaign_id)
    existing = session.get(EvidenceMaterial, evidence.id)
    item_id = (item_id or "").strip()
    if not item_id:
        if existing is not None:
            session.delete(existing)
            session.flush()
            record_event(session, type="materials.evidence_untagged", actor=actor, campaign_id=campaign.id,
                         task_id=evidence.task_id, payload={"evidence_id": evidence.id, "item": existing.item_id})
        return None
    item = check_item(session, campaign, session.get(Task, evidence.task_id), item_id, checklist)
    if existing is not None and existing.item_id == item.id:
        return existing
    row = existing or EvidenceMaterial(evidence_id=evidence.id, campaign_id=evidence.campaign_id, item_id=item.id)
    row.item_id, row.tagged_by = item.id, actor
    row.tagged_at = utcnow()
    session.add(row)
    session.flush()
    record_event(session, type="materials.evidence_tagged", actor=actor, campaign_id=campaign.id,
                 task_id=evidence.task_id, payload={"evidence_id": evidence.id, "item": item.id})
    return row


def item_choices(checklist: Checklist, indicator: str | None) -> list[ChecklistItem]:
    """The items an upload form offers for a task of ``indicator`` (every item when it has none)."""
    return checklist.of_indicator(indicator) if indicator else list(checklist.items)
