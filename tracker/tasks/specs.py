"""What task each shortfall, county-level item and preparatory step of the plan asks for: its
title, measures, units, phase and due date, worked out from the campaign as it stands.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from tracker.assessment.county_inputs import COUNTY_LEVEL
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.assessment.snapshots import shortfall_key
from tracker.org.models import Campaign, Department, Phase, School
from tracker.org.service import UnknownName, assignment_for
from tracker.plans import TOWNSHIPS_PLACEHOLDER, CampaignPlan
from tracker.plans.kinds import PhaseKind, UnitKind
from tracker.schooldata.submissions import SelfCheckError
from tracker.standards import load_standard
from tracker.standards.schema import STAGE_NAMES, Indicator, Judged, Standard
from tracker.tasks.models import TaskOrigin
from tracker.tasks.service import (
    NewTask,
)
from tracker.workdays import add_working_days

# When neither the plan nor any phase gives a date, a task is due this many working days after
# the assessment, and its measures say so (the office sets the real date later).
FALLBACK_WORKING_DAYS = 20


# What to do about a resource indicator, by what its value counts (the formula's first field).
RESOURCE_ACTIONS: dict[str, str] = {
    "qualified_teachers": "通过公开招聘、交流轮岗补充高于规定学历教师",
    "backbone_teachers": "通过县级以上骨干教师评选和交流，补足骨干教师",
    "pe_art_teachers": "招聘或调配体育、音乐、美术专任教师",
    "teaching_area": "改扩建教学及辅助用房，或调整招生片区分流学生",
    "sports_area": "新建、改扩建体育运动场馆，或调整招生片区分流学生",
    "equipment_value": "补充教学仪器设备",
    "multimedia_rooms": "配置网络多媒体教室",
}
# Per-school checks: a short title and what to do, by check kind (see tracker.standards.schema.Check).
CHECK_TITLES: dict[str, str] = {
    "class_size": "班额超标",
    "school_size": "学校规模超标",
    "rooms_per_classes": "音乐、美术专用教室不达标",
}
CHECK_ACTIONS: dict[str, str] = {
    "class_size": "拆分大班额、均衡编班，必要时调整招生片区",
    "school_size": "调整招生片区分流学生，或新建、扩建学校",
    "rooms_per_classes": "改扩建或增配音乐、美术专用教室",
}


@dataclass
class ReconcileContext:
    """What reconciling needs to know about the campaign, looked up once."""

    campaign: Campaign
    standard: Standard
    plan: CampaignPlan | None
    phases: list[Phase]
    schools_by_key: dict[str, School]
    departments: dict[str, Department]  # by full name
    townships: list[Department]
    today: dt.date

    def phase_of_kind(self, *kinds: PhaseKind) -> Phase:
        for kind in kinds:
            for phase in self.phases:
                if PhaseKind(phase.kind) is kind:
                    return phase
        if not self.phases:
            raise SelfCheckError(f"创建工作「{self.campaign.name}」没有任何阶段，无法安排任务")
        return self.phases[0]

    @property
    def latest_gate(self) -> dt.date | None:
        gates = [p.gate_on for p in self.phases if p.gate_on is not None]
        return max(gates) if gates else None

    def indicator(self, code: str) -> Indicator | None:
        try:
            return self.standard.indicator(code)
        except KeyError:
            return None

    def item_title(self, code: str) -> str:
        ind = self.indicator(code)
        if ind is not None:
            return ind.title
        for cond in (*self.standard.application_conditions, *self.standard.vetoes):
            if cond.code == code:
                return cond.title
        return code

    def school_fixable(self, code: str) -> bool:
        if self.plan is not None:
            return code in self.plan.school_fixable
        ind = self.indicator(code)
        return bool(ind and ind.school_can_fix)

    def assignment(self, code: str) -> tuple[dt.date | None, str]:
        """(deadline, measures) of an item in the plan's 分工 table."""
        entry = self.plan.assignments.get(code) if self.plan is not None else None
        return (entry.due_on, entry.measures) if entry is not None else (None, "")

    def department(self, name: str) -> Department | None:
        dept = self.departments.get(name)
        if dept is not None:
            return dept
        if self.plan is not None:
            try:
                return self.departments.get(self.plan.department(name).name)
            except KeyError:
                return None
        return None

    @property
    def office(self) -> Department | None:
        return next((d for d in self.departments.values() if UnitKind(d.kind) is UnitKind.office), None)


