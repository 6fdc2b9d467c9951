"""Three weeks of the example county (examples/plan.yaml, examples/schools.xlsx) on a frozen clock.

    W49  Mon 11-30  plan applied, self-check: 60 tasks (shortfalls, attestations, the plan's 8)
         Tue 12-01  most units sign their tasks (住建局, 财政局 and the schools do not)
         Thu 12-03  P01 (due 12-04) submitted, verified Fri 12-04
    W50  Mon 12-07  three attestations submitted and progress reported on others
         Tue 12-08  two of them verified, one returned (退回; it stays with its unit)
    W51  Tue 12-15  re-assessment with more equipment (CV of indicator 6 falls): tasks resolved
                    by data are verified; one task withdrawn
         Thu 12-17  more attestations submitted and verified

The reminder sweep runs every working day at 08:35, so reminders, 催办 and 督办单 are queued as the
scheduler would. At the end of each week (Sunday 23:59) the tracker's own counts are taken
(``campaign_status`` and ``lifecycle.on_time`` over the verified tasks), for the briefing to be
checked against.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import time_machine
from sqlmodel import Session, select

from tests.factories_db import with_evidence
from tracker.calendar import CHINA, active_calendar
from tracker.campaigns import selfcheck
from tracker.campaigns.service import apply_plan
from tracker.db import session_scope
from tracker.events.models import Event
from tracker.org.models import Campaign, Person
from tracker.plans import load_plan
from tracker.reminders.sweep import sweep
from tracker.schooldata import submissions
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskStatus
from tracker.tasks.service import campaign_status

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
OFFICE = "韩静"
SILENT_UNITS = ("住建局", "财政局")  # short names of the units that never sign in these weeks
WEEKS = ("2026-W49", "2026-W50", "2026-W51")
WEEK_ENDS = {"2026-W49": dt.date(2026, 12, 6), "2026-W50": dt.date(2026, 12, 13), "2026-W51": dt.date(2026, 12, 20)}


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHINA)


@dataclass
class TrackerCounts:
    """What the tracker itself said at the end of a week."""

    status: dict
    verified_on_time: int
    verified: int


@dataclass
class Scenario:
    campaign_code: str
    counts: dict[str, TrackerCounts] = field(default_factory=dict)  # week → counts at its end


def improved_sheet(tmp_path: Path) -> Path:
    """The example sheet after rectification: no school below 2,800 元 of equipment per pupil."""
    wb = openpyxl.load_workbook(EXAMPLES / "schools.xlsx")
    ws = wb["学校"]
    headers = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        pupils = sum(ws.cell(row, headers[h]).value or 0 for h in ("小学在校生数", "初中在校生数"))
        cell = ws.cell(row, headers["教学仪器设备值（万元）"])
        if cell.value is not None:
            cell.value = max(float(cell.value), round(pupils * 0.28, 2))
    path = tmp_path / "schools-improved.xlsx"
    wb.save(path)
    return path


def _person(session: Session, campaign: Campaign, name: str) -> Person:
    return session.exec(select(Person).where(Person.campaign_id == campaign.id, Person.name == name)).one()


def _contact(session: Session, task: Task) -> Person | None:
    if task.department_id is None:
        return None
    return session.exec(select(Person).where(Person.department_id == task.department_id, Person.is_contact)
                        .order_by(Person.id)).first()


def _tasks(session: Session, campaign: Campaign) -> list[Task]:
    return list(session.exec(select(Task).where(Task.campaign_id == campaign.id).order_by(Task.id)))


def _silent(session: Session, task: Task) -> bool:
    from tracker.org.models import Department

    if task.department_id is None:
        return True  # schools have no people of their own in the example plan
    return session.get(Department, task.department_id).short_name in SILENT_UNITS


def _sweep(engine, day: dt.date) -> None:
    with time_machine.travel(at(day, 8, 35), tick=False):
        with Session(engine, expire_on_commit=False) as session:
            sweep(session, at(day, 8, 35))


def _count(engine, campaign_code: str, week: str) -> TrackerCounts:
    end = WEEK_ENDS[week]
    with time_machine.travel(at(end, 23, 59), tick=False):
        with session_scope(engine) as session:
            campaign = session.exec(select(Campaign).where(Campaign.code == campaign_code)).one()
            status = campaign_status(session, campaign, end)
            verified = [t for t in _tasks(session, campaign) if t.status == TaskStatus.verified.value]
            events = list(session.exec(select(Event).where(Event.task_id.in_([t.id for t in verified]))))
            on_time = sum(1 for t in verified if lifecycle.on_time(t, events) is True)
            return TrackerCounts(status=status, verified_on_time=on_time, verified=len(verified))


def _act(engine, moment: dt.datetime, action) -> None:
    with time_machine.travel(moment, tick=False):
        with session_scope(engine) as session:
            campaign = session.exec(select(Campaign)).one()
            action(session, campaign)


def build_three_weeks(engine, tmp_path: Path, on_week_end=None) -> Scenario:
    """The three weeks above; ``on_week_end(week)`` is called at 08:30 on the Monday after each
    week, before anything else happens that day (when the scheduler would issue its briefing)."""
    cal = active_calendar()

    def start(session, campaign_unused):
        campaign = apply_plan(session, load_plan(EXAMPLES / "plan.yaml"))
        selfcheck.run_self_check(session, campaign, EXAMPLES / "schools.xlsx", OFFICE, as_of=dt.date(2026, 11, 30))

    with time_machine.travel(at(dt.date(2026, 11, 30), 9, 0), tick=False):
        with session_scope(engine) as session:
            start(session, None)
            code = session.exec(select(Campaign)).one().code
    scenario = Scenario(code)

    def sign_all(session, campaign):
        for task in _tasks(session, campaign):
            if not _silent(session, task):
                lifecycle.accept(session, task, _contact(session, task))

    def by_key(session, campaign, key) -> Task:
        return session.exec(select(Task).where(Task.campaign_id == campaign.id, Task.origin_key == key)).one()

    def attestations(session, campaign) -> list[Task]:
        return [t for t in _tasks(session, campaign)
                if t.origin == "attestation" and not _silent(session, t)]

    def submit_p01(session, campaign):
        task = by_key(session, campaign, "plan|P01")
        lifecycle.submit(session, task, _contact(session, task), "已完成")

    def verify_p01(session, campaign):
        lifecycle.verify(session, by_key(session, campaign, "plan|P01"), _person(session, campaign, OFFICE))

    def week2_submit(session, campaign):
        chosen = attestations(session, campaign)
        for task in chosen[:3]:
            lifecycle.submit(session, with_evidence(session, task), _contact(session, task), "佐证材料已上传")
        for task in chosen[3:8]:
            lifecycle.report_progress(session, task, _contact(session, task), 40, "正在收集佐证材料")

    def week2_verify(session, campaign):
        office = _person(session, campaign, OFFICE)
        chosen = attestations(session, campaign)
        lifecycle.verify(session, chosen[0], office)
        lifecycle.verify(session, chosen[1], office)
        lifecycle.return_task(session, chosen[2], office, "佐证材料不完整")

    def week3_reassess(session, campaign):
        selfcheck.reassess(session, campaign, submissions.import_submission(
            session, campaign, improved_sheet(tmp_path), OFFICE, label="整改后复测"), actor=OFFICE,
            as_of=dt.date(2026, 12, 15))
        office = _person(session, campaign, OFFICE)
        for task in _tasks(session, campaign):
            if task.resolved_by_assessment_id is not None and task.status != TaskStatus.verified.value:
                lifecycle.verify(session, task, office, "复测达标")
        lifecycle.withdraw(session, by_key(session, campaign, "plan|P08"), office, "与市级安排重复")

    def week3_more(session, campaign):
        office = _person(session, campaign, OFFICE)
        for task in attestations(session, campaign)[3:6]:
            if task.status in (TaskStatus.accepted.value, TaskStatus.in_progress.value):
                lifecycle.submit(session, with_evidence(session, task), _contact(session, task), "佐证材料已上传")
                lifecycle.verify(session, task, office)

    timeline = [
        (at(dt.date(2026, 12, 1)), sign_all),
        (at(dt.date(2026, 12, 3)), submit_p01),
        (at(dt.date(2026, 12, 4)), verify_p01),
        (at(dt.date(2026, 12, 7)), week2_submit),
        (at(dt.date(2026, 12, 8)), week2_verify),
        (at(dt.date(2026, 12, 15)), week3_reassess),
        (at(dt.date(2026, 12, 17)), week3_more),
    ]
    day = dt.date(2026, 11, 30)
    for week in WEEKS:
        while day <= WEEK_ENDS[week]:
            if cal.is_working_day(day):
                _sweep(engine, day)
            for moment, action in timeline:
                if moment.date() == day:
                    _act(engine, moment, action)
            day += dt.timedelta(days=1)
        scenario.counts[week] = _count(engine, code, week)
        if on_week_end is not None:
            with time_machine.travel(at(day, 8, 30), tick=False):
                on_week_end(week)
    return scenario
