"""Reading what a phase's flow needs: its recorded steps, the units with tasks in it, the figures of
its 阶段小结, and which active phases a gate check should look at. One statement each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import and_, case, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.events.models import Event
from tracker.org.models import Campaign, Department, Person, Phase, PhaseStatus, School
from tracker.phases.models import PhaseStep
from tracker.reviews.models import Review
from tracker.tasks.lifecycle import OPEN
from tracker.tasks.models import Task, TaskOrigin, TaskStatus

OPEN_VALUES = [s.value for s in OPEN]


def step_row(session: Session, phase_id: int, step: str) -> PhaseStep | None:
    return session.exec(select(PhaseStep).where(PhaseStep.phase_id == phase_id, PhaseStep.step == step)).first()


def phase_steps(session: Session, phase_id: int) -> list[PhaseStep]:
    """The steps done for a phase, in the order they were done."""
    return list(session.exec(select(PhaseStep).where(PhaseStep.phase_id == phase_id)
                             .order_by(PhaseStep.done_at, PhaseStep.id)))


def phase_of_campaign(session: Session, campaign_id: int, key: str) -> Phase | None:
    """A campaign's phase by id (digits), code or name."""
    conditions = [Phase.code == key, Phase.name == key]
    if key.isdigit():
        conditions.append(Phase.id == int(key))
    return session.exec(select(Phase).where(Phase.campaign_id == campaign_id, or_(*conditions))
                        .order_by(Phase.ordinal)).first()


def following_phase(session: Session, phase: Phase) -> Phase | None:
    return session.exec(select(Phase).where(Phase.campaign_id == phase.campaign_id, Phase.ordinal > phase.ordinal)
                        .order_by(Phase.ordinal, Phase.id)).first()


def open_tasks_by_unit(session: Session, phase_id: int) -> list[Task]:
    """The phase's open tasks, by unit then due date (the 阶段部署通知 lists them per unit)."""
    return list(session.exec(select(Task).where(Task.phase_id == phase_id, Task.status.in_(OPEN_VALUES))
                             .order_by(Task.department_id, Task.responsible_school_id, Task.due_on, Task.id)))


def contacts_of(session: Session, campaign_id: int, department_ids: Collection[int]) -> list[Person]:
    """The active contacts of these units (is_contact), who receive the units' notices."""
    if not department_ids:
        return []
    return list(session.exec(select(Person).where(
        Person.campaign_id == campaign_id, Person.active, Person.is_contact,
        Person.department_id.in_(list(department_ids))).order_by(Person.id)))


def schools_of(session: Session, school_ids: Collection[int]) -> list[School]:
    if not school_ids:
        return []
    return list(session.exec(select(School).where(School.id.in_(list(school_ids))).order_by(School.id)))


def departments_of(session: Session, department_ids: Collection[int]) -> list[Department]:
    if not department_ids:
        return []
    return list(session.exec(select(Department).where(Department.id.in_(list(department_ids)))
                             .order_by(Department.id)))


def refresh_ladder(session: Session, phase_id: int, now: dt.datetime) -> int:
    """Ask the reminder sweep to work out the ladder of the phase's open tasks again (one UPDATE);
    returns how many tasks it touched."""
    return session.execute(
        update(Task).where(Task.phase_id == phase_id, Task.status.in_(OPEN_VALUES))
        .values(next_reminder_at=now).execution_options(synchronize_session=False)).rowcount


def open_shortfall_tasks(session: Session, campaign_id: int) -> list[Task]:
    """The campaign's open shortfall tasks (整改 re-dates those without a date of their own)."""
    return list(session.exec(select(Task).where(
        Task.campaign_id == campaign_id, Task.origin == TaskOrigin.shortfall.value,
        Task.status.in_(OPEN_VALUES)).order_by(Task.id)))


def reviews_of_phase(session: Session, phase_id: int, level: str) -> list[Review]:
    return list(session.exec(select(Review).where(Review.phase_id == phase_id, Review.level == level)
                             .order_by(Review.id)))


