"""考核: per unit (departments and schools separately) for a period — tasks due, done on time,
done late, overdue now, 退回, 申请延期 / 同意延期, 督办单, mean working days late — and a score
by the plan's 考核 rule, then a rank.

What counts, for a period from ``start`` to ``end`` (dates, Asia/Shanghai; default the campaign
so far, from the day it was created to today):
- tasks due: tasks whose due date falls in the period, not withdrawn (已撤销);
- done on time / late: of those, submitted (or verified) by / after the due date, as the tasks
  stand now (the unit's part is done when it submits; 销号 is the office's);
- overdue now: of those, still with the unit (待签收, 已签收, 办理中) and past the due date today;
- returns (退回), extensions asked (申请延期) and granted (同意延期): events of the period on the
  unit's tasks; 督办单: the ladder's 督办 rung queued in the period, one per task and occurrence;
- mean working days late: over the tasks done late (due date to the day done) and overdue now
  (due date to today), in working days of the calendar; None without such tasks.
- score = 满分 − 逾期完成每项扣 × done late − 逾期每项扣 × overdue − 退回每次扣 × returns −
  督办单每份扣 × 督办单 + 按时完成 × done on time, kept within 0 … 满分.
- rank, among the units with tasks due, departments and schools separately; equal keys share a
  rank (1, 2, 2, 4). 排名依据 按时率 (the default, the weekly briefing's rule of old): a unit with
  overdue work never ranks above one without; units with something judged (done or overdue)
  before those with nothing judged yet; then on-time rate (on time ÷ judged), then completion
  rate (已销号 ÷ due). 排名依据 得分: by score, then as 按时率.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlmodel import Session, select

from tracker.errors import JunhengError
from tracker.appraisal.queries import escalation_counts, event_counts, task_counts
from tracker.calendar import WorkingDayCalendar, active_calendar
from tracker.clock import local_date, zone
from tracker.db import utcnow
from tracker.events.service import record_event
from tracker.events.types import EventType
from tracker.org.models import Campaign, Department, School
from tracker.org.service import UnknownName, find_department, plan_of
from tracker.plans import AppraisalRule, UnitKind
from tracker.tasks.models import TaskStatus

COUNTED_EVENTS = (EventType.task_returned.value, EventType.task_extension_requested.value,
                  EventType.task_extension_approved.value)
NOTICE_KINDS = ("表扬", "批评")
REASON_MAX = 500


class AppraisalError(JunhengError, ValueError):
    """A period or a 通报 that cannot be made (Chinese message)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class UnitAppraisal:
    """One unit's 考核 row."""

    kind: str  # department | school
    unit_id: int
    name: str
    short_name: str
    due: int = 0
    on_time: int = 0
    late: int = 0  # done after the due date
    overdue: int = 0  # still with the unit past the due date
    verified: int = 0  # 已销号
    returned: int = 0
    extensions_requested: int = 0
    extensions_granted: int = 0
    escalations: int = 0  # 督办单
    days_late_total: int = 0
    days_late_count: int = 0
    score: float | None = None
    rank: int | None = None

    @property
    def judged(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.judged if self.judged else None

    @property
    def completion_rate(self) -> float | None:
        return self.verified / self.due if self.due else None

    @property
    def mean_days_late(self) -> float | None:
        return self.days_late_total / self.days_late_count if self.days_late_count else None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "unit_id": self.unit_id, "name": self.name, "short_name": self.short_name,
                "due": self.due, "on_time": self.on_time, "late": self.late, "overdue": self.overdue,
                "verified": self.verified, "returned": self.returned,
                "extensions_requested": self.extensions_requested, "extensions_granted": self.extensions_granted,
                "escalations": self.escalations, "mean_days_late": self.mean_days_late,
                "on_time_rate": self.on_time_rate, "completion_rate": self.completion_rate,
                "score": self.score, "rank": self.rank}


@dataclass(slots=True)
class Appraisal:
    campaign_code: str
    campaign_name: str
    county: str
    start: dt.date
    end: dt.date
    today: dt.date
    rule: AppraisalRule
    units: list[UnitAppraisal] = field(default_factory=list)

    def departments(self) -> list[UnitAppraisal]:
        return [u for u in self.units if u.kind == "department"]

    def schools(self) -> list[UnitAppraisal]:
        return [u for u in self.units if u.kind == "school"]


# ---------------------------------------------------------------------------------------------
# the rule


def rule_of(campaign: Campaign) -> AppraisalRule:
    """The plan's 考核 rule; the default for a plan stored before the section existed."""
    try:
        return plan_of(campaign).appraisal
    except ValidationError:  # no plan (a campaign built without one) or an unreadable one: the default
        return AppraisalRule()


def score(row: UnitAppraisal, rule: AppraisalRule) -> float:
    value = (rule.full_marks - rule.late_done_points * row.late - rule.overdue_points * row.overdue
             - rule.returned_points * row.returned - rule.escalation_points * row.escalations
             + rule.on_time_points * row.on_time)
    return round(min(max(value, 0.0), rule.full_marks), 1)


