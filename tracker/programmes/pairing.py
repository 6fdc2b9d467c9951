"""1+X 搭对帮扶: a 导师型学校 and the potential schools it helps, the pairing's own tasks (the
campaign's tasks: reminders, evidence and the event log apply as to any task) and its progress
reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session

from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.org import queries as org_queries
from tracker.org.models import Campaign, School
from tracker.plans.programme_sections import ROLE_MENTOR, ROLE_POTENTIAL
from tracker.programmes import queries
from tracker.programmes.models import Pairing, PairingMember, PairingReport, PairingTask
from tracker.programmes.service import ProgrammeConflict, ProgrammeError, ProgrammeNotFound, roles
from tracker.tasks.models import Task, TaskOrigin
from tracker.tasks.service import create_task

PAIRING_PHASE = "pairing"  # the plan's phase a pairing task belongs to when it has one


def pair(session: Session, campaign: Campaign, mentor: School, potentials: Sequence[School], *,
         actor: str) -> Pairing:
    """Form (or extend) the 1+X group of ``mentor`` with potential schools not in another group."""
    if not potentials:
        raise ProgrammeError("至少要有一所潜力校")
    role_of = roles(session, campaign)
    if role_of.get(mentor.id) != ROLE_MENTOR:
        raise ProgrammeConflict(f"「{mentor.name}」不是导师型学校，不能结对帮扶")
    taken = queries.pairing_members(session, campaign.id)
    pairing = queries.pairing_of_mentor(session, campaign.id, mentor.id)
    for school in potentials:
        if role_of.get(school.id) != ROLE_POTENTIAL:
            raise ProgrammeConflict(f"「{school.name}」是{role_of.get(school.id)}，只有潜力校参加结对帮扶")
        if school.id in taken:
            raise ProgrammeConflict(f"「{school.name}」已在一个帮扶组中")
    if pairing is None:
        pairing = Pairing(campaign_id=campaign.id, mentor_school_id=mentor.id)
        session.add(pairing)
        session.flush()
    session.add_all(PairingMember(school_id=s.id, pairing_id=pairing.id) for s in potentials)
    session.flush()
    record_event(session, type=EventType.programme_paired.value, actor=actor, campaign_id=campaign.id,
                 payload={"mentor": mentor.name, "schools": [s.name for s in potentials]})
    return pairing


def pairing_of(session: Session, campaign: Campaign, school: School) -> Pairing:
    """The pairing a school is in, as mentor or as potential school."""
    pairing = queries.pairing_of_mentor(session, campaign.id, school.id)
    if pairing is None:
        pairing_id = queries.pairing_members(session, campaign.id).get(school.id)
        pairing = session.get(Pairing, pairing_id) if pairing_id else None
    if pairing is None:
        raise ProgrammeNotFound(f"「{school.name}」不在任何帮扶组中")
    return pairing


def add_task(session: Session, campaign: Campaign, pairing: Pairing, school: School, title: str, due_on: dt.date, *,
             actor: str, today: dt.date) -> Task:
    """A task of the pairing: the mentor helps ``school`` (a member) with ``title`` by ``due_on``."""
    if school.id not in {sid for sid, pid in queries.pairing_members(session, campaign.id).items() if pid == pairing.id}:
        raise ProgrammeConflict(f"「{school.name}」不在这个帮扶组中")
    phases = org_queries.phases(session, campaign.id)
    phase = next((p for p in phases if p.code == PAIRING_PHASE), phases[0] if phases else None)
    if phase is None:
        raise ProgrammeError("示范校项目没有阶段，不能建立任务")
    mentor = session.get(School, pairing.mentor_school_id)
    number = len(queries.pairing_task_ids(session, [pairing.id]).get(pairing.id, [])) + 1
    task = create_task(session, campaign=campaign, phase=phase, title=title.strip(), measures="1+X 搭对帮扶",
                       origin=TaskOrigin.office, origin_key=f"pairing-{pairing.id}-{number}", due_on=due_on,
                       responsible_school=mentor, school=school, actor=actor, today=today)
    session.add(PairingTask(task_id=task.id, pairing_id=pairing.id))
    session.flush()
    return task


def report(session: Session, campaign: Campaign, school: School, text: str, *, actor: str) -> PairingReport:
    """A progress report of the pairing, by its mentor or one of its potential schools."""
    text = (text or "").strip()
    if not text:
        raise ProgrammeError("帮扶进展不能为空")
    if len(text) > 2000:
        raise ProgrammeError(f"帮扶进展过长（{len(text)} 字），不能超过 2000 字")
    pairing = pairing_of(session, campaign, school)
    row = PairingReport(pairing_id=pairing.id, school_id=school.id, text=text, reported_by=actor)
    session.add(row)
    session.flush()
    record_event(session, type=EventType.programme_pairing_reported.value, actor=actor, campaign_id=campaign.id,
                 payload={"school": school.name, "pairing": pairing.id})
    return row
