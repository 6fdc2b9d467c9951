"""The reads the report documents need, as named queries (the outer folders build no SQL)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.assessment.models import AssessmentSnapshot
from tracker.assessment.queries import NEWEST_FIRST
from tracker.org.models import Department, Person, School
from tracker.reports.models import ReportText
from tracker.tasks.models import Evidence, Task, TaskStatus

OPEN_STATUSES = (TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress, TaskStatus.submitted)


def latest_snapshot(session: Session, campaign_id: int) -> AssessmentSnapshot | None:
    return session.exec(select(AssessmentSnapshot).where(AssessmentSnapshot.campaign_id == campaign_id)
                        .order_by(*NEWEST_FIRST)).first()


def task_status_counts(session: Session, campaign_id: int) -> Counter[str]:
    """How many tasks of the campaign are in each status (the status's Chinese value)."""
    rows = session.exec(select(Task.status, func.count()).where(Task.campaign_id == campaign_id)
                        .group_by(Task.status)).all()
    return Counter({TaskStatus(status).value: int(n) for status, n in rows})


def verified_dates(session: Session, campaign_id: int) -> tuple[dt.datetime | None, dt.datetime | None]:
    """When the first and the latest task was 销号 (UTC), or None when none was."""
    first, last = session.exec(select(func.min(Task.verified_at), func.max(Task.verified_at))
                               .where(Task.campaign_id == campaign_id, Task.status == TaskStatus.verified)).one()
    return first, last


@dataclass(frozen=True, slots=True)
class OpenTask:
    id: int
    title: str
    indicator: str | None
    unit: str  # the responsible department or school
    due_on: dt.date
    status: str


def open_tasks(session: Session, campaign_id: int) -> list[OpenTask]:
    """Every task still open (待签收, 已签收, 办理中, 已提交), by due date, with its unit's name."""
    departments = dict(session.exec(select(Department.id, Department.name)
                                    .where(Department.campaign_id == campaign_id)).all())
    schools = dict(session.exec(select(School.id, School.name).where(School.campaign_id == campaign_id)).all())
    rows = session.exec(select(Task).where(Task.campaign_id == campaign_id, Task.status.in_(OPEN_STATUSES))
                        .order_by(Task.due_on, Task.id))
    return [OpenTask(t.id, t.title, t.indicator,
                     departments.get(t.department_id) or schools.get(t.responsible_school_id) or "",
                     t.due_on, TaskStatus(t.status).value) for t in rows]


def evidence_counts_by_indicator(session: Session, campaign_id: int) -> dict[str, int]:
    """How many 佐证材料 files the tasks of each indicator hold."""
    rows = session.exec(select(Task.indicator, func.count(Evidence.id)).join(Evidence, Evidence.task_id == Task.id)
                        .where(Task.campaign_id == campaign_id, Task.indicator.is_not(None))
                        .group_by(Task.indicator)).all()
    return {str(code): int(n) for code, n in rows}


def evidence_total(session: Session, campaign_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Evidence)
                            .where(Evidence.campaign_id == campaign_id)).one())


def leading_group(session: Session, campaign_id: int) -> list[Person]:
    """The leading group's members (组长 first), active only."""
    order = {"组长": 0, "副组长": 1, "成员": 2}
    people = session.exec(select(Person).where(Person.campaign_id == campaign_id, Person.active,
                                               Person.group_role.is_not(None)))
    return sorted(people, key=lambda p: (order.get(p.group_role or "", 3), p.id))


def report_texts(session: Session, campaign_id: int) -> dict[str, ReportText]:
    return {t.section: t for t in session.exec(select(ReportText).where(ReportText.campaign_id == campaign_id))}


def report_text(session: Session, campaign_id: int, section: str) -> ReportText | None:
    return session.exec(select(ReportText).where(ReportText.campaign_id == campaign_id,
                                                 ReportText.section == section)).first()