def reconcile_context(session: Session, campaign: Campaign, today: dt.date) -> ReconcileContext:
    plan = CampaignPlan.from_stored(campaign.plan) if campaign.plan else None
    phases = list(session.exec(select(Phase).where(Phase.campaign_id == campaign.id)
                               .order_by(Phase.ordinal, Phase.id)))
    schools = list(session.exec(select(School).where(School.campaign_id == campaign.id)))
    departments = list(session.exec(select(Department).where(Department.campaign_id == campaign.id,
                                                             Department.active.is_(True))))
    return ReconcileContext(
        campaign=campaign,
        standard=load_standard(campaign.standard_id),
        plan=plan,
        phases=phases,
        schools_by_key={s.key: s for s in schools},
        departments={d.name: d for d in departments},
        townships=[d for d in departments if UnitKind(d.kind) is UnitKind.township],
        today=today,
    )


def _units(ctx: ReconcileContext, code: str, schools: list[School] | None) -> tuple[Department | None, list[Department]]:
    """The lead unit and the cooperating units of an item, as Department rows.

    "各乡镇" becomes the townships of ``schools`` (the school concerned, or the schools a CV
    names); with ``None`` (a county-wide item) it becomes every township.
    """
    lead: Department | None = None
    coop_names: list[str] = []
    if ctx.plan is not None and code in ctx.plan.assignments:
        targets: list[Any] = [None] if schools is None else (list(schools) or [_NO_TOWNSHIP])
        for target in targets:
            try:
                lead_name, names = assignment_for(ctx.plan, code, target)
            except UnknownName:  # the school's 所在乡镇 is not a township of the plan
                lead_name, names = assignment_for(ctx.plan, code, _NO_TOWNSHIP)
            lead = ctx.department(lead_name)
            coop_names += [n for n in names if n not in coop_names]
    elif ctx.plan is None:
        # a campaign set up without a plan: the first of the standard's units that it has
        ind = ctx.indicator(code)
        for name in (ind.departments if ind is not None else []):
            lead = ctx.department(name)
            if lead is not None:
                break
    if lead is None:
        lead = ctx.office  # nobody named for it (an application condition, say): the office runs it
    cooperating: list[Department] = []
    for name in coop_names:
        dept = ctx.department(name)
        if dept is not None and dept is not lead and dept not in cooperating:
            cooperating.append(dept)
    return lead, cooperating


class _NoTownship:
    """A school without a township: assignment_for then drops "各乡镇"."""

    township = None
    name = ""


_NO_TOWNSHIP = _NoTownship()


def _item_label(ctx: ReconcileContext, code: str, stage: str | None) -> str:
    """"【指标6·初中】", "【申报条件E2】", "【否决事项V1】"."""
    prefix = "指标"
    if any(c.code == code for c in ctx.standard.application_conditions):
        prefix = "申报条件"
    elif any(c.code == code for c in ctx.standard.vetoes):
        prefix = "否决事项"
    stage_text = f"·{STAGE_NAMES.get(stage, stage)}" if stage else ""
    return f"【{prefix}{code}{stage_text}】"


def short_title(title: str, limit: int = 32) -> str:
    """An indicator's title short enough for a task title: up to the first comma when long."""
    title = title.strip()
    if len(title) <= limit:
        return title
    head = re.split(r"[，；,;]", title, maxsplit=1)[0]
    if 6 <= len(head) <= limit:
        return head
    return title[: limit - 1] + "…"


def _sentence(text: str) -> str:
    text = text.strip().rstrip("。；;，,")
    return text + "。" if text else ""


@dataclass
class TaskSpec:
    """Everything ``create_task`` needs for one task."""

    origin: TaskOrigin
    key: str
    title: str
    measures: str
    phase: Phase
    due_on: dt.date
    indicator: str | None
    department: Department | None = None
    responsible_school: School | None = None
    school: School | None = None
    cooperating: list[Department] = field(default_factory=list)


def _due(ctx: ReconcileContext, *candidates: dt.date | None) -> tuple[dt.date, str]:
    """The first known date; else the campaign's latest known gate; else a fallback. The second
    value is a note for the measures when the date is a stand-in."""
    return first_due(ctx.latest_gate, ctx.today, *candidates)


def first_due(latest_gate: dt.date | None, today: dt.date, *candidates: dt.date | None) -> tuple[dt.date, str]:
    for date in candidates:
        if date is not None:
            return date, ""
    latest = latest_gate
    if latest is not None:
        return latest, f"（完成时限未定，暂按创建工作最晚的关口 {latest.isoformat()}，日期确定后由办公室调整）"
    fallback = add_working_days(today, FALLBACK_WORKING_DAYS)
    return fallback, (f"（各阶段关口日期均未定，暂按 {FALLBACK_WORKING_DAYS} 个工作日后的 {fallback.isoformat()}，"
                      "日期确定后由办公室调整）")


