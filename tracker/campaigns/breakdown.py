"""The 任务分解表 a county formally issues (shaped like seed 002's appendix 2).

One row per indicator of the standard, grouped by area: 序号, 指标 (with its requirement), 现状
(达标/不达标 with the county figures and difference coefficients of the latest assessment),
措施 (the plan's measures and the open tasks), 完成时限, 牵头单位, 配合单位, 分管领导 (the lead
unit's supervisor in the plan: ``Department.supervisor_id``), 任务编号 (every task the row stands
for). Then the application conditions and the vetoes, a row each, and last every task no row of
an indicator holds (the plan's preparatory tasks, review findings without an indicator, tasks the
office assigned), a row each: every task not withdrawn appears in exactly one row.
``breakdown_table`` gathers the rows; ``write_breakdown_xlsx`` and ``write_breakdown_docx``
lay them out for print (A4 landscape).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.assessment.shortfalls import distinct_digits
from tracker.clock import local_date
from tracker.gaps.queries import latest_gap_plan, planned_for_indicator
from tracker.org.models import Campaign, Department, Person, School
from tracker.plans import CampaignPlan
from tracker.schooldata.models import DataSubmission
from tracker.standards import load_standard
from tracker.standards.schema import STAGE_NAMES, STAGES, Indicator, Judged, Standard
from tracker.tasks.models import Task, TaskCooperator, TaskOrigin, TaskStatus

HEADERS = ("序号", "指标", "现状", "措施", "完成时限", "牵头单位", "配合单位", "分管领导", "任务编号")
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADER_FONT = "黑体"
_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
SHOWN_SCHOOLS = 12  # a 不达标 cell names this many schools, then "等 N 所"
SHOWN_TASKS = 20  # a 措施 cell lists this many schools' tasks, then "等 N 项"


@dataclass
class BreakdownRow:
    seq: int
    code: str
    indicator: str  # the indicator with its requirement
    status: str  # 现状
    measures: str  # 措施
    deadline: str  # 完成时限
    lead: str  # 牵头单位
    cooperating: str  # 配合单位
    supervisor: str = ""  # 分管领导 of the lead unit
    task_ids: list[int] = field(default_factory=list)  # the tasks (not withdrawn) this row stands for

    def cells(self) -> tuple[str, ...]:
        return (str(self.seq), self.indicator, self.status, self.measures, self.deadline, self.lead, self.cooperating,
                self.supervisor, task_numbers(self.task_ids))


def task_numbers(ids: list[int]) -> str:
    """Task numbers as people cite them, runs shortened: 「#3、#7–#12」 (— when none)."""
    ordered = sorted(set(ids))
    runs: list[list[int]] = []
    for number in ordered:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    parts = [f"#{a}" if a == b else (f"#{a}、#{b}" if b == a + 1 else f"#{a}–#{b}") for a, b in runs]
    return "、".join(parts) or "—"


def parse_task_numbers(text: str) -> list[int]:
    """The numbers ``task_numbers`` wrote (for reading a table back)."""
    out: list[int] = []
    for part in (text or "").split("、"):
        part = part.strip()
        if not part.startswith("#"):
            continue
        if "–" in part:
            a, b = (int(x.lstrip("#")) for x in part.split("–"))
            out.extend(range(a, b + 1))
        else:
            out.append(int(part[1:]))
    return out


@dataclass
class BreakdownSection:
    title: str  # e.g. "一、资源配置"
    note: str  # the area's overall requirement, e.g. "15 项指标均要达到要求"
    rows: list[BreakdownRow] = field(default_factory=list)


@dataclass
class Breakdown:
    title: str
    subtitle: str
    sections: list[BreakdownSection]

    @property
    def rows(self) -> list[BreakdownRow]:
        return [r for s in self.sections for r in s.rows]

    @property
    def task_ids(self) -> list[int]:
        return [i for r in self.rows for i in r.task_ids]


_CHINESE_NUMBERS = "一二三四五六七八九十"


def _chinese_number(index: int) -> str:
    """一, 二 … 十 for the 0-based ``index``, then digits."""
    return _CHINESE_NUMBERS[index] if index < len(_CHINESE_NUMBERS) else str(index + 1)


