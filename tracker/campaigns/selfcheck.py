"""Self-check (自查自评) and re-assessment: a school sheet in, assessed, the campaign's tasks out.

Three steps, each a plain function taking a session and never committing, so the Prefect flow
can run them as separate tasks and the CLI can run them in one transaction:

1. ``import_submission`` stores a sheet as a dated data submission (填报批次) with one row per
   school, and keeps the campaign's School rows up to date;
2. ``assess_submission`` assesses a stored submission with the campaign's standard and county
   inputs and stores the result and every shortfall, each under a key that stays the same from
   one assessment to the next (``kind|indicator|stage|school_key``);
3. ``reconcile_tasks`` brings the tasks in line with an assessment: one task per shortfall key,
   an attestation task per county-level item, and the plan's preparatory tasks. It is
   idempotent: a key seen before keeps its task; a key gone marks its task resolved by data
   (the office then 销号); a key back again reopens its task.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, select

from tracker.assessment.engine import assess
from tracker.assessment.inputs import number, verdict_word
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.assessment.report import to_json
from tracker.campaigns.models import Campaign, Department, Phase, PhaseKind, School, UnitKind
from tracker.campaigns.plan import TOWNSHIPS_PLACEHOLDER, CampaignPlan
from tracker.campaigns.service import UnknownName, assignment_for, township_department, township_lookup
from tracker.db import utcnow
from tracker.events.models import Event
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.schooldata.models import CountyInput, DataSubmission, SchoolDataRow
from tracker.schooldata.records import SchoolRecord
from tracker.schooldata.sheet import read_school_sheet
from tracker.standards import load_standard
from tracker.standards.schema import STAGE_NAMES, Indicator, Judged, Standard
from tracker.tasks import lifecycle
from tracker.tasks.models import Task, TaskOrigin, TaskStatus
from tracker.tasks.service import (
    NewTask,
    RedatedTask,
    WorkingDue,
    change_due_date,
    create_tasks,
    redate_working_days,
    working_due,
)
from tracker.workdays import add_working_days

# A county figure with several parts (indicator 18: 10 % and 20 %) is entered per part; its
# CountyInput.indicator is then "<code>:<key>", e.g. "18:backbone_share".
COUNTY_INPUT_KEY_SEPARATOR = ":"

# When neither the plan nor any phase gives a date, a task is due this many working days after
# the assessment, and its measures say so (the office sets the real date later).
FALLBACK_WORKING_DAYS = 20

COUNTY_LEVEL = (Judged.county_figure, Judged.attestation, Judged.scored)

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


class SelfCheckError(ValueError):
    """A self-check that cannot run as asked (Chinese message)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------
# 1. Import