def task_figures(session: Session, phase_id: int, today: dt.date) -> dict[str, int]:
    """The 阶段小结's counts of the phase's tasks: due (all), done (已销号), late (销号 after the due
    date, or still open past it), withdrawn, open; returned and extended from the event log."""
    verified, withdrawn = TaskStatus.verified.value, TaskStatus.withdrawn.value
    late_clause = or_(
        and_(Task.status == verified, Task.verified_at.is_not(None),
             func.date(Task.verified_at) > Task.due_on),
        and_(Task.status.in_(OPEN_VALUES), Task.due_on < today))
    row = session.exec(select(
        func.count(),
        func.coalesce(func.sum(case((Task.status == verified, 1), else_=0)), 0),
        func.coalesce(func.sum(case((late_clause, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Task.status == withdrawn, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Task.status.in_(OPEN_VALUES), 1), else_=0)), 0),
    ).select_from(Task).where(Task.phase_id == phase_id)).one()
    moved = dict(session.exec(
        select(Event.type, func.count(func.distinct(Event.task_id)))
        .join(Task, Task.id == Event.task_id)
        .where(Task.phase_id == phase_id, Event.type.in_(("task.returned", "task.extension_approved")))
        .group_by(Event.type)).all())
    return {"due": int(row[0]), "done": int(row[1]), "late": int(row[2]), "withdrawn": int(row[3]),
            "open": int(row[4]), "returned": int(moved.get("task.returned", 0)),
            "extended": int(moved.get("task.extension_approved", 0))}


def activation_time(session: Session, phase_id: int) -> dt.datetime | None:
    """When the phase last became active (its phase.activated event), if it did by an event."""
    rows = session.exec(select(Event.at, Event.payload).where(Event.type == "phase.activated")
                        .order_by(Event.at.desc(), Event.id.desc())).all()
    for at, payload in rows:
        if (payload or {}).get("phase_id") == phase_id:
            return at
    return None


def active_phases(session: Session, campaign_id: int | None = None) -> list[Phase]:
    conditions = [Phase.status == PhaseStatus.active.value]
    if campaign_id is not None:
        conditions.append(Phase.campaign_id == campaign_id)
    return list(session.exec(select(Phase).where(*conditions).order_by(Phase.campaign_id, Phase.ordinal)))


def gate_candidates(session: Session) -> list[int]:
    """The ids of every active phase none of whose tasks is open, in one statement: the only ones
    whose gate a check could pass (it still asks for tasks at all and, for reviews, the verdict)."""
    open_task = exists().where(Task.phase_id == Phase.id, Task.status.in_(OPEN_VALUES))
    return list(session.exec(select(Phase.id).where(Phase.status == PhaseStatus.active.value, ~open_task)
                             .order_by(Phase.campaign_id, Phase.ordinal)))


def campaigns_not_started(session: Session, today: dt.date) -> list[Phase]:
    """The first phase of every campaign none of whose phases is active or passed, where that phase
    has started by ``today``: the safety net activates it (the plan said it begins)."""
    other = aliased(Phase)
    started = exists().where(other.campaign_id == Campaign.id,
                             other.status.in_((PhaseStatus.active.value, PhaseStatus.passed.value)))
    first = (select(Phase.campaign_id, func.min(Phase.ordinal).label("ordinal"))
             .group_by(Phase.campaign_id).subquery())
    return list(session.exec(
        select(Phase).join(first, and_(first.c.campaign_id == Phase.campaign_id, first.c.ordinal == Phase.ordinal))
        .join(Campaign, Campaign.id == Phase.campaign_id)
        .where(~started, Phase.status == PhaseStatus.pending.value, Phase.starts_on.is_not(None),
               Phase.starts_on <= today).order_by(Phase.campaign_id)))


def snapshot_at(session: Session, campaign_id: int, before: dt.datetime | None = None) -> AssessmentSnapshot | None:
    """The campaign's latest assessment (made before ``before`` when given)."""
    conditions = [AssessmentSnapshot.campaign_id == campaign_id]
    if before is not None:
        conditions.append(AssessmentSnapshot.created_at <= before)
    return session.exec(select(AssessmentSnapshot).where(*conditions)
                        .order_by(AssessmentSnapshot.created_at.desc(), AssessmentSnapshot.id.desc())).first()


def shortfall_counts(session: Session, snapshot_ids: Collection[int]) -> dict[int, int]:
    if not snapshot_ids:
        return {}
    return dict(session.exec(select(ShortfallRecord.assessment_id, func.count())
                             .where(ShortfallRecord.assessment_id.in_(list(snapshot_ids)))
                             .group_by(ShortfallRecord.assessment_id)).all())


def steps_by_phase(session: Session, campaign_id: int) -> dict[int, list[PhaseStep]]:
    """Every recorded step of the campaign's phases, by phase, in the order done (no documents)."""
    from sqlalchemy.orm import defer

    out: dict[int, list[PhaseStep]] = {}
    for row in session.exec(select(PhaseStep).where(PhaseStep.campaign_id == campaign_id)
                            .options(defer(PhaseStep.document)).order_by(PhaseStep.done_at, PhaseStep.id)):
        out.setdefault(row.phase_id, []).append(row)
    return out
