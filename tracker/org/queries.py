"""Reading a campaign's organisation: its phases, units, people and schools, and their names, in
the orders the pages, API and CLI show them. One statement each; the callers build no queries."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from tracker.org.models import Campaign, Department, Person, Phase, School
from tracker.plans.kinds import UnitKind


def campaign_id_by_code(session: Session, code: str) -> int | None:
    """The id of the campaign with exactly this code, or None."""
    return session.exec(select(Campaign.id).where(Campaign.code == code)).first()


def campaign_codes(session: Session) -> dict[int, str]:
    """Every campaign's code by its id."""
    return dict(session.exec(select(Campaign.id, Campaign.code)).all())


def phases(session: Session, campaign_id: int) -> list[Phase]:
    """The campaign's phases in their order."""
    return list(session.exec(select(Phase).where(Phase.campaign_id == campaign_id)
                             .order_by(Phase.ordinal, Phase.id)))


def phase_by_code(session: Session, campaign_id: int, code: str) -> Phase | None:
    return session.exec(select(Phase).where(Phase.campaign_id == campaign_id, Phase.code == code)).first()


def departments(session: Session, campaign_id: int, *, active_only: bool = False) -> list[Department]:
    """The campaign's units (责任单位, the office and the townships) by id."""
    query = select(Department).where(Department.campaign_id == campaign_id)
    if active_only:
        query = query.where(Department.active)
    return list(session.exec(query.order_by(Department.id)))


def office_department(session: Session, campaign_id: int) -> Department | None:
    """The campaign's 领导小组办公室 as a unit, if its plan names one."""
    return session.exec(select(Department).where(Department.campaign_id == campaign_id,
                                                 Department.kind == UnitKind.office.value)
                        .order_by(Department.id)).first()


def people(session: Session, campaign_id: int, *, active_only: bool = False) -> list[Person]:
    """The campaign's people by id."""
    query = select(Person).where(Person.campaign_id == campaign_id)
    if active_only:
        query = query.where(Person.active)
    return list(session.exec(query.order_by(Person.id)))


def schools(session: Session, campaign_id: int) -> list[School]:
    """The campaign's schools by their key (学校标识码)."""
    return list(session.exec(select(School).where(School.campaign_id == campaign_id).order_by(School.key)))


def department_names(session: Session, campaign_id: int, *, short: bool = False) -> dict[int, str]:
    """Unit names by id; ``short``: the short name (简称) where the unit has one."""
    rows = session.exec(select(Department.id, Department.name, Department.short_name)
                        .where(Department.campaign_id == campaign_id))
    return {i: (short_name or name) if short else name for i, name, short_name in rows}


def school_names(session: Session, campaign_id: int) -> dict[int, str]:
    """School names by id."""
    return dict(session.exec(select(School.id, School.name).where(School.campaign_id == campaign_id)).all())


def active_counts(session: Session) -> dict[int, tuple[int, int]]:
    """Per campaign id: how many active units and active people it has (campaigns with neither
    are left out)."""
    units = dict(session.exec(select(Department.campaign_id, func.count()).where(Department.active)
                              .group_by(Department.campaign_id)).all())
    persons = dict(session.exec(select(Person.campaign_id, func.count()).where(Person.active)
                                .group_by(Person.campaign_id)).all())
    return {c: (units.get(c, 0), persons.get(c, 0)) for c in units.keys() | persons.keys()}


# -- the campaign without its plan (a list request needs only the 提醒 section) ----------------

_SECTION_KEY = "junheng.reminders_section"  # session.info: campaign id → its plan's 提醒 section


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    """The campaign with this code, its plan left unread (loaded if touched); its 提醒 section is
    kept for ``reminders_section``."""
    found = session.exec(select(Campaign, CAMPAIGN_REMINDERS).options(CAMPAIGN_WITHOUT_PLAN)
                         .where(Campaign.code == code)).first()
    if found is None:
        return None
    campaign, reminders = found
    keep_reminders_section(session, campaign, reminders)
    return campaign


# for a statement that reads a campaign with other rows (tracker.accounts.service.verify_token_in):
# select CAMPAIGN_REMINDERS beside Campaign, with the option, then keep_reminders_section
CAMPAIGN_REMINDERS = Campaign.plan["reminders"]
CAMPAIGN_WITHOUT_PLAN = defer(Campaign.plan)


def keep_reminders_section(session: Session, campaign: Campaign, section: Any) -> None:
    """Remember the 提醒 section read with ``campaign`` for ``reminders_section``."""
    session.info.setdefault(_SECTION_KEY, {})[campaign.id] = section


def reminders_section(session: Session, campaign_id: int) -> Any:
    """The campaign plan's 提醒 section (None when it has none): read with the campaign in this
    session, else on its own (not the whole plan)."""
    known = session.info.setdefault(_SECTION_KEY, {})
    if campaign_id not in known:
        known[campaign_id] = session.exec(select(Campaign.plan["reminders"]).where(Campaign.id == campaign_id)).first()
    return known[campaign_id]


def section_text(section: Any) -> str:
    """A section as canonical JSON text (a cache key)."""
    return json.dumps(section, sort_keys=True, ensure_ascii=False)


def campaigns_by_id(session: Session, ids) -> dict[int, Campaign]:
    """These campaigns by id (one statement)."""
    ids = set(ids)
    return {c.id: c for c in session.exec(select(Campaign).where(Campaign.id.in_(ids)))} if ids else {}


def departments_by_id(session: Session, ids) -> dict[int, Department]:
    """These units by id (one statement; none asked, none read)."""
    ids = set(ids)
    return {d.id: d for d in session.exec(select(Department).where(Department.id.in_(ids)))} if ids else {}


def schools_by_id(session: Session, ids) -> dict[int, School]:
    """These schools by id (one statement; none asked, none read)."""
    ids = set(ids)
    return {s.id: s for s in session.exec(select(School).where(School.id.in_(ids)))} if ids else {}


def people_by_id(session: Session, ids) -> dict[int, Person]:
    """These people by id (one statement; none asked, none read)."""
    ids = set(ids)
    return {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}


def office_people(session: Session, campaign_id: int) -> list[Person]:
    """The campaign's active office people (领导小组办公室), by id."""
    return list(session.exec(select(Person).where(Person.campaign_id == campaign_id, Person.is_office.is_(True),
                                                  Person.active.is_(True)).order_by(Person.id)))
