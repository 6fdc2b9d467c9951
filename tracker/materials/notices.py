"""迎检资料缺项提醒: when a review (评估, 督查) is held within ``materials_review_window_days``
working days, each unit the plan names for an indicator with missing required materials is told
which — one notice item per unit contact (and the unit's group robot), at the points
``window, 5, 3, 1`` working days before (whichever the day falls into), never twice for one point.
The items go out with the unit's other reminders (notifications.compose)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tracker.calendar import WorkingDayCalendar, active_calendar
from tracker.calendar.working_days import local_date
from tracker.materials.queries import missing_required_items, upcoming_reviews
from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Campaign, Department
from tracker.plans.fields import TOWNSHIPS_PLACEHOLDER
from tracker.plans.kinds import UnitKind
from tracker.reminders.recipients import CampaignContext, as_recipient
from tracker.settings import get_settings

POINTS = (5, 3, 1, 0)  # working days before the review (with the window's first day)


def reminder_point(days_left: int, window: int) -> int:
    """The reminder point a day falls into: the smallest point at or above ``days_left``."""
    return min(p for p in (window, *POINTS) if p >= days_left) if days_left <= window else -1


def queue_materials_notices(session: Session, now: dt.datetime, *, campaign: Campaign | int | None = None,
                            calendar: WorkingDayCalendar | None = None, window: int | None = None) -> int:
    """Queue the 迎检资料缺项提醒 owed at ``now``; returns the items inserted. Does not commit."""
    cal = calendar or active_calendar()
    window = get_settings().materials_review_window_days if window is None else window
    today = local_date(now)
    campaign_id = campaign if isinstance(campaign, int) or campaign is None else campaign.id
    stmt = select(Campaign.id)
    if campaign_id is not None:
        stmt = stmt.where(Campaign.id == campaign_id)
    inserted = 0
    for cid in session.exec(stmt).all():
        reviews = upcoming_reviews(session, cid, today, window, cal)
        if not reviews:
            continue
        missing = missing_required_items(session, cid)
        if not missing:
            continue
        review = reviews[0]  # the nearest one speaks for all
        by_unit: dict[str, list] = defaultdict(list)
        for item in missing:
            for unit in item.units:
                by_unit[unit].append(item)
        departments = {d.name: d for d in session.exec(select(Department).where(
            Department.campaign_id == cid, Department.active)).all()}
        ctx = CampaignContext(session, cid, [])
        not_before = ctx.window_opening(now, cal)
        point = reminder_point(review.days_left, window)
        rows: dict[str, NoticeItem] = {}
        townships = [d for d in departments.values() if d.kind == UnitKind.township.value]
        for unit, items in list(by_unit.items()):
            if unit == TOWNSHIPS_PLACEHOLDER:  # the plan's 各乡镇: every township is told
                for township in townships:
                    by_unit[township.name] = by_unit.get(township.name, []) + [i for i in items
                                                                                 if i not in by_unit.get(township.name, [])]
        for unit, items in by_unit.items():
            dept = departments.get(unit)
            if dept is None:
                continue
            people = ctx.contacts(dept.id)
            recipients = [as_recipient(p) for p in people if (p.email or "").strip()]
            robot = ctx.robot(dept.id, people)
            if robot is not None:
                recipients.append(robot)
            payload = {"review": review.level, "held_on": review.held_on.isoformat(), "days_left": review.days_left,
                       "unit": dept.name, "items": [{"indicator": m.indicator, "id": m.item_id, "title": m.title}
                                                     for m in items]}
            for r in recipients:
                key = f"materials:{review.review_id}:{point}:d{dept.id}:{r.key}"
                rows[key] = NoticeItem(
                    campaign_id=cid, task_id=None, rung=Rung.materials.value, occurrence=point, idempotency_key=key,
                    recipient_person_id=r.person_id, recipient_name=r.name, recipient_address=r.address,
                    payload={**payload, **({"mention": list(r.mentions)} if r.mentions else {})},
                    not_before=not_before, created_at=now)
        if not rows:
            continue
        seen = set(session.exec(select(NoticeItem.idempotency_key)
                                .where(NoticeItem.idempotency_key.in_(list(rows)))).all())
        fresh = [row for key, row in rows.items() if key not in seen]
        try:
            with session.begin_nested():  # a sweep running beside us queued them first: theirs stand
                session.add_all(fresh)
                session.flush()
        except IntegrityError:
            continue
        inserted += len(fresh)
    return inserted
