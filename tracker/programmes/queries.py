"""The programme room's reads: one named function per question, each one statement."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from tracker.org.models import Campaign, Person, School
from tracker.programmes.models import (
    PROGRAMME_KIND,
    Award,
    Objection,
    Pairing,
    PairingMember,
    PairingReport,
    PairingTask,
    PanelScore,
    ProgrammeEntry,
    Publicity,
)


def programme_campaigns(session: Session) -> list[Campaign]:
    return list(session.exec(select(Campaign).where(Campaign.kind == PROGRAMME_KIND).order_by(Campaign.code)))


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    return session.exec(select(Campaign).where(Campaign.code == code)).first()


def entries(session: Session, campaign_id: int) -> list[ProgrammeEntry]:
    return list(session.exec(select(ProgrammeEntry).where(ProgrammeEntry.campaign_id == campaign_id)
                             .order_by(ProgrammeEntry.id)))


def entry_of(session: Session, campaign_id: int, school_id: int) -> ProgrammeEntry | None:
    return session.exec(select(ProgrammeEntry).where(ProgrammeEntry.campaign_id == campaign_id,
                                                     ProgrammeEntry.school_id == school_id)).first()


def school_by_name(session: Session, campaign_id: int, name: str) -> School | None:
    return session.exec(select(School).where(School.campaign_id == campaign_id, School.name == name)).first()


def schools(session: Session, campaign_id: int) -> list[School]:
    return list(session.exec(select(School).where(School.campaign_id == campaign_id).order_by(School.id)))


def person_by_name(session: Session, campaign_id: int, name: str) -> Person | None:
    return session.exec(select(Person).where(Person.campaign_id == campaign_id, Person.name == name)).first()


def publicities(session: Session, campaign_id: int) -> list[Publicity]:
    return list(session.exec(select(Publicity).where(Publicity.campaign_id == campaign_id).order_by(Publicity.id)))


def objections(session: Session, campaign_id: int) -> list[Objection]:
    return list(session.exec(select(Objection).join(Publicity, Publicity.id == Objection.publicity_id)
                             .where(Publicity.campaign_id == campaign_id).order_by(Objection.id)))


def scores(session: Session, campaign_id: int, round_code: str | None = None, *,
           person_id: int | None = None, school_id: int | None = None) -> list[PanelScore]:
    query = select(PanelScore).where(PanelScore.campaign_id == campaign_id)
    if round_code is not None:
        query = query.where(PanelScore.round == round_code)
    if person_id is not None:
        query = query.where(PanelScore.person_id == person_id)
    if school_id is not None:
        query = query.where(PanelScore.school_id == school_id)
    return list(session.exec(query.order_by(PanelScore.id)))


def score_rows(session: Session, campaign_id: int, round_code: str, person_id: int, school_id: int) -> dict[str, PanelScore]:
    rows = session.exec(select(PanelScore).where(
        PanelScore.campaign_id == campaign_id, PanelScore.round == round_code,
        PanelScore.person_id == person_id, PanelScore.school_id == school_id))
    return {row.criterion: row for row in rows}


def pairings(session: Session, campaign_id: int) -> list[Pairing]:
    return list(session.exec(select(Pairing).where(Pairing.campaign_id == campaign_id).order_by(Pairing.id)))


def pairing_of_mentor(session: Session, campaign_id: int, school_id: int) -> Pairing | None:
    return session.exec(select(Pairing).where(Pairing.campaign_id == campaign_id,
                                              Pairing.mentor_school_id == school_id)).first()


def pairing_members(session: Session, campaign_id: int) -> dict[int, int]:
    """school id → its pairing's id, for the campaign's potential schools in a pairing."""
    rows = session.exec(select(PairingMember.school_id, PairingMember.pairing_id)
                        .join(Pairing, Pairing.id == PairingMember.pairing_id).where(Pairing.campaign_id == campaign_id))
    return {school_id: pairing_id for school_id, pairing_id in rows}


def pairing_task_ids(session: Session, pairing_ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    ids = list(pairing_ids)
    if not ids:
        return out
    for task_id, pairing_id in session.exec(select(PairingTask.task_id, PairingTask.pairing_id)
                                            .where(PairingTask.pairing_id.in_(ids)).order_by(PairingTask.task_id)):
        out.setdefault(pairing_id, []).append(task_id)
    return out


def pairing_reports(session: Session, pairing_ids: Iterable[int]) -> list[PairingReport]:
    ids = list(pairing_ids)
    if not ids:
        return []
    return list(session.exec(select(PairingReport).where(PairingReport.pairing_id.in_(ids)).order_by(PairingReport.id)))


def awards(session: Session, campaign_id: int) -> list[Award]:
    return list(session.exec(select(Award).where(Award.campaign_id == campaign_id).order_by(Award.school_id)))


def award_of(session: Session, campaign_id: int, school_id: int) -> Award | None:
    return session.get(Award, (campaign_id, school_id))
