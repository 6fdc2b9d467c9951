"""A small campaign built directly with the table models, for tests of tasks, gates and the CLI.

``build_world(session)`` stores one campaign with three phases, an office and two departments,
a township, a school with a contact, one person per role, and returns them by name. It does not
go through the plan loader, so these tests do not depend on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from tracker.assessment.models import AssessmentSnapshot
from tracker.org.models import Campaign, Department, Person, Phase, PhaseStatus, School
from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.schooldata.models import DataSubmission
from tracker.tasks.models import Task, TaskOrigin
from tracker.tasks.service import create_task

# the day the test worlds' fixed tasks are assigned (tests/api/conftest.py): before the first phase
WORLD_ASSIGNED_ON = dt.date(2026, 11, 30)


@dataclass
class World:
    campaign: Campaign
    phases: dict[str, Phase] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    schools: dict[str, School] = field(default_factory=dict)

    def task(self, session: Session, key: str, *, unit: str = "财政局", phase: str = "self_check",
             due_on: dt.date = dt.date(2026, 12, 18), title: str | None = None,
             assigned_on: dt.date | None = None) -> Task:
        """A task for a department (by name) or for a school (by name) as responsible unit.

        ``assigned_on`` is the day its due date is judged against (a due date before it is
        re-dated, issue 9): by default ``due_on`` itself, so ``due_on`` is kept whatever the wall
        clock says."""
        kwargs: dict = {}
        if unit in self.departments:
            kwargs["department"] = self.departments[unit]
        else:
            kwargs["responsible_school"] = self.schools[unit]
        return create_task(
            session, campaign=self.campaign, phase=self.phases[phase], title=title or f"任务 {key}",
            measures="按标准整改", origin=TaskOrigin.plan, origin_key=key, due_on=due_on, today=assigned_on or due_on,
            **kwargs)

    def assessment(self, session: Session) -> AssessmentSnapshot:
        """A stored (empty) assessment, for marking tasks resolved by data."""
        submission = DataSubmission(campaign_id=self.campaign.id, label="整改后复测")
        session.add(submission)
        session.flush()
        snapshot = AssessmentSnapshot(campaign_id=self.campaign.id, submission_id=submission.id,
                                      standard_id=self.campaign.standard_id, result={})
        session.add(snapshot)
        session.flush()
        return snapshot


def build_world(session: Session, code: str = "demo") -> World:
    campaign = Campaign(code=code, name="示例县优质均衡创建", county="示例县", standard_id="national-2017")
    session.add(campaign)
    session.flush()
    world = World(campaign=campaign)
    for ordinal, (phase_code, name, kind, status, starts, gate) in enumerate([
        ("self_check", "自查自评", PhaseKind.self_check, PhaseStatus.active,
         dt.date(2026, 12, 1), dt.date(2026, 12, 23)),
        ("rectification", "整改", PhaseKind.rectification, PhaseStatus.pending,
         dt.date(2027, 1, 4), dt.date(2027, 6, 30)),
        ("review_city", "市级复评", PhaseKind.review_city, PhaseStatus.pending, None, None),
    ], start=1):
        phase = Phase(campaign_id=campaign.id, code=phase_code, name=name, kind=kind.value, ordinal=ordinal,
                      starts_on=starts, gate_on=gate, status=status.value)
        session.add(phase)
        world.phases[phase_code] = phase
    for name, short, kind in [
        ("领导小组办公室", "办公室", UnitKind.office),
        ("财政局", "财政", UnitKind.county_department),
        ("住建局", "住建", UnitKind.county_department),
        ("城关镇", "城关", UnitKind.township),
    ]:
        dept = Department(campaign_id=campaign.id, name=name, short_name=short, kind=kind.value)
        session.add(dept)
        world.departments[name] = dept
    session.flush()
    school = School(campaign_id=campaign.id, key="4101001", name="城关一小", school_type="小学",
                    township="城关镇", township_department_id=world.departments["城关镇"].id,
                    contact_email="zhao@example.cn")
    session.add(school)
    world.schools[school.name] = school
    for name, dept, office, email in [
        ("王主任", "领导小组办公室", True, "wang@example.cn"),
        ("李科长", "财政局", False, "li@example.cn"),
        ("张局长", "住建局", False, "zhang@example.cn"),
        ("赵校长", None, False, "zhao@example.cn"),
    ]:
        person = Person(campaign_id=campaign.id, name=name, email=email, is_office=office, is_contact=True,
                        department_id=world.departments[dept].id if dept else None)
        session.add(person)
        world.people[name] = person
    session.flush()
    return world


def with_evidence(session: Session, task: Task) -> Task:
    """Record a 佐证材料 file on ``task`` (the row only: no file on disk), so a task that needs
    evidence (issue 12 §4) can be submitted."""
    import hashlib

    from tracker.tasks.models import Evidence

    session.add(Evidence(campaign_id=task.campaign_id, task_id=task.id, filename="佐证材料.pdf",
                         sha256=hashlib.sha256(f"evidence-{task.id}".encode()).hexdigest(), size=1))
    session.flush()
    return task
