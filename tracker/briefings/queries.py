"""Which campaigns the scheduler still owes this week's ``briefing.due`` (junheng/scheduler.py)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from tracker.events.models import Event
from tracker.org.models import Campaign, Department, Person


def campaigns_owing_briefing_due(session: Session, week_start: dt.datetime) -> list[Campaign]:
    """The campaigns, by id, with no ``briefing.due`` recorded since ``week_start`` (Monday 00:00,
    local time) and created before it (a campaign created this week has no week before)."""
    recorded = select(Event.id).where(Event.campaign_id == Campaign.id, Event.type == "briefing.due",
                                      Event.at >= week_start).exists()
    return list(session.exec(select(Campaign).where(Campaign.created_at < week_start, ~recorded)
                             .order_by(Campaign.id)))


def briefing_people(session: Session, campaign_id: int) -> tuple[dict[int, Department], list[Person]]:
    """Who a briefing may go to: the campaign's departments by id, and its active people in id
    order (the mail picks the leading group, the office and active departments' contacts)."""
    departments = {d.id: d for d in session.exec(select(Department).where(Department.campaign_id == campaign_id))}
    people = list(session.exec(select(Person).where(Person.campaign_id == campaign_id, Person.active.is_(True))
                               .order_by(Person.id)))
    return departments, people