def _date_text(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _requirement(standard: Standard, ind: Indicator) -> str:
    if ind.judged is Judged.per_school_value:
        parts = [f"{STAGE_NAMES[s]} ≥ {ind.thresholds[s]:g}" for s in STAGES if s in ind.thresholds]
        return "，".join(parts) + (f" {ind.unit}" if ind.unit else "")
    if ind.all_thresholds:
        return "；".join(f"{t.label + ' ' if t.label and len(ind.all_thresholds) > 1 else ''}"
                        f"{_OPS[t.op]} {t.value:g}{t.unit}" for t in ind.all_thresholds)
    return ""


def _resource_status(standard: Standard, ind: Indicator, result: dict, shortfalls: list[ShortfallRecord],
                     schools: dict[int, School]) -> str:
    parts: list[str] = []
    failing = False
    unknown = False
    for stage in STAGES:
        data = (result.get("stages", {}).get(stage) or {}).get("indicators", {}).get(ind.code)
        if not data or not data.get("sections"):
            continue
        cv, cv_ok, limit = data.get("cv"), data.get("cv_ok"), data.get("cv_limit")
        text = f"{STAGE_NAMES[stage]} {_num(data.get('county_value'))}"
        if cv is None:
            text += "，差异系数无法计算（不足 2 所学校）"
            unknown = True
        else:
            # as many decimals as it takes not to print as the limit (0.4504, not "0.450（≤0.45）超标")
            text += f"，差异系数 {distinct_digits(cv, limit)}（≤{limit:.2f}）{'达标' if cv_ok else '超标'}"
            failing |= not cv_ok
        below = int(data.get("schools_below") or 0)
        if below:
            text += f"，{below} 所学校低于标准"
            failing = True
        parts.append(text)
    if not parts:
        return "无该指标的学校数据"
    verdict = "不达标" if failing else ("待定" if unknown else "达标")
    text = f"{verdict}。" + "；".join(parts) + "。"
    names = _school_names(shortfalls, schools)
    if names:
        text += f"未达标学校：{names}。"
    return text


def _school_names(shortfalls: list[ShortfallRecord], schools: dict[int, School]) -> str:
    names: list[str] = []
    for s in shortfalls:
        if s.school_id is None:
            continue
        school = schools.get(s.school_id)
        stage = f"（{STAGE_NAMES.get(s.stage, s.stage)}）" if s.stage else ""
        name = (school.name if school else str(s.school_id)) + stage
        if name not in names:
            names.append(name)
    if len(names) > SHOWN_SCHOOLS:
        return "、".join(names[:SHOWN_SCHOOLS]) + f"等 {len(names)} 所"
    return "、".join(names)


def _check_status(ind: Indicator, result: dict, shortfalls: list[ShortfallRecord], schools: dict[int, School]) -> str:
    item = next((c for c in result.get("checks", []) if c.get("indicator") == ind.code), None)
    if item is None:
        return "未检查（学校数据缺少相应列）"
    status = item.get("status")
    verdict = {"pass": "达标", "fail": "不达标"}.get(status, "待核实")
    text = f"{verdict}。检查 {item.get('schools_checked', 0)} 所学校"
    if item.get("schools_failed"):
        text += f"，{item['schools_failed']} 所不达标"
    if item.get("schools_unknown"):
        text += f"，{len(item['schools_unknown'])} 所缺少数据"
    text += "。"
    names = _school_names([s for s in shortfalls if s.blocking], schools)
    if names:
        text += f"不达标学校：{names}。"
    relaxed = [s for s in shortfalls if not s.blocking]
    if relaxed:
        text += f"另有 {len({s.school_id for s in relaxed})} 所学校按 2019 年放宽条件暂达标，需制定建设规划。"
    return text


def _county_status(ind_code: str, result: dict) -> str:
    item = next((c for c in result.get("county", []) if c.get("code") == ind_code), None)
    if item is None:
        scoring = result.get("scoring") or {}
        scored = next((i for i in scoring.get("items", []) if i.get("code") == ind_code), None)
        if scored is None:
            return "—"
        if scored.get("points") is None:
            return "待自评打分"
        verdict = "达标" if scored.get("ok") else "不达标"
        return f"{verdict}。得分 {scored['points']:g} 分（满分 {scored['max_points']:g} 分，须 ≥ {scored['min_points']:g} 分）。"
    status = item.get("status")
    if status == "unknown":
        return "待填报。"
    verdict = "达标" if status == "pass" else "不达标"
    detail = item.get("detail") or ""
    return f"{verdict}。{detail}。" if detail and detail != "按认定结果" else f"{verdict}。"


def _sentence(text: str) -> str:
    text = text.strip().rstrip("。；;，,")
    return text + "。" if text else ""


def _unit_label(plan: CampaignPlan | None, name: str) -> str:
    if plan is None or name == "各乡镇":
        return name
    try:
        dept = plan.department(name)
    except KeyError:
        return name
    return dept.short_name or dept.name


def _measures(plan_measures: str, tasks: list[Task], shortfalls_by_id: dict[int, ShortfallRecord],
              schools: dict[int, School]) -> str:
    lines: list[str] = []
    if plan_measures:
        lines.append(plan_measures.strip())
    open_tasks = [t for t in tasks if TaskStatus(t.status) not in (TaskStatus.verified, TaskStatus.withdrawn)
                  and t.resolved_by_assessment_id is None]
    county_level = [t for t in open_tasks if TaskOrigin(t.origin) is TaskOrigin.shortfall and t.school_id is None]
    for task in county_level:
        record = shortfalls_by_id.get(task.shortfall_id) if task.shortfall_id else None
        lines.append(_sentence(record.text) if record is not None and record.text else task.measures.strip())
    per_school = [t for t in open_tasks if TaskOrigin(t.origin) is TaskOrigin.shortfall and t.school_id is not None]
    if per_school:
        items = []
        for task in per_school:
            record = shortfalls_by_id.get(task.shortfall_id) if task.shortfall_id else None
            school = schools.get(task.school_id)  # type: ignore[arg-type]
            stage = f"（{STAGE_NAMES.get(record.stage, record.stage)}）" if record and record.stage else ""
            what = record.text.split("；")[0] if record and record.text else task.title
            items.append(f"{school.name if school else ''}{stage}{what}")
        shown = "；".join(items[:SHOWN_TASKS]) + (f"……等 {len(items)} 项（详见任务清单）" if len(items) > SHOWN_TASKS else "")
        lines.append(f"一校一案整改 {len(per_school)} 项：{shown}。")
    findings = [t for t in open_tasks if TaskOrigin(t.origin) is TaskOrigin.finding]
    for task in findings:
        lines.append(f"整改评估反馈问题：{task.title}")
    if not lines:
        attest = [t for t in tasks if TaskOrigin(t.origin) is TaskOrigin.attestation]
        lines.append(attest[0].measures.strip() if attest else "保持达标，完善佐证材料。")
    return "\n".join(lines)


def _area_note(standard: Standard, area_code: str, count: int) -> str:
    if area_code == "A" and standard.resource_indicators:
        rule = standard.per_school_rule
        limits = "，".join(f"{STAGE_NAMES[s]}均小于或等于 {standard.cv_limit(s):.2f}" for s in STAGES if s in standard.stages)
        if rule.min_met >= len(rule.indicators):
            head = "每所学校各项指标均达到要求"
        else:
            head = f"每所学校至少 {rule.min_met} 项指标达到要求，余项不低于要求的 {rule.rest_min_ratio:.0%}" \
                if rule.rest_min_ratio else f"每所学校至少 {rule.min_met} 项指标达到要求"
        return f"{head}；所有指标校际差异系数，{limits}。"
    return f"{count} 项指标均要达到要求。"


ORIGIN_LABELS = {TaskOrigin.plan: "方案准备工作", TaskOrigin.finding: "评估反馈问题整改",
                 TaskOrigin.shortfall: "短板整改", TaskOrigin.attestation: "佐证认定"}
OTHER_LABEL = "交办事项"  # a task the office assigned (any other origin)


class _Units:
    """The campaign's units and 分管领导, by id and by the names a plan uses."""

    def __init__(self, session: Session, campaign: Campaign):
        self.departments = {d.id: d for d in session.exec(select(Department).where(Department.campaign_id == campaign.id))}
        self.people = {p.id: p for p in session.exec(select(Person).where(Person.campaign_id == campaign.id))}
        self.by_name: dict[str, Department] = {}
        for dept in self.departments.values():
            self.by_name.setdefault(dept.name, dept)
            if dept.short_name:
                self.by_name.setdefault(dept.short_name, dept)

    def supervisor(self, dept: Department | None) -> str:
        person = self.people.get(dept.supervisor_id) if dept is not None and dept.supervisor_id else None
        if person is None:
            return ""
        return f"{person.name}（{person.title}）" if person.title else person.name

    def supervisor_of_name(self, name: str) -> str:
        if name == "各乡镇":
            return "各乡镇分管领导"
        return self.supervisor(self.by_name.get(name))

    def label(self, dept: Department | None) -> str:
        return (dept.short_name or dept.name) if dept is not None else ""


def _status_text(task: Task) -> str:
    status = TaskStatus(task.status)
    if status in (TaskStatus.verified, TaskStatus.submitted, TaskStatus.assigned) or not task.progress:
        return status.value
    return f"{status.value}，进度 {task.progress}%"


def _task_row(seq: int, task: Task, units: _Units, schools: dict[int, School], cooperating: list[int]) -> BreakdownRow:
    """A row of its own for a task no indicator's row holds."""
    try:
        kind = ORIGIN_LABELS.get(TaskOrigin(task.origin), OTHER_LABEL)
    except ValueError:
        kind = OTHER_LABEL
    dept = units.departments.get(task.department_id) if task.department_id else None
    school = schools.get(task.responsible_school_id) if task.responsible_school_id else None
    lead = units.label(dept) or (school.name if school else "")
    return BreakdownRow(
        seq=seq, code=task.indicator or "", indicator=f"{kind}：{task.title}", status=_status_text(task),
        measures=task.measures.strip() or "—", deadline=_date_text(task.due_on), lead=lead,
        cooperating="、".join(units.label(units.departments.get(c)) for c in cooperating),
        supervisor=units.supervisor(dept), task_ids=[task.id])


def _with_plan(measures: str, planned: str | None) -> str:
    """The measures, then the stored gap plan's amounts for the indicator (补短板测算), if any."""
    if not planned:
        return measures
    return planned if measures in ("", "—") else f"{measures}\n{planned}"


def breakdown_table(session: Session, campaign: Campaign) -> Breakdown:
    """The 任务分解表's rows from the campaign's plan, its latest assessment and its tasks."""
    standard = load_standard(campaign.standard_id)
    plan = CampaignPlan.from_stored(campaign.plan) if campaign.plan else None
    snapshot = session.exec(select(AssessmentSnapshot).where(AssessmentSnapshot.campaign_id == campaign.id)
                            .order_by(AssessmentSnapshot.id.desc())).first()
    result: dict[str, Any] = snapshot.result if snapshot is not None else {}
    shortfalls: list[ShortfallRecord] = list(session.exec(
        select(ShortfallRecord).where(ShortfallRecord.assessment_id == snapshot.id).order_by(ShortfallRecord.id)
    )) if snapshot is not None else []
    schools = {s.id: s for s in session.exec(select(School).where(School.campaign_id == campaign.id))}
    gap_plan = latest_gap_plan(session, snapshot.id) if snapshot is not None else None  # issue 14
    # every task but the withdrawn ones: each appears in one row
    tasks = list(session.exec(select(Task).where(Task.campaign_id == campaign.id,
                                                 Task.status != TaskStatus.withdrawn.value).order_by(Task.id)))
    units = _Units(session, campaign)
    task_cooperators: dict[int, list[int]] = {}
    for link in session.exec(select(TaskCooperator).join(Task, Task.id == TaskCooperator.task_id)
                             .where(Task.campaign_id == campaign.id).order_by(TaskCooperator.department_id)):
        task_cooperators.setdefault(link.task_id, []).append(link.department_id)
    task_shortfall_ids = [t.shortfall_id for t in tasks if t.shortfall_id]
    shortfalls_by_id = {s.id: s for s in shortfalls}
    missing = [i for i in task_shortfall_ids if i not in shortfalls_by_id]
    if missing:
        shortfalls_by_id |= {s.id: s for s in session.exec(select(ShortfallRecord).where(ShortfallRecord.id.in_(missing)))}

    if snapshot is not None:
        submission = session.get(DataSubmission, snapshot.submission_id)
        when = local_date(snapshot.created_at)
        label = f"「{submission.label}」" if submission is not None and submission.label else ""
        subtitle = (f"现状依据 {_date_text(when)}评估（第 {snapshot.submission_id} 批学校数据{label}）；"
                    f"标准：{standard.title}（{standard.document}）")
    else:
        subtitle = f"尚未评估学校数据，现状待自查后填写；标准：{standard.title}（{standard.document}）"

    sections: list[BreakdownSection] = []
    seq = 0
    for number, area in enumerate(standard.areas):
        indicators = [i for i in standard.indicators if i.area == area.code]
        if not indicators:
            continue
        section = BreakdownSection(
            title=f"{_chinese_number(number)}、{area.title}",
            note=_area_note(standard, area.code, len(indicators)))
        for ind in indicators:
            seq += 1
            own = [s for s in shortfalls if s.indicator == ind.code]
            if not result:
                status = "尚未评估"
            elif ind.judged is Judged.per_school_value:
                status = _resource_status(standard, ind, result, own, schools)
            elif ind.judged is Judged.per_school_check:
                status = _check_status(ind, result, own, schools)
            else:
                status = _county_status(ind.code, result)
            entry = plan.assignments.get(ind.code) if plan is not None else None
            own_tasks = [t for t in tasks if t.indicator == ind.code]
            if entry is not None:
                lead, cooperating = entry.lead, list(entry.cooperating)
                due = entry.due_on
            else:
                lead = ind.departments[0] if ind.departments else ""
                cooperating = list(ind.departments[1:])
                due = None
            if due is None:
                open_due = [t.due_on for t in own_tasks
                            if TaskStatus(t.status) not in (TaskStatus.verified, TaskStatus.withdrawn)]
                due = max(open_due) if open_due else None
            requirement = _requirement(standard, ind)
            section.rows.append(BreakdownRow(
                seq=seq,
                code=ind.code,
                indicator=f"{ind.code}. {ind.title}" + (f"（{requirement}）" if requirement else ""),
                status=status,
                measures=_with_plan(_measures(entry.measures if entry else "", own_tasks, shortfalls_by_id, schools),
                                    planned_for_indicator(gap_plan.result, ind.code) if gap_plan else None),
                deadline=_date_text(due),
                lead=_unit_label(plan, lead),
                cooperating="、".join(_unit_label(plan, c) for c in cooperating),
                supervisor=units.supervisor_of_name(lead),
                task_ids=[t.id for t in own_tasks],
            ))
        sections.append(section)

    # the application conditions and the vetoes: a row each (their tasks are attestations)
    for title, items, note in (("申报条件", standard.application_conditions, "申报前均须具备"),
                               ("一票否决事项", standard.vetoes, "均不得发生")):
        if not items:
            continue
        section = BreakdownSection(title=f"{_chinese_number(len(sections))}、{title}",
                                   note=f"{len(items)} 项{note}")
        for item in items:
            seq += 1
            own_tasks = [t for t in tasks if t.indicator == item.code]
            entry = plan.assignments.get(item.code) if plan is not None else None
            if entry is not None:
                lead, cooperating, due = entry.lead, list(entry.cooperating), entry.due_on
            else:
                lead = item.departments[0] if item.departments else ""
                cooperating, due = list(item.departments[1:]), None
            if due is None:
                open_due = [t.due_on for t in own_tasks
                            if TaskStatus(t.status) not in (TaskStatus.verified, TaskStatus.withdrawn)]
                due = max(open_due) if open_due else None
            status = _county_status(item.code, result) if result else "尚未评估"
            section.rows.append(BreakdownRow(
                seq=seq, code=item.code, indicator=f"{item.code}. {item.title}",
                status="待核实。" if status == "—" else status,
                measures=_measures(entry.measures if entry else "", own_tasks, shortfalls_by_id, schools),
                deadline=_date_text(due), lead=_unit_label(plan, lead),
                cooperating="、".join(_unit_label(plan, c) for c in cooperating),
                supervisor=units.supervisor_of_name(lead), task_ids=[t.id for t in own_tasks]))
        sections.append(section)

    # every other task, a row each: preparatory steps, findings without an indicator, the office's own
    held = {i for s in sections for r in s.rows for i in r.task_ids}
    others = [t for t in tasks if t.id not in held]
    if others:
        section = BreakdownSection(title=f"{_chinese_number(len(sections))}、其他工作任务",
                                   note=f"方案准备工作、评估反馈问题整改和交办事项共 {len(others)} 项")
        for task in others:
            seq += 1
            section.rows.append(_task_row(seq, task, units, schools, task_cooperators.get(task.id, [])))
        sections.append(section)
    return Breakdown(title=f"{campaign.county}义务教育优质均衡发展创建任务分解表", subtitle=subtitle,
                     sections=sections)


# The print layouts live in breakdown_files; imported here last so `breakdown.write_breakdown_xlsx`
# keeps working for every caller.
from tracker.campaigns.breakdown_files import write_breakdown_docx, write_breakdown_xlsx  # noqa: E402

__all__ = ["Breakdown", "BreakdownRow", "BreakdownSection", "HEADERS", "breakdown_table", "parse_task_numbers",
           "task_numbers", "write_breakdown_docx", "write_breakdown_xlsx"]
