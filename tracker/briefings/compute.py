"""The figures of a weekly dispatch briefing (调度通报), computed from the event log as of the end
of its week.

A briefing covers one ISO week, Monday to Sunday in Asia/Shanghai. Its figures are what the
tracker showed at the end of that Sunday: the task table says how things stand *now*, so every
task's state is replayed from its events (``task.accepted`` … ``task.verified``) up to the end of
the period. The same data and week therefore give the same briefing — the same numbers in the same
order — however much later it is computed; a week that has not ended yet is computed as of now
and marked ``partial``.

What is read, and as of when:
- tasks: the task rows' fixed fields (title, unit, due date, phase, origin, created_at — none of
  them changes after creation) and the replayed status, progress and completion time;
- phases: passed and activated from ``phase.gate_passed`` / ``phase.activated`` events;
- reminders and 督办单: the notice items queued before the end (``NoticeItem.created_at``);
- indicators: the last assessment snapshot stored before the end, and the one before it.
- 迎检资料 (issue 13 §4, tracker/briefings/materials.py): reviews and the checklist as they are now,
  evidence tagged by the cutoff.
Department names and the plan's gate dates are read as they are now.

Definitions (all counts leave out nothing silently; rates are None where their base is 0):
- assigned (应办): tasks not withdrawn; done: 已销号; in progress (在办): 已签收, 办理中, 已提交;
  not signed: 待签收; overdue: with the unit (待签收/已签收/办理中) after the due date.
- completion rate = done / assigned.
- on time: verified with the work submitted by the due date (``tracker.tasks.lifecycle.on_time``),
  or submitted by the due date and awaiting 销号. Late: verified or submitted after the due date,
  or overdue. On-time rate = on time / (on time + late); tasks not yet due and not yet done are
  not judged.
- a unit's light is its worst task's on the last day of the period (tracker.reminders.lights).
- rank: a unit with overdue work never ranks above one without. In order: units without overdue
  work that have something judged, by on-time rate, then completion rate; then units without
  overdue work and nothing judged yet (nothing due, nothing submitted); then units with overdue
  work, by on-time rate, then completion rate. Equal figures share a rank. Departments and
  schools are ranked separately. This is the default rule of 考核 (tracker.appraisal), which
  ranks and scores from these figures plus the 退回 and 督办单 up to the cutoff; a plan whose 考核
  says 排名依据: 得分 ranks by the score instead (equal scores then in this order).
- gate at risk: the phase's open tasks exceed what the pace of the last four weeks (tasks of the
  phase verified per working day; the window starts no earlier than the campaign) would close in
  the working days left to the gate. While the campaign is younger than the window and nothing
  of the phase has been verified yet there is no pace to project from: not judged (None).
- change from last week: only when the week before is a week of the campaign (it was created
  before this week began); a campaign's first week has nothing to compare with.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, union
from sqlmodel import Session

from tracker.clock import zone
from tracker.appraisal.service import UnitAppraisal, rank_units, rule_of
from tracker.assessment.models import AssessmentSnapshot
from tracker.plans import AppraisalRule
from tracker.calendar import WorkingDayCalendar, active_calendar
from tracker.org.models import Campaign, Department, School
from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.notices.models import NoticeItem, OwedNotice, Rung
from tracker.reminders.expand import unexpanded_recipients
from tracker.reminders.lights import Light, task_light, yellow_within
from tracker.tasks.lifecycle import CLOCK_RUNNING, OPEN
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.briefings.content import (  # noqa: F401 — the briefing's content, imported from here by callers
    STATUS_ORDER,
    AssessmentRef,
    BriefingData,
    DeadlineRow,
    Figures,
    IndicatorRow,
    OverdueRow,
    PhaseOutlook,
    UnitRow,
    WeekActivity,
)
from tracker.briefings.materials import materials_outlook
from tracker.briefings.standing import indicator_rows, phase_at
from tracker.briefings.weeks import (  # noqa: F401 — week helpers, imported from here by callers
    WEEK_PATTERN,
    BriefingError,
    cn_day,
    iso_week_of,
    normalize_week,
    parse_iso_week,
    previous_week,
)
from tracker.briefings.weeks import start_of as _start_of

S = TaskStatus
# enum members looked up once: attribute access on an Enum class is slow in a loop over every task
_VERIFIED, _WITHDRAWN, _SUBMITTED = S.verified, S.withdrawn, S.submitted
PACE_WEEKS = 4  # the pace toward a gate: tasks verified per working day over the last 4 weeks
REMINDER_RUNGS = (Rung.ack_resend.value, Rung.due_soon.value, Rung.due_today.value, Rung.chase.value,
                  Rung.escalation.value)
_STATUS_BY_VALUE = {s.value: s for s in TaskStatus}
ORIGIN_NAMES = {TaskOrigin.shortfall.value: "问题整改", TaskOrigin.attestation.value: "佐证认定",
                TaskOrigin.finding.value: "反馈问题整改", TaskOrigin.plan.value: "方案任务",
                TaskOrigin.split.value: "分解任务",
                TaskOrigin.office.value: "办公室交办"}

# events that move a task's due date (payload due_from → due_to): the replay follows them, so a
# task approved for extension is judged against its new date from the approval on, and a past
# week's briefing against the date in force then
DUE_MOVES = ("task.due_changed", "task.extension_approved")

# status a lifecycle event leads to, for events without a "to" in their payload
_TYPE_TARGET = {
    "task.accepted": S.accepted,
    "task.progress": S.in_progress,
    "task.submitted": S.submitted,
    "task.verified": S.verified,
    "task.returned": S.in_progress,
    "task.withdrawn": S.withdrawn,
}



# ---------------------------------------------------------------------------------------------
# replaying tasks


@dataclass(slots=True)
class _Task:
    """A task's fixed fields and its state as replayed so far."""

    id: int
    title: str
    department_id: int | None
    responsible_school_id: int | None
    phase_id: int
    due_on: dt.date
    created_at: dt.datetime
    origin: str
    status: TaskStatus = S.assigned
    progress: int = 0
    submitted_at: dt.datetime | None = None  # the last submission not undone by 退回/重新打开
    completed_at: dt.datetime | None = None  # when the verified work was done

    def unit_key(self) -> tuple[str, int] | None:
        if self.department_id is not None:
            return ("department", self.department_id)
        if self.responsible_school_id is not None:
            return ("school", self.responsible_school_id)
        return None

    def apply(self, type_: str, at: dt.datetime, target: str | None, percent: int | None,
              due_to: str | None = None) -> None:
        """One lifecycle event: ``target`` is the status its payload says it led to ("to");
        ``due_to`` the due date an event of ``DUE_MOVES`` moved it to."""
        if type_ in DUE_MOVES:
            if due_to:
                self.due_on = dt.date.fromisoformat(due_to)
            return
        if target in _STATUS_BY_VALUE:
            new = _STATUS_BY_VALUE[target]
        elif type_ == "task.reopened":
            new = S.assigned if self.status is S.assigned else S.in_progress
        else:
            new = _TYPE_TARGET.get(type_, self.status)
        if type_ == "task.progress":
            if percent is not None:
                self.progress = int(percent)
        elif type_ == "task.submitted":
            self.submitted_at = at
            self.progress = 100
        elif type_ in ("task.returned", "task.reopened"):
            self.submitted_at = None
            self.completed_at = None
        elif type_ == "task.verified":
            self.completed_at = self.submitted_at or at
            self.progress = 100
        self.status = new

    def judged(self, today: dt.date) -> bool | None:
        """True on time, False late, None not judged yet (see the module doc)."""
        if self.status is _VERIFIED:
            done = self.completed_at
            return done is None or done.astimezone(zone()).date() <= self.due_on
        if self.status is _SUBMITTED and self.submitted_at is not None:
            return self.submitted_at.astimezone(zone()).date() <= self.due_on
        if self.status in CLOCK_RUNNING and today > self.due_on:
            return False
        return None