def on_time_key(row: UnitAppraisal) -> tuple:
    """排名依据 按时率: overdue work last; something judged before nothing judged; on-time rate,
    then completion rate (the weekly briefing's order since issue 6)."""
    return (row.overdue > 0, row.on_time_rate is None, -(row.on_time_rate or 0.0), -(row.completion_rate or 0.0))


def rank_key(row: UnitAppraisal, rule: AppraisalRule) -> tuple:
    if rule.rank_by == "score":
        return (-(row.score if row.score is not None else score(row, rule)), *on_time_key(row))
    return on_time_key(row)


def rank_units(rows: Sequence[UnitAppraisal], rule: AppraisalRule) -> None:
    """Score every row and rank those with tasks due, departments and schools separately; equal
    keys share a rank (1, 2, 2, 4)."""
    for row in rows:
        row.score = score(row, rule) if row.due else None
        row.rank = None
    for kind in ("department", "school"):
        ranked = sorted((r for r in rows if r.kind == kind and r.due), key=lambda r: rank_key(r, rule))
        previous_key, previous_rank = None, 0
        for position, row in enumerate(ranked, start=1):
            key = rank_key(row, rule)
            row.rank = previous_rank if key == previous_key else position
            previous_key, previous_rank = key, row.rank


# ---------------------------------------------------------------------------------------------
# the figures


def start_of_day(day: dt.date) -> dt.datetime:
    """00:00 Asia/Shanghai of ``day``, in UTC."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone()).astimezone(dt.timezone.utc)


def period_of(campaign: Campaign, start: dt.date | None, end: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    start = start or local_date(campaign.created_at)
    end = end or today
    if end < start:
        raise AppraisalError(f"考核期间有误：开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")
    return start, end


def appraise(session: Session, campaign: Campaign, start: dt.date | None = None, end: dt.date | None = None, *,
             now: dt.datetime | None = None, calendar: WorkingDayCalendar | None = None,
             rule: AppraisalRule | None = None) -> Appraisal:
    """The 考核 table of ``campaign`` for the period (see the module doc): five queries."""
    today = local_date(now or utcnow())
    cal = calendar or active_calendar()
    rule = rule or rule_of(campaign)
    start, end = period_of(campaign, start, end, today)
    since, before = start_of_day(start), start_of_day(end + dt.timedelta(days=1))

    rows: dict[tuple[str, int], UnitAppraisal] = {}
    departments = list(session.exec(select(Department).where(Department.campaign_id == campaign.id)
                                    .order_by(Department.id)))
    for dept in departments:
        if dept.active and UnitKind(dept.kind) is not UnitKind.office:
            rows[("department", dept.id)] = UnitAppraisal("department", dept.id, dept.name, dept.short_name or dept.name)
    by_dept = {d.id: d for d in departments}

    def row_of(department_id: int | None, school_id: int | None) -> UnitAppraisal | None:
        key = ("department", department_id) if department_id is not None else (
            ("school", school_id) if school_id is not None else None)
        if key is None:
            return None
        if key not in rows:
            if key[0] == "department":
                dept = by_dept.get(key[1])
                if dept is None:
                    return None
                rows[key] = UnitAppraisal("department", dept.id, dept.name, dept.short_name or dept.name)
            else:
                rows[key] = UnitAppraisal("school", key[1], "", "")
        return rows[key]

    late_days: dict[tuple[dt.date, dt.date], int] = {}

    def days_late(due: dt.date, done: dt.date) -> int:
        if (due, done) not in late_days:
            late_days[(due, done)] = max(cal.working_days_between(due, done), 0)
        return late_days[(due, done)]

    for c in task_counts(session, campaign.id, start, end, today):
        row = row_of(c.department_id, c.school_id)
        if row is None:
            continue
        row.due += c.n
        if c.status == TaskStatus.verified.value:
            row.verified += c.n
        if c.done:
            if c.late_done is None:
                row.on_time += c.n
            else:
                row.late += c.n
                row.days_late_total += days_late(c.late_due, c.late_done) * c.n
                row.days_late_count += c.n
        elif c.late_due is not None:  # the clock runs and the due date is past
            row.overdue += c.n
            row.days_late_total += days_late(c.late_due, today) * c.n
            row.days_late_count += c.n

    for c in event_counts(session, campaign.id, COUNTED_EVENTS, since, before):
        row = row_of(c.department_id, c.school_id)
        if row is None:
            continue
        if c.what == EventType.task_returned.value:
            row.returned += c.n
        elif c.what == EventType.task_extension_requested.value:
            row.extensions_requested += c.n
        elif c.what == EventType.task_extension_approved.value:
            row.extensions_granted += c.n
    for c in escalation_counts(session, campaign.id, since, before):
        row = row_of(c.department_id, c.school_id)
        if row is not None:
            row.escalations += c.n

    school_ids = [key[1] for key in rows if key[0] == "school"]
    if school_ids:
        for school in session.exec(select(School).where(School.id.in_(school_ids))):
            rows[("school", school.id)].name = rows[("school", school.id)].short_name = school.name

    units = list(rows.values())
    rank_units(units, rule)
    order = {id(u): n for n, u in enumerate(units)}
    units.sort(key=lambda u: (u.kind != "department", u.rank is None, u.rank or 0,
                              order[id(u)] if u.kind == "department" else 0, u.name))
    return Appraisal(campaign_code=campaign.code, campaign_name=campaign.name, county=campaign.county,
                     start=start, end=end, today=today, rule=rule, units=units)


def unit_rows(rows: Iterable[UnitAppraisal], *, department_id: int | None = None,
              school_id: int | None = None) -> list[UnitAppraisal]:
    """A unit's own row (what a department or a school may see of the table)."""
    return [r for r in rows if (r.kind == "department" and department_id is not None and r.unit_id == department_id)
            or (r.kind == "school" and school_id is not None and r.unit_id == school_id)]


