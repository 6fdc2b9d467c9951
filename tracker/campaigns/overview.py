"""The figures of the office's 总览 page: phases and gates, progress, lights, the week's changes.

The counts come from the task tallies (``TaskTally``, ``TaskDueTally``: kept current by triggers
in the same transaction as every task move), never from reading the campaign's tasks, so the page
costs the same with 1,000 tasks or 1,000,000. A unit's light is exactly what
``tracker.reminders.lights`` gives for all of its tasks with the campaign's 黄灯临期工作日 (the tests
compare them): red and yellow-by-date from the due-day tally; only a unit with neither reads its
running tasks due later, one row per (due date, progress), to compare progress with time gone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from tracker.clock import zone
from tracker.calendar import active_calendar
from tracker.campaigns.gates import is_review
from tracker.events.models import Event
from tracker.events.types import event_label
from tracker.org.models import Campaign, Department, Phase, PhaseStatus, School
from tracker.org.service import current_phase
from tracker.plans.kinds import UnitKind
from tracker.reminders.lights import Light, task_light, yellow_within
from tracker.reviews.service import decided_phase_ids, hosting_phase_ids
from tracker.tasks.lifecycle import CLOCK_RUNNING, OPEN
from tracker.tasks.models import Task, TaskDueTally, TaskStatus, TaskTally
from tracker.tasks.queries import list_stamp


def event_name(event_type: str) -> str:
    """The Chinese name of an event type (``tracker.events.types``)."""
    return event_label(event_type)


@dataclass
class PhaseLine:
    phase: Phase
    current: bool
    total_tasks: int
    open_tasks: int
    days_left: int | None  # working days to the gate; None: 以上级通知为准
    verdict_needed: bool

    @property
    def status(self) -> str:
        return {"pending": "未开始", "active": "进行中", "passed": "已通过"}.get(str(self.phase.status), "")


@dataclass
class UnitLine:
    kind: str  # department / school
    id: int
    name: str
    light: Light | None
    total: int = 0
    done: int = 0
    overdue: int = 0
    unacknowledged: int = 0

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.total) if self.total else None


@dataclass
class Overview:
    campaign: Campaign
    today: dt.date
    phases: list[PhaseLine]
    current: Phase | None
    by_status: dict[str, int]
    total: int  # withdrawn ones left out
    done: int
    overdue: int
    unacknowledged: int
    submitted: int  # waiting for the office to 销号
    units: list[UnitLine]
    week_start: dt.date
    week_events: list[Event] = field(default_factory=list)
    week_counts: dict[str, int] = field(default_factory=dict)
    calendar_warnings: list[str] = field(default_factory=list)
    yellow_within: int = 3  # the campaign's 黄灯临期工作日

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _phase_lines(session: Session, campaign: Campaign, today: dt.date) -> tuple[list[PhaseLine], Phase | None]:
    """Every phase with its task counts (one GROUP BY for all phases), working days to its gate
    and whether a review still waits for its verdict (as ``gates.gate_status`` says it)."""
    phases = list(session.exec(select(Phase).where(Phase.campaign_id == campaign.id)
                               .order_by(Phase.ordinal, Phase.id)))
    current = current_phase(session, campaign, today)
    open_values = [s.value for s in OPEN]
    counts = {phase_id: (int(total or 0), int(open_ or 0)) for phase_id, total, open_ in session.exec(
        select(TaskTally.phase_id, func.sum(TaskTally.n),
               func.sum(case((TaskTally.status.in_(open_values), TaskTally.n), else_=0)))
        .where(TaskTally.campaign_id == campaign.id).group_by(TaskTally.phase_id)).all()}
    decided = decided_phase_ids(session, campaign.id)  # a 县级督查's verdict decides nothing
    hosting = hosting_phase_ids(session, campaign.id)
    calendar = active_calendar()
    lines = []
    for phase in phases:
        total, open_ = counts.get(phase.id, (0, 0))
        passed = PhaseStatus(phase.status) is PhaseStatus.passed
        days_left = calendar.working_days_between(today, phase.gate_on) if phase.gate_on and not passed else None
        lines.append(PhaseLine(phase=phase, current=current is not None and phase.id == current.id,
                               total_tasks=total, open_tasks=open_, days_left=days_left,
                               verdict_needed=(is_review(phase) or phase.id in hosting)
                               and phase.id not in decided))
    return lines, current


def _near_end(today: dt.date, within: int) -> dt.date:
    """A task with its unit due on or after ``today`` and before this date has at most ``within``
    working days left: yellow by date (lights.task_light)."""
    return active_calendar().add_working_days(today, within + 1)


def _unit_of(department_key: int, school_key: int) -> tuple[int | None, int | None]:
    """The tally's keys (0: none) as the task's department_id, responsible_school_id."""
    return department_key or None, school_key or None


def _count_rows(session: Session, campaign: Campaign, today: dt.date, near_end: dt.date,
                department_id: int | None = None) -> list[tuple]:
    """Per (department, school, status): tasks, and of those with their unit: overdue, due soon.

    Read from the tallies: one row per (phase, unit, status), and per (unit, due day) for the
    running ones before ``near_end``. Overdue and due-soon counts are per unit; they go on the
    unit's row of the first running status it has (callers add them up per unit or in all)."""
    scope = [TaskTally.campaign_id == campaign.id]
    due_scope = [TaskDueTally.campaign_id == campaign.id, TaskDueTally.due_on < near_end]
    if department_id is not None:
        scope.append(TaskTally.department_key == department_id)
        due_scope.append(TaskDueTally.department_key == department_id)
    unit = (TaskTally.department_key, TaskTally.school_key)
    counts = session.exec(select(*unit, TaskTally.status, func.sum(TaskTally.n)).where(*scope)
                          .group_by(*unit, TaskTally.status)).all()
    due_unit = (TaskDueTally.department_key, TaskDueTally.school_key)
    dated = {(d, sch): (int(late or 0), int(near or 0)) for d, sch, late, near in session.exec(
        select(*due_unit, func.sum(case((TaskDueTally.due_on < today, TaskDueTally.n), else_=0)),
               func.sum(case((TaskDueTally.due_on >= today, TaskDueTally.n), else_=0)))
        .where(*due_scope).group_by(*due_unit)).all()}
    rows = []
    running = {s.value for s in CLOCK_RUNNING}
    for d, sch, status, n in sorted(counts, key=lambda r: (r[0], r[1], r[2] not in running, r[2])):
        if not n:
            continue  # a tally row whose tasks all moved on
        late, near = dated.pop((d, sch), (0, 0)) if status in running else (0, 0)
        rows.append((*_unit_of(d, sch), status, int(n), late, near))
    return rows