def _figures(tasks: Iterable[_Task], today: dt.date) -> Figures:
    by_status = dict.fromkeys(TaskStatus, 0)
    overdue = on_time = late = verified_on_time = 0
    for t in tasks:
        status = t.status
        by_status[status] += 1
        if status is _WITHDRAWN:
            continue
        if status in CLOCK_RUNNING and today > t.due_on:
            overdue += 1
        verdict = t.judged(today)
        if verdict is True:
            on_time += 1
            if status is _VERIFIED:
                verified_on_time += 1
        elif verdict is False:
            late += 1
    total = sum(by_status.values())
    assigned = total - by_status[_WITHDRAWN]
    done = by_status[_VERIFIED]
    judged = on_time + late
    return Figures(
        total=total, by_status={s.value: n for s, n in by_status.items()}, assigned=assigned, done=done,
        in_progress=by_status[S.accepted] + by_status[S.in_progress] + by_status[S.submitted],
        not_signed=by_status[S.assigned], overdue=overdue, on_time=on_time, late=late,
        verified_on_time=verified_on_time, completion_rate=done / assigned if assigned else None,
        on_time_rate=on_time / judged if judged else None)


def _load_tasks(session: Session, campaign_id: int, cutoff: dt.datetime) -> dict[int, _Task]:
    t = Task.__table__.c
    rows = session.execute(
        select(t.id, t.title, t.department_id, t.responsible_school_id, t.phase_id, t.due_on, t.created_at,
               t.origin)
        .where(t.campaign_id == campaign_id, t.created_at < cutoff)
        .order_by(t.id)
    ).all()
    return {r[0]: _Task(*r) for r in rows}


