"""Which checklist items have files, which required ones are missing, who answers for them, and
which reviews are near. Read-only; one grouped query per question, never one per item."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.calendar import WorkingDayCalendar, active_calendar
from tracker.materials.checklist import Checklist, ChecklistItem
from tracker.materials.models import EvidenceMaterial
from tracker.materials.service import campaign_checklist
from tracker.org.models import Campaign
from tracker.plans import CampaignPlan
from tracker.reviews.models import Review
from tracker.standards import load_standard
from tracker.standards.schema import Standard
from tracker.tasks.models import Evidence


@dataclass(frozen=True)
class ItemStatus:
    item: ChecklistItem
    files: int  # evidence files tagged with it

    @property
    def missing(self) -> bool:
        return self.item.required and self.files == 0


@dataclass(frozen=True)
class IndicatorMaterials:
    """One indicator's checklist items and how many files each has."""

    code: str
    title: str
    items: list[ItemStatus]
    units: list[str] = field(default_factory=list)  # the plan's units for the indicator

    @property
    def required(self) -> int:
        return sum(1 for s in self.items if s.item.required)

    @property
    def required_met(self) -> int:
        return sum(1 for s in self.items if s.item.required and s.files > 0)

    @property
    def missing(self) -> list[ItemStatus]:
        return [s for s in self.items if s.missing]


@dataclass(frozen=True)
class MissingItem:
    """A required checklist item without a file, and the units that answer for it."""

    indicator: str
    indicator_title: str
    item_id: str
    title: str
    units: list[str]


def evidence_tags(session: Session, evidence_ids: list[int]) -> dict[int, str]:
    """evidence id → the item it is tagged with."""
    if not evidence_ids:
        return {}
    rows = session.exec(select(EvidenceMaterial.evidence_id, EvidenceMaterial.item_id)
                        .where(EvidenceMaterial.evidence_id.in_(evidence_ids)))
    return dict(rows.all())


def files_per_item(session: Session, campaign_id: int, cutoff: dt.datetime | None = None) -> dict[str, int]:
    """item id → evidence files tagged with it (uploaded and tagged by ``cutoff`` when given)."""
    stmt = (select(EvidenceMaterial.item_id, func.count())
            .join(Evidence, Evidence.id == EvidenceMaterial.evidence_id)
            .where(EvidenceMaterial.campaign_id == campaign_id))
    if cutoff is not None:
        stmt = stmt.where(Evidence.uploaded_at <= cutoff, EvidenceMaterial.tagged_at <= cutoff)
    return {item: int(n) for item, n in session.exec(stmt.group_by(EvidenceMaterial.item_id)).all()}


def _title(standard: Standard, code: str) -> str:
    try:
        return standard.indicator(code).title
    except KeyError:
        pass
    return next((c.title for c in (*standard.application_conditions, *standard.vetoes) if c.code == code), "")


def campaign_plan(campaign: Campaign) -> CampaignPlan | None:
    return CampaignPlan.from_stored(campaign.plan) if campaign.plan else None


def responsible_units(campaign: Campaign, standard: Standard, code: str, plan: CampaignPlan | None = None) -> list[str]:
    """The units the plan names for an indicator (牵头 first, then 配合); without a plan row, the
    standard's departments. ``plan``: the campaign's, parsed once by a caller asking for many."""
    plan = plan if plan is not None else campaign_plan(campaign)
    entry = plan.assignments.get(code) if plan is not None else None
    if entry is not None:
        return list(dict.fromkeys([entry.lead, *entry.cooperating]))
    try:
        return list(standard.indicator(code).departments)
    except KeyError:
        pass
    found = next((c for c in (*standard.application_conditions, *standard.vetoes) if c.code == code), None)
    return list(found.departments) if found is not None else []


def material_status(session: Session, campaign: Campaign, indicator: str | None = None,
                    cutoff: dt.datetime | None = None, checklist: Checklist | None = None) -> list[IndicatorMaterials]:
    """Per indicator of the checklist (in the standard's order): its items and their file counts."""
    checklist = checklist or campaign_checklist(session, campaign)
    standard = load_standard(campaign.standard_id)
    counts = files_per_item(session, campaign.id, cutoff)
    plan = campaign_plan(campaign)
    grouped: dict[str, list[ItemStatus]] = {}
    for item in checklist.items:
        if indicator is None or item.indicator == indicator:
            grouped.setdefault(item.indicator, []).append(ItemStatus(item, counts.get(item.id, 0)))
    return [IndicatorMaterials(code, _title(standard, code), items, responsible_units(campaign, standard, code, plan))
            for code, items in grouped.items()]


def missing_required_items(session: Session, campaign_id: int, indicator: str | None = None,
                           cutoff: dt.datetime | None = None) -> list[MissingItem]:
    """The required checklist items with no tagged file (as of ``cutoff`` when given), in the
    standard's order, each with the units the plan names for its indicator. For the 资料汇编, the
    reminders, the briefing, and phase flows that open 迎检 tasks for them."""
    campaign = session.get(Campaign, campaign_id)
    return [MissingItem(block.code, block.title, s.item.id, s.item.title, list(block.units))
            for block in material_status(session, campaign, indicator, cutoff) for s in block.missing]


@dataclass(frozen=True)
class UpcomingReview:
    review_id: int
    level: str
    held_on: dt.date
    days_left: int  # working days from today (0: today)


def upcoming_reviews(session: Session, campaign_id: int, today: dt.date, window: int,
                     calendar: WorkingDayCalendar | None = None) -> list[UpcomingReview]:
    """Reviews without a verdict held from ``today`` to ``window`` working days on, soonest first."""
    cal = calendar or active_calendar()
    rows = session.exec(select(Review).where(Review.campaign_id == campaign_id, Review.verdict.is_(None),
                                             Review.held_on.is_not(None), Review.held_on >= today)
                        .order_by(Review.held_on, Review.id)).all()
    out = []
    for review in rows:
        days = cal.working_days_between(today, review.held_on)
        if days <= window:
            out.append(UpcomingReview(review.id, review.level, review.held_on, days))
    return out