# ---------------------------------------------------------------------------------------------
# 通报表扬 / 通报批评


@dataclass(slots=True)
class AppraisalNotice:
    """A 通报 as issued: what the .docx says (notifications renders it)."""

    kind: str  # 表扬 | 批评
    campaign_code: str
    campaign_name: str
    county: str
    issuing_office: str
    issued_on: dt.date
    units: list[str]  # full names, as named
    reason: str
    event_id: int | None = None
    figures: list[UnitAppraisal] = field(default_factory=list)  # the named units' 考核 rows, campaign so far


def find_unit(session: Session, campaign: Campaign, name: str) -> tuple[str, int, str]:
    """A department (name, short name or alias) or a school (name or 学校标识码) of the campaign."""
    wanted = name.strip()
    if not wanted:
        raise AppraisalError("单位名称不能为空")
    try:
        dept = find_department(session, campaign, wanted)
        return ("department", dept.id, dept.name)
    except UnknownName as exc:
        school = session.exec(select(School).where(School.campaign_id == campaign.id,
                                                   (School.name == wanted) | (School.key == wanted))).first()
        if school is None:
            raise AppraisalError(f"没有单位或学校「{wanted[:100]}」：{exc.message}") from None
        return ("school", school.id, school.name)


def issuing_office(campaign: Campaign) -> str:
    office = (campaign.plan or {}).get("office") or {}
    return str(office.get("name") or "领导小组办公室")


def issue_notice(session: Session, campaign: Campaign, kind: str, unit_names: Sequence[str], reason: str, *,
                 actor: str, actor_id: int | None = None, now: dt.datetime | None = None) -> AppraisalNotice:
    """Record a 通报表扬 / 通报批评 naming units (event ``appraisal.notice_issued``) and return what
    its document says. Nothing is recorded when an argument is wrong."""
    kind = (kind or "").strip()
    if kind not in NOTICE_KINDS:
        raise AppraisalError(f"通报类别只能是 表扬 或 批评，现为「{kind[:20]}」")
    reason = (reason or "").strip()
    if not reason:
        raise AppraisalError("请写明通报事由（--reason）")
    if len(reason) > REASON_MAX:
        raise AppraisalError(f"通报事由不超过 {REASON_MAX} 字，现为 {len(reason)} 字")
    if not unit_names:
        raise AppraisalError("请至少指定一个被通报的单位（--unit）")
    units: list[tuple[str, int, str]] = []
    for name in unit_names:
        unit = find_unit(session, campaign, name)
        if unit not in units:
            units.append(unit)
    now = now or utcnow()
    event = record_event(session, type=EventType.appraisal_notice_issued.value, actor=actor, actor_id=actor_id,
                         campaign_id=campaign.id, at=now,
                         payload={"kind": kind, "reason": reason,
                                  "units": [{"kind": k, "id": i, "name": n} for k, i, n in units]})
    table = appraise(session, campaign, now=now)
    wanted = {(k, i) for k, i, _ in units}
    return AppraisalNotice(kind=kind, campaign_code=campaign.code, campaign_name=campaign.name, county=campaign.county,
                           issuing_office=issuing_office(campaign), issued_on=local_date(now),
                           units=[n for _, _, n in units], reason=reason, event_id=event.id,
                           figures=[r for r in table.units if (r.kind, r.unit_id) in wanted])


def parse_day(text: str | None, what: str) -> dt.date | None:
    """A date the user typed (2026-12-01, 2026/12/1, 2026年12月1日); None when left out."""
    if text is None or not str(text).strip():
        return None
    from tracker.plans.fields import parse_date

    try:
        value = parse_date(str(text))
    except ValueError:
        value = None
    if not isinstance(value, dt.date):
        raise AppraisalError(f"{what}「{str(text)[:40]}」不是有效日期，应写作 2026-12-01")
    return value