@dataclass
class _ShortfallGroup:
    """The shortfalls of one key in one assessment (a school may miss a check in two ways,
    e.g. too few music rooms and too small an art room: one task, both in its measures)."""

    key: str
    records: list[ShortfallRecord]
    details: list[dict[str, Any]]  # the snapshot's JSON of each shortfall (title, school_key, …)

    @property
    def kind(self) -> str:
        return self.records[0].kind

    @property
    def indicator(self) -> str:
        return self.records[0].indicator

    @property
    def stage(self) -> str | None:
        return self.records[0].stage

    @property
    def school_key(self) -> str | None:
        return self.key.split("|")[3] or None


def shortfall_groups(session: Session, snapshot: AssessmentSnapshot) -> dict[str, _ShortfallGroup]:
    records = list(session.exec(select(ShortfallRecord).where(ShortfallRecord.assessment_id == snapshot.id)
                                .order_by(ShortfallRecord.id)))
    details: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in (snapshot.result or {}).get("shortfalls", []):
        details[shortfall_key(item.get("kind", ""), item.get("indicator", ""), item.get("stage"),
                              item.get("school_key"))].append(item)
    groups: dict[str, _ShortfallGroup] = {}
    for record in records:
        group = groups.get(record.key)
        if group is None:
            group = groups[record.key] = _ShortfallGroup(record.key, [], details.get(record.key, []))
        group.records.append(record)
    return groups


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.0f}"


def shortfall_spec(ctx: ReconcileContext, group: _ShortfallGroup) -> TaskSpec:
    code, stage, kind = group.indicator, group.stage, group.kind
    ind = ctx.indicator(code)
    title_text = (group.details[0].get("title") if group.details else None) or ctx.item_title(code)
    school = ctx.schools_by_key.get(group.school_key) if group.school_key else None
    label = _item_label(ctx, code, stage)
    plan_due, plan_measures = ctx.assignment(code)
    texts = list(dict.fromkeys(r.text for r in group.records if r.text))
    what = "；".join(texts)

    if kind == "school_value":
        where = school.name if school else (group.school_key or "")
        title = f"{label}{where} {short_title(title_text)}不达标"
        first = group.records[0]
        unit = ind.unit if ind is not None else ""
        action = plan_measures or (RESOURCE_ACTIONS.get(ind.formula.numerator[0], "") if ind and ind.formula else "")
        measures = f"{what}，{action.strip().rstrip('。')}" if action else what
        measures = _sentence(measures) + f"现值 {_fmt(first.actual)} {unit}，标准 {_fmt(first.required)} {unit}。"
        if not any(r.blocking for r in group.records):
            measures += "该校其余指标已满足每校达标要求，此项不影响该校达标判定，仍应补齐以缩小校际差距。"
    elif kind == "school_check":
        where = school.name if school else (group.school_key or "")
        check_kind = ind.check.kind if ind is not None and ind.check is not None else ""
        title = f"{label}{where} {CHECK_TITLES.get(check_kind) or short_title(title_text) + '不达标'}"
        action = plan_measures or CHECK_ACTIONS.get(check_kind, "")
        # (a shortfall passing under a 2019 allowance says so, and that a construction plan is due, in its text)
        measures = _sentence(f"{what}；{action.strip().rstrip('。')}" if action else what)
    elif kind == "cv":
        title = f"{label}全县 {short_title(title_text)}差异系数超标"
        action = plan_measures or "补齐偏离均值学校的短板，统筹调配资源，缩小校际差距"
        measures = _sentence(what) + _sentence(action)
    else:  # county: a county figure, attestation, condition or veto that fails
        where = "全县"
        title = f"{label}{where} 未达到要求：{short_title(title_text.removeprefix('全县'))}"
        action = plan_measures or "按指标要求整改，并提交佐证材料"
        measures = _sentence(what) + _sentence(action)

    # who: a school fixes what it can itself; otherwise the plan's lead unit
    if kind in ("school_value", "school_check"):
        lead, cooperating = _units(ctx, code, [school] if school else [])
    elif kind == "cv":
        named = [ctx.schools_by_key.get(str(s.get("school_key"))) for d in group.details
                 for s in d.get("schools", [])]
        lead, cooperating = _units(ctx, code, [s for s in named if s is not None])
    else:
        lead, cooperating = _units(ctx, code, None)
    phase = ctx.phase_of_kind(PhaseKind.rectification, PhaseKind.self_check)
    due_on, note = _due(ctx, plan_due, phase.gate_on)
    spec = TaskSpec(TaskOrigin.shortfall, group.key, title, measures + note, phase, due_on, code, school=school)
    if school is not None and kind in ("school_value", "school_check") and ctx.school_fixable(code):
        spec.responsible_school = school
        spec.cooperating = [lead] if lead is not None else []  # the lead unit supports the school
    else:
        if lead is None:
            raise SelfCheckError(f"{label}没有牵头单位，创建工作也没有办公室：请在方案的分工表中写明牵头单位")
        spec.department = lead
        spec.cooperating = cooperating
    return spec