def json_safe(value: Any) -> Any:
    """Extra columns are kept verbatim, but the store holds JSON: dates become ISO text."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def latest_submission(session: Session, campaign: Campaign) -> DataSubmission | None:
    """The newest county data: a school's own row waiting for the office (``school_id`` set)
    and a returned sheet are not county data (issue 5)."""
    return session.exec(
        select(DataSubmission).where(DataSubmission.campaign_id == campaign.id,
                                     DataSubmission.school_id.is_(None), DataSubmission.status != "returned")
        .order_by(DataSubmission.submitted_at.desc(), DataSubmission.id.desc())
    ).first()


def upsert_school(session: Session, campaign: Campaign, record: SchoolRecord,
                  plan: CampaignPlan | None = None) -> School:
    """The campaign's School row for a sheet's record, created or brought up to date. ``plan``
    (the campaign's, read once by a caller importing many) gives the school's contact."""
    school = session.exec(
        select(School).where(School.campaign_id == campaign.id, School.key == record.key)
    ).first()
    township = township_department(session, campaign, record.township)
    if plan is None and campaign.plan:
        plan = CampaignPlan.from_stored(campaign.plan)
    school = _school_of(campaign, record, school, township, plan)
    session.add(school)
    return school


def upsert_schools(session: Session, campaign: Campaign, records: list[SchoolRecord],
                   plan: CampaignPlan | None = None) -> list[School]:
    """``upsert_school`` for a whole sheet, by key, in a few statements however many schools:
    the campaign's schools and units read once; the new ones inserted and the changed ones
    updated together at the next flush."""
    schools = {s.key: s for s in session.exec(select(School).where(School.campaign_id == campaign.id))}
    townships = township_lookup(session, campaign)
    if plan is None and campaign.plan:
        plan = CampaignPlan.from_stored(campaign.plan)
    new: dict[str, School] = {}
    for record in records:
        known = schools.get(record.key)
        school = _school_of(campaign, record, known, townships(record.township), plan)
        if known is None:
            schools[record.key] = new[record.key] = school
    # the new ones in one batch (executemany); the changed ones are updated at the next flush
    if new:
        columns = ("campaign_id", "key", "name", "school_type", "township", "township_department_id",
                   "contact_name", "contact_email")
        session.execute(insert(School).execution_options(render_nulls=True),
                        [{c: getattr(s, c) for c in columns} for s in new.values()])
        stored = {s.key: s for s in session.exec(select(School).where(School.campaign_id == campaign.id,
                                                                      School.key.in_(list(new))))}
        schools.update(stored)
    return [schools[record.key] for record in records]


def _school_of(campaign: Campaign, record: SchoolRecord, school: School | None, township: Department | None,
               plan: CampaignPlan | None) -> School:
    """``school`` (None: a new School row) brought in line with the sheet's ``record``."""
    if school is None:
        school = School(campaign_id=campaign.id, key=record.key, name=record.name,
                        school_type=record.school_type)
    school.name = record.name
    school.school_type = record.school_type
    school.township = record.township
    school.township_department_id = township.id if township is not None else None
    # The contact receives the notices of the school's own tasks. The plan's 学校联系人 comes first:
    # the office chose that person, who may also act on the tasks (matched by e-mail). Otherwise
    # the sheet's 联系人/联系邮箱; a blank 联系邮箱 keeps the contact stored (an older sheet's).
    contact = plan.school_contact(record.key, record.name) if plan is not None else None
    if contact is not None:
        school.contact_name, school.contact_email = contact.name, contact.email
    elif record.contact_email:
        school.contact_name, school.contact_email = record.contact_name or "", record.contact_email
    return school


def import_submission(
    session: Session, campaign: Campaign, path: str | Path, actor: str = SYSTEM_ACTOR, label: str = "",
    *, assessed_by_caller: bool = False,
) -> DataSubmission:
    """Store a school sheet as a new data submission of the campaign.

    All or nothing: ``read_school_sheet`` checks the whole sheet first and its ``SheetError``
    (every problem, by row and column) propagates before anything is added to the session.
    Writes one ``submission.imported`` event. A caller that assesses the submission itself (the
    self-check, ``junheng reassess FILE``) passes ``assessed_by_caller``: the event is then written
    already dispatched, so the dispatcher starts no second re-assessment for it.
    """
    path = Path(path)
    records = read_school_sheet(path)
    sha256 = file_sha256(path)
    submission = DataSubmission(
        campaign_id=campaign.id,
        label=label or "",
        source_filename=path.name,
        sha256=sha256,
        submitted_by=actor,
        school_count=len(records),
    )
    session.add(submission)
    session.flush()
    plan = CampaignPlan.from_stored(campaign.plan) if campaign.plan else None
    if records:
        session.execute(insert(SchoolDataRow).execution_options(render_nulls=True), [
            {"submission_id": submission.id, "school_key": record.key, "row": record.row,
             "data": json_safe(dataclasses.asdict(record))} for record in records])
    upsert_schools(session, campaign, records, plan)
    session.flush()
    event = record_event(
        session,
        type="submission.imported",
        actor=actor,
        campaign_id=campaign.id,
        payload={"submission_id": submission.id, "label": submission.label, "filename": path.name,
                 "sha256": sha256, "schools": len(records), "assessed_by_caller": assessed_by_caller},
    )
    if assessed_by_caller:
        event.dispatched_at = event.at
        session.add(event)
    return submission


_RECORD_FIELDS = {f.name for f in dataclasses.fields(SchoolRecord)}


def records_of(session: Session, submission: DataSubmission) -> list[SchoolRecord]:
    """The submission's schools rebuilt from the stored rows, so an assessment can be redone."""
    rows = session.exec(
        select(SchoolDataRow).where(SchoolDataRow.submission_id == submission.id).order_by(SchoolDataRow.row)
    )
    return [SchoolRecord(**{k: v for k, v in row.data.items() if k in _RECORD_FIELDS}) for row in rows]


# ---------------------------------------------------------------------------------------------
# 2. Assess


def county_inputs_of(session: Session, campaign: Campaign) -> dict[str, object]:
    """The latest entry per county-level item, as ``assess`` takes them: a figure, a verdict
    ("pass"/"fail"), or for a figure of several parts ``{key: figure}``."""
    rows = session.exec(
        select(CountyInput).where(CountyInput.campaign_id == campaign.id)
        .order_by(CountyInput.entered_at, CountyInput.id)
    )
    latest: dict[str, CountyInput] = {}
    for row in rows:
        latest[row.indicator] = row  # later rows win
    inputs: dict[str, object] = {}
    for name, row in latest.items():
        value: object = row.status if row.status is not None else row.value
        if value is None:
            continue
        code, sep, key = name.partition(COUNTY_INPUT_KEY_SEPARATOR)
        if sep:
            parts = inputs.setdefault(code, {})
            if isinstance(parts, dict):
                parts[key] = value
        else:
            inputs[code] = value
    return inputs


_VETO_WORDS = {"未发生": "pass", "不存在": "pass", "无": "pass", "发生": "fail", "存在": "fail", "有": "fail"}


def set_county_input(session: Session, campaign: Campaign, code: str, value: str, actor: str,
                     note: str = "") -> CountyInput:
    """Enter a county-level figure or verdict (areas B–E, application conditions, vetoes).

    ``code`` is an indicator, condition or veto code; a figure of several parts is entered per
    part as ``code:key`` (e.g. ``18:backbone_share``). ``value`` is a number ("96.5", "96.5%"),
    or 通过/不通过 (pass/fail; for a veto also 未发生/发生). The newest entry counts; earlier
    ones are kept. Writes one ``county_input.set`` event. Raises ``SelfCheckError`` (Chinese).
    """
    standard = load_standard(campaign.standard_id)
    code = (code or "").strip()
    base, sep, key = code.partition(COUNTY_INPUT_KEY_SEPARATOR)
    text = (value or "").strip()
    status = verdict_word(text)
    figure = number(text)
    conditions = {c.code: c for c in standard.application_conditions}
    vetoes = {c.code: c for c in standard.vetoes}
    try:
        ind: Indicator | None = standard.indicator(base)
    except KeyError:
        ind = None
    if ind is None and base not in conditions and base not in vetoes:
        raise SelfCheckError(f"未知的指标代码「{base}」（标准 {standard.id} 中没有）")
    if ind is not None:
        if ind.judged not in COUNTY_LEVEL:
            raise SelfCheckError(f"指标 {base}（{ind.title}）由学校数据计算，不能直接录入")
        keys = [t.key or ind.code for t in ind.all_thresholds]
        if len(keys) > 1 and not sep and status is None:
            raise SelfCheckError(f"指标 {base}（{ind.title}）有 {len(keys)} 个数值，请分别录入："
                                 + "、".join(f"{base}{COUNTY_INPUT_KEY_SEPARATOR}{k}" for k in keys))
        if sep and key not in keys:
            raise SelfCheckError(f"指标 {base}（{ind.title}）没有名为「{key}」的数值（应为 {'、'.join(keys)}）")
        if ind.judged is Judged.attestation and status is None:
            raise SelfCheckError(f"指标 {base}（{ind.title}）是认定类指标，录入值应为 通过 或 不通过，现为「{text}」")
        if ind.judged is Judged.scored:
            if figure is None or not 0 <= figure <= (ind.points or 0):
                raise SelfCheckError(f"指标 {base}（{ind.title}）的得分应为 0 到 {ind.points:g} 之间的数，现为「{text}」")
            status = None
        elif status is None and figure is None:
            raise SelfCheckError(f"指标 {base}（{ind.title}）的录入值「{text}」应为数字，或 通过/不通过")
        if status is not None and sep:
            raise SelfCheckError(f"{code} 是一个数值，应录入数字，现为「{text}」")
    else:
        if sep:
            raise SelfCheckError(f"「{base}」没有分项数值，请直接录入 {base}")
        if status is None and base in vetoes:
            status = _VETO_WORDS.get(text)
        if status is None:
            hint = "通过（未发生）或 不通过（发生）" if base in vetoes else "通过 或 不通过"
            raise SelfCheckError(f"「{base}」的录入值应为 {hint}，现为「{text}」")
    entry = CountyInput(campaign_id=campaign.id, indicator=code, value=None if status else figure, status=status,
                        note=(note or "").strip(), entered_by=actor)
    session.add(entry)
    session.flush()
    record_event(session, type="county_input.set", actor=actor, campaign_id=campaign.id,
                 payload={"indicator": code, "value": entry.value, "status": status, "note": entry.note,
                          "county_input_id": entry.id})
    return entry


def shortfall_key(kind: str, indicator: str, stage: str | None, school_key: str | None) -> str:
    return f"{kind}|{indicator}|{stage or ''}|{school_key or ''}"


def _finite(value: Any) -> Any:
    """The store's JSON (PostgreSQL's especially) has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def local_today() -> dt.date:
    return lifecycle.local_date(utcnow())


def assess_submission(
    session: Session, campaign: Campaign, submission: DataSubmission, as_of: dt.date | None = None
) -> AssessmentSnapshot:
    """Assess a stored submission; store the snapshot and its shortfalls. Writes one
    ``assessment.completed`` event. ``AssessmentInputError`` (bad county inputs) propagates."""
    if submission.campaign_id != campaign.id:
        raise SelfCheckError(f"数据批次 #{submission.id} 不属于创建工作「{campaign.name}」")
    if submission.school_id is not None:
        raise SelfCheckError(f"数据批次 #{submission.id} 是一所学校单独报送的本校数据，"
                             f"须经办公室审核、并入全县数据后才能评估")
    standard = load_standard(campaign.standard_id)
    records = records_of(session, submission)
    result = assess(standard, records, county_inputs_of(session, campaign), as_of or local_today())
    snapshot = AssessmentSnapshot(
        campaign_id=campaign.id,
        submission_id=submission.id,
        standard_id=standard.id,
        ok=result.ok,
        result=_finite(to_json(result)),
    )
    session.add(snapshot)
    session.flush()
    schools = {s.key: s.id for s in session.exec(select(School).where(School.campaign_id == campaign.id))}
    # one batch (executemany): reconciling reads them back in order
    rows = [
        dict(
            campaign_id=campaign.id,
            assessment_id=snapshot.id,
            key=shortfall_key(s.kind, s.indicator, s.stage, s.school_key),
            kind=s.kind,
            indicator=s.indicator,
            stage=s.stage,
            school_id=schools.get(s.school_key) if s.school_key else None,
            actual=_finite(s.actual),
            required=_finite(s.required),
            missing=_finite(s.missing),
            unit=s.unit,
            text=s.text,
            blocking=s.blocking,
            departments=list(s.departments),
        ) for s in result.shortfalls]
    if rows:
        session.execute(insert(ShortfallRecord).execution_options(render_nulls=True), rows)
    record_event(
        session,
        type="assessment.completed",
        actor=SYSTEM_ACTOR,
        campaign_id=campaign.id,
        payload={"assessment_id": snapshot.id, "snapshot_id": snapshot.id, "submission_id": submission.id,
                 "ok": result.ok, "county_ok": result.county_ok, "shortfalls": len(result.shortfalls)},
    )
    return snapshot


# ---------------------------------------------------------------------------------------------
# 3. Reconcile


@dataclass
class ReconcileResult:
    """Task ids by what this reconciliation did to them."""

    created: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    # created tasks whose plan date had already passed: due 逾期顺延工作日 later, the office is told
    redated: list[RedatedTask] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "resolved": len(self.resolved),
                "reopened": len(self.reopened), "unchanged": len(self.unchanged)}

    def report(self) -> dict[str, Any]:
        """The counts and the re-dated tasks (plain values: what a flow step returns)."""
        return {**self.counts(), "redated": [r.as_dict() for r in self.redated]}


@dataclass
class _Context:
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


def _context(session: Session, campaign: Campaign, today: dt.date) -> _Context:
    plan = CampaignPlan.from_stored(campaign.plan) if campaign.plan else None
    phases = list(session.exec(select(Phase).where(Phase.campaign_id == campaign.id)
                               .order_by(Phase.ordinal, Phase.id)))
    schools = list(session.exec(select(School).where(School.campaign_id == campaign.id)))
    departments = list(session.exec(select(Department).where(Department.campaign_id == campaign.id,
                                                             Department.active.is_(True))))
    return _Context(
        campaign=campaign,
        standard=load_standard(campaign.standard_id),
        plan=plan,
        phases=phases,
        schools_by_key={s.key: s for s in schools},
        departments={d.name: d for d in departments},
        townships=[d for d in departments if UnitKind(d.kind) is UnitKind.township],
        today=today,
    )


def _units(ctx: _Context, code: str, schools: list[School] | None) -> tuple[Department | None, list[Department]]:
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


def _item_label(ctx: _Context, code: str, stage: str | None) -> str:
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
class _TaskSpec:
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


def _due(ctx: _Context, *candidates: dt.date | None) -> tuple[dt.date, str]:
    """The first known date; else the campaign's latest known gate; else a fallback. The second
    value is a note for the measures when the date is a stand-in."""
    return _first_due(ctx.latest_gate, ctx.today, *candidates)


def _first_due(latest_gate: dt.date | None, today: dt.date, *candidates: dt.date | None) -> tuple[dt.date, str]:
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


def _shortfall_groups(session: Session, snapshot: AssessmentSnapshot) -> dict[str, _ShortfallGroup]:
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


def _shortfall_spec(ctx: _Context, group: _ShortfallGroup) -> _TaskSpec:
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
    spec = _TaskSpec(TaskOrigin.shortfall, group.key, title, measures + note, phase, due_on, code, school=school)
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


def _county_items(ctx: _Context) -> list[tuple[str, str, str, str]]:
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


def _attestation_spec(ctx: _Context, code: str, title_text: str, verb: str, requirement: str) -> _TaskSpec:
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
    return _TaskSpec(TaskOrigin.attestation, f"attest|{code}", f"{label}{short_title(title_text)}：{verb}",
                     measures, phase, due_on, code, department=lead, cooperating=cooperating)


def _plan_specs(ctx: _Context) -> list[_TaskSpec]:
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
        specs.append(_TaskSpec(TaskOrigin.plan, f"plan|{item.code}", item.title, item.measures, phase,
                               item.due_on, None, department=lead, cooperating=cooperating))
    return specs


def _new_task(spec: _TaskSpec, snapshot: AssessmentSnapshot, shortfall: ShortfallRecord | None = None) -> NewTask:
    return NewTask(
        phase=spec.phase, title=spec.title, measures=spec.measures, origin=spec.origin, origin_key=spec.key,
        due_on=spec.due_on, department=spec.department, responsible_school=spec.responsible_school,
        school=spec.school, indicator=spec.indicator, cooperating=spec.cooperating, shortfall=shortfall,
        event_details={"assessment_id": snapshot.id})


def reconcile_tasks(
    session: Session, campaign: Campaign, snapshot: AssessmentSnapshot, actor: str = SYSTEM_ACTOR
) -> ReconcileResult:
    """Bring the campaign's tasks in line with an assessment (idempotent).

    - a shortfall key without a task gets one (created);
    - a key whose task was resolved by data or verified is reopened (the shortfall came back);
    - a shortfall task whose key this assessment no longer shows is marked resolved by data,
      naming the assessment, for the office to 销号 (only for schools in this submission, so a
      sheet of some schools resolves nothing about the others);
    - an attestation task per county-level item and the plan's preparatory tasks are created
      once.
    Reopening and resolving are the system's moves (actor 系统); created tasks name ``actor``.
    """
    if snapshot.campaign_id != campaign.id:
        raise SelfCheckError(f"评估 #{snapshot.id} 不属于创建工作「{campaign.name}」")
    newest = session.exec(select(func.max(AssessmentSnapshot.id))
                          .where(AssessmentSnapshot.campaign_id == campaign.id)).one()
    if newest is not None and newest != snapshot.id:
        raise SelfCheckError(f"评估 #{snapshot.id} 不是最新的评估（最新为 #{newest}），不能据此调整任务")
    ctx = _context(session, campaign, lifecycle.local_date(snapshot.created_at))
    result = ReconcileResult()
    tasks = {t.origin_key: t for t in session.exec(select(Task).where(Task.campaign_id == campaign.id))}

    # The new tasks are made together, a few statements for all of them (create_tasks), before
    # any existing task is touched: whatever fails to be made, nothing has moved yet.
    new_tasks: list[NewTask] = []

    def create_once(spec: _TaskSpec, shortfall: ShortfallRecord | None = None) -> None:
        """Create the task of ``spec.key`` unless there is one (then it stays as it is)."""
        task = tasks.get(spec.key)
        if task is None:
            new_tasks.append(_new_task(spec, snapshot, shortfall))
        else:
            result.unchanged.append(task.id)

    for spec in _plan_specs(ctx):
        create_once(spec)
    for item in _county_items(ctx):
        create_once(_attestation_spec(ctx, *item))

    groups = _shortfall_groups(session, snapshot)
    for key, group in groups.items():
        if key not in tasks:
            create_once(_shortfall_spec(ctx, group), group.records[0])
    for task in create_tasks(session, campaign, new_tasks, actor=actor, today=ctx.today):
        tasks[task.origin_key] = task
        result.created.append(task.id)
        if task.planned_due_on is not None:
            result.redated.append(RedatedTask.of(task, ctx.today))

    created = set(result.created)
    for key, group in groups.items():
        newest_record = group.records[0]
        task = tasks[key]
        if task.id in created:
            continue
        task.shortfall_id = newest_record.id
        session.add(task)
        status = TaskStatus(task.status)
        if status is not TaskStatus.withdrawn and (
                task.resolved_by_assessment_id is not None or status is TaskStatus.verified):
            lifecycle.reopen(session, task, SYSTEM_ACTOR,
                             reason=f"评估 #{snapshot.id} 又发现此问题：{newest_record.text}",
                             assessment_id=snapshot.id)
            result.reopened.append(task.id)
        else:
            result.unchanged.append(task.id)

    assessed = set(session.exec(select(SchoolDataRow.school_key)
                                .where(SchoolDataRow.submission_id == snapshot.submission_id)))
    for key, task in tasks.items():
        if TaskOrigin(task.origin) is not TaskOrigin.shortfall or key in groups or task.id in created:
            continue
        school_key = key.split("|")[3] if key.count("|") == 3 else ""
        status = TaskStatus(task.status)
        if (school_key and school_key not in assessed) or status in (TaskStatus.verified, TaskStatus.withdrawn) \
                or task.resolved_by_assessment_id is not None:
            result.unchanged.append(task.id)
            continue
        lifecycle.mark_resolved_by_data(session, task, snapshot.id, SYSTEM_ACTOR)
        result.resolved.append(task.id)
    session.flush()
    return result


def redated_by_assessment(session: Session, snapshot: AssessmentSnapshot) -> list[RedatedTask]:
    """The tasks that reconciling ``snapshot`` created after their plan date had passed, for
    showing the office later (a reassessment started by the dispatcher has no one to tell at the
    time): their ``task.created`` events name the assessment."""
    candidates = {t.id: t for t in session.exec(
        select(Task).where(Task.campaign_id == snapshot.campaign_id, Task.planned_due_on.is_not(None),
                           Task.origin != TaskOrigin.finding.value))}
    if not candidates:
        return []
    created = session.exec(select(Event.task_id, Event.payload).where(
        Event.type == "task.created", Event.task_id.in_(list(candidates))))
    made = sorted(task_id for task_id, payload in created if (payload or {}).get("assessment_id") == snapshot.id)
    return [RedatedTask.of(candidates[task_id]) for task_id in made]


# ---------------------------------------------------------------------------------------------
# Due dates that follow the plan


# Tasks whose due date the plan gives: a shortfall's and an attestation's (the indicator's
# 完成时限 in 分工, else its phase's gate) and a preparatory task's (its 完成时限). A review
# finding keeps the reviewer's deadline.
PLAN_DATED_ORIGINS = (TaskOrigin.shortfall, TaskOrigin.attestation, TaskOrigin.plan)


@dataclass(frozen=True)
class DueDateMove:
    task_id: int
    title: str
    before: dt.date
    after: dt.date
    planned_due_on: dt.date | None = None  # the new plan date when it had passed (``after`` is then N working days on)


def plan_due_dates(session: Session, campaign: Campaign) -> dict[int, tuple[dt.date, str]]:
    """Task id → (plan date, stand-in note) that the campaign's current plan and phases give each
    open task whose date comes from the plan, worked out as ``reconcile_tasks`` does (a stand-in
    date counts from the day the task was created). This is the plan's date: a task created after
    it had passed is due later and keeps it as ``planned_due_on``."""
    plan = CampaignPlan.from_stored(campaign.plan) if campaign.plan else None
    phases = {p.id: p for p in session.exec(select(Phase).where(Phase.campaign_id == campaign.id))}
    gates = [p.gate_on for p in phases.values() if p.gate_on is not None]
    latest = max(gates) if gates else None
    preparatory = {f"plan|{item.code}": item for item in plan.preparatory_tasks} if plan is not None else {}
    out: dict[int, tuple[dt.date, str]] = {}
    for task in session.exec(select(Task).where(
            Task.campaign_id == campaign.id,
            Task.status.in_([s.value for s in (TaskStatus.assigned, TaskStatus.accepted, TaskStatus.in_progress,
                                               TaskStatus.submitted)]),
            Task.origin.in_([o.value for o in PLAN_DATED_ORIGINS]))):
        origin = TaskOrigin(task.origin)
        if origin is TaskOrigin.plan:
            item = preparatory.get(task.origin_key)
            if item is not None:
                out[task.id] = (item.due_on, "")
            continue
        entry = plan.assignments.get(task.indicator or "") if plan is not None else None
        indicator_due = entry.due_on if entry is not None else None
        phase = phases.get(task.phase_id)
        gate = phase.gate_on if phase is not None else None
        # the same order of preference as _shortfall_spec and _attestation_spec
        candidates = (indicator_due, gate) if origin is TaskOrigin.shortfall else (gate, indicator_due)
        out[task.id] = _first_due(latest, lifecycle.local_date(task.created_at), *candidates)
    return out


def follow_plan_due_dates(session: Session, campaign: Campaign, before: dict[int, tuple[dt.date, str]],
                          actor: str = SYSTEM_ACTOR, today: dt.date | None = None) -> list[DueDateMove]:
    """After a changed plan was applied: move each open task whose plan-given date changed
    (``before`` is ``plan_due_dates`` taken before applying it), one ``task.due_changed`` event
    each. A task whose date is no longer the one the old plan gave it (nor a working date given
    for it, with that plan date as its 原定时限) was set otherwise, and stays as it is.

    A re-dated phase or deadline that has already passed on ``today`` (default: the Beijing date
    now) does not make its tasks overdue at once: like a task created late, each is due the
    plan's 逾期顺延工作日 working days later and keeps the new plan date as its 原定时限. A task
    already given such working days keeps its due date (only its 原定时限 changes), and a task
    already overdue stays overdue at its new date."""
    after = plan_due_dates(session, campaign)
    today = today or local_today()
    working_days = redate_working_days(campaign)
    moves: list[DueDateMove] = []
    for task_id, (old_date, old_note) in sorted(before.items()):
        new = after.get(task_id)
        if new is None or new[0] == old_date:
            continue
        task = session.get(Task, task_id)
        if task is None:
            continue
        follows_plan = task.due_on == old_date if task.planned_due_on is None else task.planned_due_on == old_date
        if not follows_plan:
            continue
        new_date, new_note = new
        target = working_due(new_date, today, working_days)
        if target.redated and task.planned_due_on is not None:
            # already given its working days: a passed plan date moved again buys no more time
            target = WorkingDue(task.due_on, new_date, None)
        elif target.redated and task.due_on < today:
            # already overdue before the change: it stays overdue, at its new date
            target = WorkingDue(new_date, None, None)
        if (target.due_on, target.planned_due_on) == (task.due_on, task.planned_due_on):
            continue
        measures = task.measures
        if old_note and old_note in measures:
            measures = measures.replace(old_note, new_note)
        elif new_note and new_note not in measures:
            measures += new_note
        reason = "创建方案调整了阶段关口或完成时限，任务截止日期随之调整"
        if target.redated:
            reason += (f"；调整后的完成时限 {new_date.isoformat()} 已过，作为原定时限保留，"
                       f"办理时限为 {target.due_on.isoformat()}")
        before_due = task.due_on
        change_due_date(session, task, target.due_on, actor=actor, measures=measures, reason=reason,
                        planned_due_on=target.planned_due_on)
        moves.append(DueDateMove(task.id, task.title, before_due, target.due_on, target.planned_due_on))
    return moves


# ---------------------------------------------------------------------------------------------
# All three


@dataclass
class SelfCheckResult:
    submission: DataSubmission
    snapshot: AssessmentSnapshot
    reconcile: ReconcileResult
    schools: int = 0
    shortfalls: int = 0

    def summary(self) -> dict[str, object]:
        return {"submission_id": self.submission.id, "assessment_id": self.snapshot.id, "ok": self.snapshot.ok,
                "schools": self.schools, "shortfalls": self.shortfalls, **self.reconcile.counts()}


def run_self_check(session: Session, campaign: Campaign, path: str | Path, actor: str = SYSTEM_ACTOR,
                   label: str = "自查", as_of: dt.date | None = None) -> SelfCheckResult:
    """Import → assess → reconcile in one transaction (the caller's). The Prefect flow
    (flows.selfcheck) runs the same three steps as separate tasks."""
    submission = import_submission(session, campaign, path, actor, label=label)
    snapshot = assess_submission(session, campaign, submission, as_of=as_of)
    reconciled = reconcile_tasks(session, campaign, snapshot, actor)
    count = session.exec(select(func.count()).select_from(ShortfallRecord)
                         .where(ShortfallRecord.assessment_id == snapshot.id)).one()
    return SelfCheckResult(submission, snapshot, reconciled, schools=submission.school_count, shortfalls=int(count))


def reassess(session: Session, campaign: Campaign, submission: DataSubmission | None = None,
             actor: str = SYSTEM_ACTOR, as_of: dt.date | None = None) -> tuple[AssessmentSnapshot, ReconcileResult]:
    """Assess a submission again (default: the latest, e.g. after county inputs changed) and
    reconcile the tasks with it."""
    submission = submission or latest_submission(session, campaign)
    if submission is None:
        raise SelfCheckError(f"创建工作「{campaign.name}」还没有导入学校数据：请先运行 junheng data import 或 junheng selfcheck")
    snapshot = assess_submission(session, campaign, submission, as_of=as_of)
    return snapshot, reconcile_tasks(session, campaign, snapshot, actor)
