"""The briefing's 迎检资料 paragraph (issue 13 §4): the nearest review held within
``materials_review_window_days`` working days of the period's last day, and the required
checklist items still without a file at the cutoff, with their units."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from tracker.briefings.content import MaterialGapRow, MaterialsOutlook
from tracker.calendar import WorkingDayCalendar
from tracker.materials.queries import missing_required_items, upcoming_reviews
from tracker.settings import get_settings


def materials_outlook(session: Session, campaign_id: int, today: dt.date, cutoff: dt.datetime,
                      calendar: WorkingDayCalendar) -> MaterialsOutlook | None:
    reviews = upcoming_reviews(session, campaign_id, today, get_settings().materials_review_window_days, calendar)
    if not reviews:
        return None
    missing = missing_required_items(session, campaign_id, cutoff=cutoff)
    if not missing:
        return None
    review = reviews[0]
    return MaterialsOutlook(review=review.level, held_on=review.held_on, working_days_left=review.days_left,
                            missing=[MaterialGapRow(indicator=m.indicator, item_id=m.item_id, title=m.title,
                                                    units=m.units) for m in missing])