_ATTEST_VERBS = {
    Judged.county_figure: "填报数据并提供佐证材料",
    Judged.attestation: "认定达标情况并提供佐证材料",
    Judged.scored: "自评打分并提供佐证材料",
}


def county_items(ctx: ReconcileContext) -> list[tuple[str, str, str, str]]:
    """(code, title, verb, requirement) of every county-level item the county must attest:
    indicators judged at county level, application conditions, vetoes."""
    items: list[tuple[str, str, str, str]] = []
    for ind in ctx.standard.indicators:
        if ind.judged not in COUNTY_LEVEL:
            continue
        requirement = "；".join(
            f"{t.label or ind.title} {t.op.replace('>=', '≥').replace('<=', '≤')} {t.value:g}{t.unit}"
            for t in ind.all_thresholds)
        if ind.criteria:
            requirement = "；".join(filter(None, [requirement, *ind.criteria]))
        items.append((ind.code, ind.title, _ATTEST_VERBS[ind.judged], requirement))
    for cond in ctx.standard.application_conditions:
        items.append((cond.code, cond.title, "提供佐证材料", ""))
    for veto in ctx.standard.vetoes:
        items.append((veto.code, veto.title, "自查并出具情况说明", ""))
    return items


def attestation_spec(ctx: ReconcileContext, code: str, title_text: str, verb: str, requirement: str) -> TaskSpec:
    label = _item_label(ctx, code, None)
    plan_due, plan_measures = ctx.assignment(code)
    lead, cooperating = _units(ctx, code, None)
    if lead is None:
        raise SelfCheckError(f"{label}没有牵头单位，创建工作也没有办公室：请在方案的分工表中写明牵头单位")
    phase = ctx.phase_of_kind(PhaseKind.self_check)
    due_on, note = _due(ctx, phase.gate_on, plan_due)
    measures = _sentence(f"要求：{requirement}") if requirement else ""
    measures += _sentence(plan_measures) if plan_measures else ""
    measures += "整理佐证材料，汇编成册，报领导小组办公室审核。" + note
    return TaskSpec(TaskOrigin.attestation, f"attest|{code}", f"{label}{short_title(title_text)}：{verb}",
                     measures, phase, due_on, code, department=lead, cooperating=cooperating)


def plan_specs(ctx: ReconcileContext) -> list[TaskSpec]:
    if ctx.plan is None:
        return []
    specs = []
    phases = {p.code: p for p in ctx.phases}
    for item in ctx.plan.preparatory_tasks:
        phase = phases.get(item.phase or "") or ctx.phase_of_kind(PhaseKind.self_check)
        lead = ctx.department(item.lead)
        if lead is None:
            raise SelfCheckError(f"准备工作 {item.code}「{item.title}」的牵头单位「{item.lead}」不在创建工作中，"
                                 "请重新运行 junheng campaign init")
        cooperating: list[Department] = []
        for name in item.cooperating:
            for dept in (ctx.townships if name == TOWNSHIPS_PLACEHOLDER else [ctx.department(name)]):
                if dept is not None and dept is not lead and dept not in cooperating:
                    cooperating.append(dept)
        specs.append(TaskSpec(TaskOrigin.plan, f"plan|{item.code}", item.title, item.measures, phase,
                               item.due_on, None, department=lead, cooperating=cooperating))
    return specs


def new_task(spec: TaskSpec, snapshot: AssessmentSnapshot, shortfall: ShortfallRecord | None = None) -> NewTask:
    return NewTask(
        phase=spec.phase, title=spec.title, measures=spec.measures, origin=spec.origin, origin_key=spec.key,
        due_on=spec.due_on, department=spec.department, responsible_school=spec.responsible_school,
        school=spec.school, indicator=spec.indicator, cooperating=spec.cooperating, shortfall=shortfall,
        event_details={"assessment_id": snapshot.id})