def _task_events(session: Session, campaign_id: int, cutoff: dt.datetime):
    """(task, type, at, "to", "percent", "due_to" of the payload), in the order they happened.
    The payload fields are read by the database (json_extract / ->>), not by decoding every
    payload here: a county's log has tens of thousands of task events."""
    e = Event.__table__.c
    return session.execute(
        select(e.task_id, e.type, e.at, e.payload["to"].as_string(), e.payload["percent"].as_integer(),
               e.payload["due_to"].as_string())
        .where(e.campaign_id == campaign_id, e.at < cutoff, e.task_id.is_not(None), e.type.like("task.%"))
        .order_by(e.at, e.id)
    ).all()


def _first_due_dates(session: Session, campaign_id: int) -> dict[int, dt.date]:
    """For each task whose due date was ever moved: the date before its first move (the replay
    starts there; the task row holds the date after the last). Such events are few."""
    e = Event.__table__.c
    out: dict[int, dt.date] = {}
    for task_id, due_from in session.execute(
            select(e.task_id, e.payload["due_from"].as_string())
            .where(e.campaign_id == campaign_id, e.task_id.is_not(None), e.type.in_(DUE_MOVES))
            .order_by(e.at, e.id)):
        if task_id not in out and due_from:
            out[task_id] = dt.date.fromisoformat(due_from)
    return out


# ---------------------------------------------------------------------------------------------
# the briefing


def _issuing_office(campaign: Campaign, departments: list[Department]) -> str:
    office = (campaign.plan or {}).get("office") or {}
    if office.get("name"):
        return str(office["name"])
    for dept in departments:
        if UnitKind(dept.kind) is UnitKind.office:
            return dept.name
    return "领导小组办公室"


def _yellow_within(campaign: Campaign) -> int:
    return yellow_within(campaign)


def rank_key(figures: Figures) -> tuple:
    """The order of the ranking under the default 考核 rule (排名依据 按时率; see the module doc):
    no overdue work before overdue work; among units without, something judged before nothing
    judged; then on-time rate, completion rate. ``tracker.appraisal.service.on_time_key`` of the
    same figures."""
    return (figures.overdue > 0, figures.on_time_rate is None, -(figures.on_time_rate or 0.0),
            -(figures.completion_rate or 0.0))


