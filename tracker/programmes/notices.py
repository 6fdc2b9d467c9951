"""What a programme tells people through the campaign's notice machinery (``NoticeItem``, rung
``programme``: composed, sent and logged like any notice): a school's result withdrawn by an
objection upheld during the results' 公示, told to the school (its people and its contact
address) and to the office."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from tracker.notices.models import NoticeItem, Rung
from tracker.org import queries as org_queries
from tracker.org.models import Campaign, Person, School


def _recipients(session: Session, campaign: Campaign, school: School) -> list[tuple[str, str, int | None]]:
    """(name, address, person id) of the school's active people and contact address, then the
    office's people; each address once."""
    people = list(session.exec(select(Person).where(Person.campaign_id == campaign.id, Person.school_id == school.id,
                                                    Person.active.is_(True)).order_by(Person.id)))
    found: dict[str, tuple[str, str, int | None]] = {}
    for person in people:
        if (person.email or "").strip():
            found.setdefault(person.email.strip().lower(), (person.name, person.email.strip(), person.id))
    if (school.contact_email or "").strip():
        found.setdefault(school.contact_email.strip().lower(),
                         (school.contact_name or school.name, school.contact_email.strip(), None))
    for person in org_queries.office_people(session, campaign.id):
        if (person.email or "").strip():
            found.setdefault(person.email.strip().lower(), (person.name, person.email.strip(), person.id))
    return list(found.values())


def tell_result_withdrawn(session: Session, campaign: Campaign, school: School, objection_id: int, resolution: str,
                          now: dt.datetime) -> int:
    """Queue the notice that ``school``'s result was withdrawn (once per objection and recipient:
    the idempotency key); returns how many items were queued."""
    payload = {"title": f"{school.name}本轮验收结果撤销（结果公示期间异议成立）", "school": school.name,
               "text": f"{campaign.name}验收成绩公示期间，对{school.name}的异议经核实成立（处理意见：{resolution}）。"
                       f"该校本轮验收结果撤销，不参加本轮表彰评选。"}
    items = []
    for name, address, person_id in _recipients(session, campaign, school):
        key = f"programme:withdrawn:{objection_id}:{f'p{person_id}' if person_id is not None else address.lower()}"
        if session.exec(select(NoticeItem.id).where(NoticeItem.idempotency_key == key)).first() is not None:
            continue
        items.append(NoticeItem(campaign_id=campaign.id, task_id=None, rung=Rung.programme.value, occurrence=objection_id,
                                idempotency_key=key, recipient_person_id=person_id, recipient_name=name,
                                recipient_address=address, payload=payload, not_before=now, created_at=now))
    session.add_all(items)
    session.flush()
    return len(items)