def unit_figures(session: Session, campaign: Campaign, today: dt.date,
                 department_id: int | None = None, rows: list[tuple] | None = None) -> list[UnitLine]:
    """Every unit with tasks (and every active department): its light and counts.

    From the tallies (``_count_rows``): the counts and, from the lights rule, red (a task with the
    unit past its date) and yellow by date (due within the plan's 黄灯临期工作日). Only a unit with
    neither needs its progress compared with the time gone (序时进度): for it, one row per
    (status, due date, progress) of its running tasks due later and not done — the earliest
    assigned, which is the furthest behind."""
    calendar = active_calendar()
    within = yellow_within(campaign)
    near_end = _near_end(today, within)
    if rows is None:
        rows = _count_rows(session, campaign, today, near_end, department_id)
    figures: dict[tuple[str, int], UnitLine] = {}
    near_units: set[tuple[str, int]] = set()
    for dept_id, school_id, status, count, overdue, near in rows:
        key = ("department", dept_id) if dept_id is not None else ("school", school_id)
        if key[1] is None:
            continue
        line = figures.setdefault(key, UnitLine(kind=key[0], id=key[1], name="", light=None))
        status = TaskStatus(status)
        if status is not TaskStatus.withdrawn:
            line.total += count
        if status is TaskStatus.verified:
            line.done += count
        if status is TaskStatus.assigned:
            line.unacknowledged += count
        line.overdue += overdue
        if near:
            near_units.add(key)
    quiet: list[tuple[str, int]] = []  # units whose light depends on progress
    for key, line in figures.items():
        if line.overdue:
            line.light = Light.red
        elif key in near_units:
            line.light = Light.yellow
        elif line.total:
            line.light = Light.green  # everything else lit is green unless progress lags (below)
            quiet.append(key)

    scope = [Task.campaign_id == campaign.id]
    if department_id is not None:
        scope.append(Task.department_id == department_id)
    unit_cols = (Task.department_id, Task.responsible_school_id)
    is_running = Task.status.in_([s.value for s in CLOCK_RUNNING])
    if quiet:
        quiet_departments = [k[1] for k in quiet if k[0] == "department"]
        quiet_schools = [k[1] for k in quiet if k[0] == "school"]
        unit_filter = []
        if quiet_departments:
            unit_filter.append(Task.department_id.in_(quiet_departments))
        if quiet_schools:
            unit_filter.append(Task.department_id.is_(None) & Task.responsible_school_id.in_(quiet_schools))
        groups = session.exec(
            select(*unit_cols, Task.status, Task.due_on, Task.progress, func.min(Task.created_at))
            .where(*scope, is_running, Task.due_on >= near_end, Task.progress < 100, or_(*unit_filter))
            .group_by(*unit_cols, Task.status, Task.due_on, Task.progress)
        ).all()
        for dept_id, school_id, status, due_on, progress, created in groups:
            key = ("department", dept_id) if dept_id is not None else ("school", school_id)
            line = figures[key]
            if line.light is Light.yellow:
                continue
            light = task_light(SimpleNamespace(status=status, due_on=due_on, progress=progress, created_at=created),
                               today, yellow_within=within, calendar=calendar)
            if light is not None and light.rank > line.light.rank:
                line.light = light

    # plain rows: building table objects costs more than everything else on the page
    departments = session.exec(select(Department.id, Department.name, Department.active, Department.kind)
                               .where(Department.campaign_id == campaign.id).order_by(Department.id)).all()
    out: list[UnitLine] = []
    for dept in departments:
        if department_id is not None and dept.id != department_id:
            continue
        line = figures.get(("department", dept.id))
        if line is None:
            if not dept.active or UnitKind(dept.kind) is UnitKind.office:
                continue
            line = UnitLine(kind="department", id=dept.id, name="", light=None)
        line.name = dept.name
        out.append(line)
    school_ids = [k[1] for k in figures if k[0] == "school"]
    if school_ids:
        for school in session.exec(select(School.id, School.name).where(School.id.in_(school_ids))
                                   .order_by(School.name)):
            line = figures[("school", school.id)]
            line.name = school.name
            out.append(line)
    return out