def _appraisal_row(row: UnitRow, returned: int, escalations: int) -> UnitAppraisal:
    """A unit's 考核 figures for the campaign up to the briefing's cutoff: the briefing's ``late``
    counts overdue work too, the 考核 row keeps them apart."""
    f = row.figures
    return UnitAppraisal(kind=row.kind, unit_id=row.unit_id, name=row.name, short_name=row.short_name,
                         due=f.assigned, on_time=f.on_time, late=f.late - f.overdue, overdue=f.overdue,
                         verified=f.done, returned=returned, escalations=escalations)


def _rank(rows: list[UnitRow], rule: AppraisalRule, returned: dict[tuple[str, int], int],
          escalations: dict[tuple[str, int], int]) -> None:
    """Rank and score the units by the campaign's 考核 rule (tracker.appraisal), departments and
    schools separately; equal figures share a rank (1, 2, 2, 4)."""
    scored = [_appraisal_row(r, returned.get((r.kind, r.unit_id), 0), escalations.get((r.kind, r.unit_id), 0))
              for r in rows]
    rank_units(scored, rule)
    for row, figures in zip(rows, scored, strict=True):
        row.rank, row.score = figures.rank, figures.score


def compute_briefing(session: Session, campaign: Campaign, iso_week: str, as_of_end: bool = True,
                     *, now: dt.datetime | None = None, calendar: WorkingDayCalendar | None = None) -> BriefingData:
    """The briefing of ``campaign`` for ``iso_week`` (e.g. ``2026-W48``).

    ``as_of_end``: as of the end of the week (Sunday 24:00 Asia/Shanghai), or as of now when the week
    has not ended yet (the briefing is then ``partial``). ``as_of_end=False`` computes as of now
    (or the end of the week, whichever is earlier) — a preview of the week so far."""
    now = now or utcnow()
    cal = calendar or active_calendar()
    start, end = parse_iso_week(iso_week)
    week = iso_week_of(start)
    start_utc, end_utc = _start_of(start), _start_of(end + dt.timedelta(days=1))
    if start_utc > now:
        raise BriefingError(f"{week}（{start.isoformat()} 至 {end.isoformat()}）还没有开始，不能生成调度通报")
    cutoff = end_utc if as_of_end and end_utc <= now else min(end_utc, now)
    partial = cutoff < end_utc
    today = end if not partial else cutoff.astimezone(zone()).date()
    previous_cutoff, previous_today = start_utc, start - dt.timedelta(days=1)
    created_on = campaign.created_at.astimezone(zone()).date()

    departments = list(session.exec(select(Department).where(Department.campaign_id == campaign.id)
                                    .order_by(Department.id)).scalars())
    tasks = _load_tasks(session, campaign.id, cutoff)
    for task_id, first_due in _first_due_dates(session, campaign.id).items():
        if task_id in tasks:
            tasks[task_id].due_on = first_due

    # replay: first to the end of the week before (for "change from last week"), then to the cutoff
    pace_start = _start_of(end - dt.timedelta(days=7 * PACE_WEEKS - 1))
    verified_in: dict[int, dt.datetime] = {}  # task → its latest 销号 in the pace window
    week_tasks: dict[str, set[int]] = defaultdict(set)  # event type → tasks it happened to this week
    previous: Figures | None = None
    returns_by_task: dict[int, int] = defaultdict(int)
    extensions: dict[str, Counter[int]] = {"task.extension_requested": Counter(),
                                           "task.extension_approved": Counter()}
    for task_id, type_, at, target, percent, due_to in _task_events(session, campaign.id, cutoff):
        task = tasks.get(task_id)
        if task is None:
            continue
        if previous is None and at >= previous_cutoff:
            previous = _figures((t for t in tasks.values() if t.created_at < previous_cutoff), previous_today)
        task.apply(type_, at, target, percent, due_to)
        if type_ == "task.returned":
            returns_by_task[task_id] += 1
        if type_ in extensions:
            extensions[type_][task_id] += 1
        if at >= start_utc:
            week_tasks[type_].add(task_id)
        if type_ == "task.verified" and at >= pace_start:
            verified_in[task_id] = at
        elif type_ == "task.reopened":
            verified_in.pop(task_id, None)
    if previous is None:
        previous = _figures((t for t in tasks.values() if t.created_at < previous_cutoff), previous_today)
    overall = _figures(tasks.values(), today)

    # units
    yellow_within = _yellow_within(campaign)
    by_unit: dict[tuple[str, int], list[_Task]] = defaultdict(list)
    for t in tasks.values():
        key = t.unit_key()
        if key is not None:
            by_unit[key].append(t)
    lights: dict[int, Light | None] = {t.id: task_light(t, today, yellow_within=yellow_within, calendar=cal)
                                       for t in tasks.values()}
    units: list[UnitRow] = []
    dept_names: dict[int, tuple[str, str]] = {}
    for dept in departments:
        dept_names[dept.id] = (dept.name, dept.short_name or dept.name)
        mine = by_unit.get(("department", dept.id), [])
        if not mine and (not dept.active or UnitKind(dept.kind) is UnitKind.office):
            continue
        units.append(UnitRow(kind="department", unit_id=dept.id, name=dept.name,
                             short_name=dept.short_name or dept.name, figures=_figures(mine, today),
                             light=_worst(lights[t.id] for t in mine), **_extension_counts(mine, extensions)))
    school_ids = sorted(i for kind, i in by_unit if kind == "school")
    school_names: dict[int, str] = {}
    if school_ids:
        schools = list(session.exec(select(School).where(School.id.in_(school_ids))).scalars())
        school_names = {s.id: s.name for s in schools}
        for school in sorted(schools, key=lambda s: (s.name, s.id)):
            mine = by_unit[("school", school.id)]
            units.append(UnitRow(kind="school", unit_id=school.id, name=school.name, short_name=school.name,
                                 figures=_figures(mine, today), light=_worst(lights[t.id] for t in mine),
                                 **_extension_counts(mine, extensions)))
    # notices queued so far: reminders per task, 督办单 per task and occurrence
    # (owed by the sweep, one row per task and rung, and their recipients' items once composed)
    reminder_rows = session.execute(union(*(
        select(n.task_id, n.rung, n.occurrence, n.created_at)
        .where(n.campaign_id == campaign.id, n.task_id.is_not(None), n.rung.in_(REMINDER_RUNGS),
               n.created_at < cutoff)
        for n in (NoticeItem.__table__.c, OwedNotice.__table__.c)))
    ).all()
    escalation_occurrences = {(task_id, occurrence) for task_id, rung, occurrence, _ in reminder_rows
                              if rung == Rung.escalation.value}

    # 退回 and 督办单 per unit up to the cutoff, for the 考核 score (and the ranking when the plan
    # ranks by 得分)
    unit_returns: dict[tuple[str, int], int] = defaultdict(int)
    for task_id, count in returns_by_task.items():
        key = tasks[task_id].unit_key() if task_id in tasks else None
        if key is not None:
            unit_returns[key] += count
    unit_escalations: dict[tuple[str, int], int] = defaultdict(int)
    for task_id, _occurrence in escalation_occurrences:
        key = tasks[task_id].unit_key() if task_id in tasks else None
        if key is not None:
            unit_escalations[key] += 1
    rule = rule_of(campaign)
    _rank(units, rule, unit_returns, unit_escalations)
    order = {id(u): n for n, u in enumerate(units)}
    units.sort(key=lambda u: (u.kind != "department", u.rank is None, u.rank or 0, order[id(u)]))

    def unit_of(t: _Task) -> str:
        if t.department_id is not None and t.department_id in dept_names:
            return dept_names[t.department_id][1]
        if t.responsible_school_id is not None:
            return school_names.get(t.responsible_school_id, "未指定单位")
        return "未指定单位"

    # most overdue first; equal counts in the table's order (departments by rank, then schools)
    late_units = sorted((u for u in units if u.figures.overdue), key=lambda u: -u.figures.overdue)
    overdue_units = [u.short_name for u in late_units]
    if overdue_units:
        named = "、".join(f"{u.short_name}（{u.figures.overdue}项）" for u in late_units)
        sentence = f"截至{cn_day(today)}，{named}有逾期任务，请抓紧办理。"
    else:
        sentence = f"截至{cn_day(today)}，各单位均无逾期任务。"

    # notices: reminders per task so far, 督办单 this week
    reminders: dict[int, set[tuple[str, int]]] = defaultdict(set)
    escalated: set[int] = set()
    escalated_this_week: set[int] = set()
    escalation_notices = 0
    for task_id, rung, occurrence, created_at in reminder_rows:
        reminders[task_id].add((rung, occurrence))
        if rung == Rung.escalation.value:
            escalated.add(task_id)
            if created_at >= start_utc:
                escalated_this_week.add(task_id)
    if escalated_this_week:
        # the 督办单 of this week, one per recipient: the items written when they were composed …
        n = NoticeItem.__table__.c
        escalation_notices = len(session.execute(
            select(n.id).where(n.campaign_id == campaign.id, n.rung == Rung.escalation.value,
                               n.created_at >= start_utc, n.created_at < cutoff)).all())
        # and those owed whose window has not opened yet (their items are written when it does)
        escalation_notices += unexpanded_recipients(session, campaign.id, Rung.escalation, start_utc, cutoff)

    overdue_rows = [
        OverdueRow(task_id=t.id, title=t.title, unit=unit_of(t), due_on=t.due_on,
                   days_overdue=cal.working_days_between(t.due_on, today), status=t.status.value,
                   reminders=len(reminders.get(t.id, ())), escalated=t.id in escalated)
        for t in tasks.values() if t.status in CLOCK_RUNNING and today > t.due_on
    ]
    overdue_rows.sort(key=lambda r: (-r.days_overdue, r.due_on, r.unit, r.task_id))

    new_tasks = [t for t in tasks.values() if t.created_at >= start_utc]
    # the four origins always (a split's sub-tasks only when there are some: older briefings' shape)
    new_by_origin = {origin.value: 0 for origin in TaskOrigin if origin is not TaskOrigin.split}
    for t in new_tasks:
        new_by_origin[t.origin] = new_by_origin.get(t.origin, 0) + 1
    escalated_units = list(dict.fromkeys(
        unit_of(tasks[i]) for i in sorted(escalated_this_week, key=lambda i: (unit_of(tasks[i]), i)) if i in tasks))
    activity = WeekActivity(
        verified=len(week_tasks["task.verified"]), submitted=len(week_tasks["task.submitted"]),
        returned=len(week_tasks["task.returned"]), accepted=len(week_tasks["task.accepted"]),
        new_tasks=len(new_tasks), new_by_origin=new_by_origin, escalated_tasks=len(escalated_this_week),
        escalation_notices=escalation_notices, escalated_units=escalated_units)

    # the current phase and its gate
    outlook = None
    phase = phase_at(session, campaign.id, cutoff, today)
    if phase is not None:
        mine = [t for t in tasks.values() if t.phase_id == phase.id]
        open_tasks = sum(1 for t in mine if t.status in OPEN)
        # the window (working days after its first day) starts no earlier than the campaign: a
        # campaign's first weeks are not measured against weeks in which it did not exist
        window_first = end - dt.timedelta(days=7 * PACE_WEEKS)
        young = created_on - dt.timedelta(days=1) > window_first
        window_days = cal.working_days_between(max(window_first, created_on - dt.timedelta(days=1)), end)
        recent = sum(1 for i in verified_in if tasks[i].phase_id == phase.id and tasks[i].status is S.verified)
        pace = recent / window_days if window_days > 0 else 0.0
        outlook = PhaseOutlook(phase_id=phase.id, code=phase.code, name=phase.name,
                               is_review=PhaseKind(phase.kind) in (PhaseKind.review_city, PhaseKind.review_province,
                                                                   PhaseKind.review_national),
                               gate_on=phase.gate_on, total_tasks=len(mine), open_tasks=open_tasks,
                               verified_recently=recent, pace_working_days=window_days, pace_per_working_day=pace,
                               pace_known=not (young and recent == 0))
        if phase.gate_on is not None:
            left = cal.working_days_between(today, phase.gate_on)
            outlook.working_days_to_gate = left
            if left <= 0:
                outlook.at_risk = open_tasks > 0
            elif outlook.pace_known:
                outlook.projected_closed = pace * left
                outlook.at_risk = open_tasks > 0 and outlook.projected_closed < open_tasks

    # indicators: the last two assessments stored before the cutoff
    snapshots = list(session.exec(
        select(AssessmentSnapshot).where(AssessmentSnapshot.campaign_id == campaign.id,
                                         AssessmentSnapshot.created_at < cutoff)
        .order_by(AssessmentSnapshot.created_at.desc(), AssessmentSnapshot.id.desc()).limit(2)).scalars())
    latest = snapshots[0] if snapshots else None
    before = snapshots[1] if len(snapshots) > 1 else None

    # next week's deadlines
    next_start, next_end = end + dt.timedelta(days=1), end + dt.timedelta(days=7)
    deadlines = [DeadlineRow(task_id=t.id, title=t.title, unit=unit_of(t), due_on=t.due_on, status=t.status.value,
                             light=lights[t.id].value if lights[t.id] else None)
                 for t in tasks.values() if t.status in OPEN and next_start <= t.due_on <= next_end]
    deadlines.sort(key=lambda r: (r.due_on, r.unit, r.task_id))

    working_days = sum(1 for i in range(7) if cal.is_working_day(start + dt.timedelta(days=i)))
    return BriefingData(
        campaign_code=campaign.code, campaign_name=campaign.name, county=campaign.county,
        issuing_office=_issuing_office(campaign, departments), iso_week=week, period_start=start, period_end=end,
        as_of=cutoff, as_of_date=today, partial=partial, working_days=working_days, overall=overall,
        previous=previous, has_previous_week=campaign.created_at < start_utc, phase=outlook, units=units,
        rank_by=rule.rank_by,
        overdue_units=overdue_units, overdue_sentence=sentence,
        week=activity, overdue=overdue_rows, indicators=indicator_rows(latest, before),
        assessment=AssessmentRef(assessment_id=latest.id, at=latest.created_at, ok=latest.ok) if latest else None,
        previous_assessment=AssessmentRef(assessment_id=before.id, at=before.created_at, ok=before.ok)
        if before else None,
        next_week_start=next_start, next_week_end=next_end, next_week=deadlines,
        materials=materials_outlook(session, campaign.id, today, cutoff, cal))


def _extension_counts(tasks: Iterable[_Task], extensions: dict[str, Counter[int]]) -> dict[str, int]:
    """A unit's 延期申请 asked for and granted, on the tasks it leads now."""
    ids = [t.id for t in tasks]
    return {"extensions_requested": sum(extensions["task.extension_requested"][i] for i in ids),
            "extensions_granted": sum(extensions["task.extension_approved"][i] for i in ids)}


def _worst(lights: Iterable[Light | None]) -> str | None:
    found = [light for light in lights if light is not None]
    return max(found, key=lambda light: light.rank).value if found else None


__all__ = [
    "BriefingData", "BriefingError", "DeadlineRow", "Figures", "IndicatorRow", "OverdueRow", "PhaseOutlook",
    "UnitRow", "WeekActivity", "compute_briefing", "iso_week_of", "normalize_week", "parse_iso_week",
    "previous_week", "rank_key",
]
