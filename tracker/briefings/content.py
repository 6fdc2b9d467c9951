"""What a briefing says: its figures as stored (``Briefing.content`` is ``BriefingData`` as JSON),
computed by tracker.briefings.compute."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from tracker.tasks.models import TaskStatus

STATUS_ORDER = [s.value for s in TaskStatus]


class Figures(BaseModel):
    """Task counts and rates of the campaign or of one unit, as of one moment."""

    total: int = 0  # every task, withdrawn included
    by_status: dict[str, int] = Field(default_factory=lambda: {s: 0 for s in STATUS_ORDER})
    assigned: int = 0  # not withdrawn
    done: int = 0  # 已销号
    in_progress: int = 0  # 已签收 + 办理中 + 已提交
    not_signed: int = 0  # 待签收
    overdue: int = 0
    on_time: int = 0
    late: int = 0
    verified_on_time: int = 0  # verified and on time (lifecycle.on_time is True)
    completion_rate: float | None = None
    on_time_rate: float | None = None


class PhaseOutlook(BaseModel):
    phase_id: int
    code: str
    name: str
    is_review: bool = False
    gate_on: dt.date | None = None
    working_days_to_gate: int | None = None  # from the period's last day; negative when past
    total_tasks: int = 0
    open_tasks: int = 0
    verified_recently: int = 0  # tasks of the phase verified in the pace window
    pace_working_days: int = 0  # working days in the pace window
    pace_per_working_day: float = 0.0
    projected_closed: float | None = None  # at this pace by the gate; None: no pace to project from
    pace_known: bool = True  # False: the campaign is younger than the window and nothing verified yet
    at_risk: bool | None = None  # None: the gate date is not set (以上级通知为准), or no pace yet


class UnitRow(BaseModel):
    kind: str  # department | school
    unit_id: int
    name: str
    short_name: str
    figures: Figures
    rank: int | None = None  # None: no tasks assigned
    score: float | None = None  # 考核得分 by the plan's rule (tracker.appraisal), campaign so far
    light: str | None = None  # 绿 / 黄 / 红; None without a lit task
    # 延期申请 (issue 12 §2) on the unit's tasks up to the cutoff: asked for, and granted
    extensions_requested: int = 0
    extensions_granted: int = 0


class WeekActivity(BaseModel):
    """What happened in the period: tasks (each counted once) verified, submitted … this week."""

    verified: int = 0
    submitted: int = 0
    returned: int = 0
    accepted: int = 0
    new_tasks: int = 0
    new_by_origin: dict[str, int] = Field(default_factory=dict)  # origin → count (every origin)
    escalated_tasks: int = 0  # tasks that got a 督办单 this week
    escalation_notices: int = 0  # 督办单 notices queued (one per recipient)
    escalated_units: list[str] = Field(default_factory=list)


class OverdueRow(BaseModel):
    task_id: int
    title: str
    unit: str
    due_on: dt.date
    days_overdue: int  # working days
    status: str
    reminders: int  # reminders queued for it so far (签收/临期/到期/催办/督办, each occurrence once)
    escalated: bool


class IndicatorRow(BaseModel):
    code: str
    title: str
    stage: str
    stage_name: str
    county_value: float | None = None
    threshold: float | None = None
    county_met: bool | None = None
    cv: float | None = None
    cv_limit: float | None = None
    cv_ok: bool | None = None
    previous_cv: float | None = None
    previous_county_value: float | None = None

    @property
    def cv_change(self) -> float | None:
        if self.cv is None or self.previous_cv is None:
            return None
        return self.cv - self.previous_cv

    @property
    def county_value_change(self) -> float | None:
        if self.county_value is None or self.previous_county_value is None:
            return None
        return self.county_value - self.previous_county_value


class AssessmentRef(BaseModel):
    assessment_id: int
    at: dt.datetime
    ok: bool | None = None


class DeadlineRow(BaseModel):
    task_id: int
    title: str
    unit: str
    due_on: dt.date
    status: str
    light: str | None = None


class MaterialGapRow(BaseModel):
    """A required checklist item without a file, as the briefing lists it before a review."""

    indicator: str
    item_id: str
    title: str
    units: list[str] = Field(default_factory=list)


class MaterialsOutlook(BaseModel):
    """Issue 13 §4: a review is held soon and required materials are still missing."""

    review: str  # its level: 市级 / 省级 / 国家 / 县级督查
    held_on: dt.date
    working_days_left: int
    missing: list[MaterialGapRow] = Field(default_factory=list)


class BriefingData(BaseModel):
    campaign_code: str
    campaign_name: str
    county: str
    issuing_office: str
    iso_week: str
    period_start: dt.date
    period_end: dt.date
    as_of: dt.datetime  # UTC
    as_of_date: dt.date  # the day the figures are as of (Asia/Shanghai)
    partial: bool = False  # the week had not ended when computed
    working_days: int  # in the period
    number: int | None = None  # 期数, set when issued
    issued_on: dt.date | None = None
    overall: Figures
    previous: Figures  # as of the end of the week before
    has_previous_week: bool = True  # the week before is a week of the campaign: changes are meaningful
    phase: PhaseOutlook | None = None
    units: list[UnitRow]
    rank_by: str = "on_time_rate"  # the plan's 考核 排名依据: on_time_rate (按时率) or score (得分)
    overdue_units: list[str]  # names (short) of units with overdue work, most overdue first
    overdue_sentence: str
    week: WeekActivity
    overdue: list[OverdueRow]
    indicators: list[IndicatorRow]
    assessment: AssessmentRef | None = None
    previous_assessment: AssessmentRef | None = None
    next_week_start: dt.date
    next_week_end: dt.date
    next_week: list[DeadlineRow]
    materials: MaterialsOutlook | None = None  # a review near and required materials missing (issue 13 §4)

    @property
    def holiday_week(self) -> bool:
        return self.working_days == 0

    def departments(self) -> list[UnitRow]:
        return [u for u in self.units if u.kind == "department"]

    def schools(self) -> list[UnitRow]:
        return [u for u in self.units if u.kind == "school"]