def week_start(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=today.weekday())


def week_events(session: Session, campaign: Campaign, today: dt.date, limit: int = 30) -> tuple[list[Event], dict[str, int]]:
    """This week's events (from Monday 00:00 Asia/Shanghai), newest first, and counts by type."""
    since = dt.datetime.combine(week_start(today), dt.time(), tzinfo=zone()).astimezone(dt.UTC)
    where = (Event.campaign_id == campaign.id, Event.at >= since)
    counts = dict(session.exec(select(Event.type, func.count()).where(*where).group_by(Event.type)).all())
    # rows with the event's columns (as attributes), not Event objects: the page only reads them
    events = list(session.exec(select(*Event.__table__.columns).where(*where)
                               .order_by(Event.at.desc(), Event.id.desc()).limit(limit)))
    return events, counts


def calendar_warnings(session: Session, campaign: Campaign, today: dt.date) -> list[str]:
    """Years the campaign's dates fall in whose holiday notice nobody knows (counted Monday–Friday)
    or that come from an example file: the deadlines computed for them may move."""
    dates = [today]
    for phase in session.exec(select(Phase).where(Phase.campaign_id == campaign.id)):
        dates += [d for d in (phase.starts_on, phase.gate_on) if d is not None]
    # two queries: each reads one end of ix_task_campaign_due (together SQLite would scan it all)
    first = session.exec(select(func.min(Task.due_on)).where(Task.campaign_id == campaign.id)).one()
    last = session.exec(select(func.max(Task.due_on)).where(Task.campaign_id == campaign.id)).one()
    dates += [d for d in (first, last) if d is not None]
    calendar = active_calendar()
    warnings = []
    for year in range(min(dates).year, max(dates).year + 1):
        coverage = calendar.coverage(year)
        if not coverage.known:
            warnings.append(f"{year} 年的法定节假日安排未知，该年暂按周一至周五计算工作日，涉及该年的期限和剩余工作日可能不准。"
                            f"国务院办公厅发布通知后，请用「junheng calendar import」导入。")
        elif coverage.illustrative:
            warnings.append(f"{year} 年的节假日安排来自示例文件（{coverage.source}），不是正式通知，据此算出的期限仅供演示。")
    return warnings


def overview_mark(session: Session, campaign_id: int) -> int | None:
    """What the 总览 shows, as one number read in one statement: the campaign's task-list revision,
    which triggers move on every write to what the page reads (tasks and their tallies, units,
    phases, the campaign, the calendar: migration 0020; reviews, findings, events: 0021). None:
    not known (nothing may be kept). Read it before the figures: a page is then never older
    than its mark."""
    return list_stamp(session, campaign_id)


def campaign_overview(session: Session, campaign: Campaign, today: dt.date) -> Overview:
    phases, current = _phase_lines(session, campaign, today)
    within = yellow_within(campaign)
    rows = _count_rows(session, campaign, today, _near_end(today, within))
    units = unit_figures(session, campaign, today, rows=rows)
    by_status = {s.value: 0 for s in TaskStatus}
    overdue = 0
    for _dept, _school, status, count, late, _near in rows:
        by_status[TaskStatus(status).value] += count
        overdue += late
    events, counts = week_events(session, campaign, today)
    return Overview(
        campaign=campaign, today=today, phases=phases, current=current, by_status=by_status,
        total=sum(by_status.values()) - by_status[TaskStatus.withdrawn.value],
        done=by_status[TaskStatus.verified.value], overdue=overdue,
        unacknowledged=by_status[TaskStatus.assigned.value], submitted=by_status[TaskStatus.submitted.value],
        units=units, week_start=week_start(today), week_events=events, week_counts=counts,
        calendar_warnings=calendar_warnings(session, campaign, today), yellow_within=within,
    )
