"""The 自评报告's and the 申报表's figures, assembled from one stored assessment (the snapshot), the
rows of the data it assessed, the tasks, the plan's phases and the org. Every figure here is read
from those, never recomputed differently: the report shows the tracker's numbers."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session

from tracker.assessment.models import AssessmentSnapshot
from tracker.assessment.report import official_round
from tracker.clock import local_date, local_time
from tracker.errors import ErrorKind, JunhengError
from tracker.org.models import Campaign, Phase
from tracker.org.queries import departments, phases, schools
from tracker.reports.queries import (OpenTask, evidence_counts_by_indicator, evidence_total, latest_snapshot,
                                     leading_group, open_tasks, task_status_counts, verified_dates)
from tracker.reports.texts import PLACEHOLDER, texts_of
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.submissions import records_of
from tracker.standards import load_standard
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import STAGE_NAMES


class NoAssessment(JunhengError, LookupError, kind=ErrorKind.not_found):
    """The campaign has no stored assessment to report on."""


STATUS_WORDS = {"pass": "达标", "fail": "未达标", "unknown": "待认定"}
CONDITION_WORDS = {"pass": "符合", "fail": "不符合", "unknown": "待认定"}
VETO_WORDS = {"pass": "未发生", "fail": "发生", "unknown": "待认定"}
CV_WORDS = {True: "达标", False: "未达标", None: "无法判定"}
OVERALL_WORDS = {True: "达到", False: "未达到", None: "尚不能判定是否达到"}


def fmt(value: float | None, digits: int) -> str:
    """A figure as the official tables print it (四舍五入 to ``digits``); 「—」 when there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{official_round(value, digits):.{digits}f}"


def count(value: float) -> str:
    """A head count or a number of schools (the data keeps them as floats)."""
    return f"{round(value):d}"


def input_text(value: object) -> str:
    """A county input as entered: a figure, a verdict, or several named figures."""
    if value is None:
        return "未录入"
    if isinstance(value, dict):
        return "；".join(f"{k}：{input_text(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True, slots=True)
class CountyBasics:
    """The county's schools as the assessed data gives them (every row, 教学点 and 民办 included)."""

    schools_by_type: dict[str, int]
    students: dict[str, float]  # stage → 在校生数
    classes: dict[str, float | None]  # stage → 教学班数; None when a school of the stage left it blank
    qualified_teachers: dict[str, float]
    backbone_teachers: dict[str, float]
    pe_art_teachers: dict[str, float]

    @property
    def schools(self) -> int:
        return sum(self.schools_by_type.values())


def county_basics(records: list[SchoolRecord]) -> CountyBasics:
    stages = ("primary", "junior")
    classes: dict[str, float | None] = {}
    for stage in stages:
        having = [r for r in records if getattr(r, f"{stage}_students")]
        values = [getattr(r, f"{stage}_classes") for r in having]
        classes[stage] = None if not having or any(v is None for v in values) else float(sum(values))
    return CountyBasics(
        schools_by_type=dict(Counter(r.school_type for r in records)),
        students={s: float(sum(getattr(r, f"{s}_students") for r in records)) for s in stages},
        classes=classes,
        qualified_teachers={s: float(sum(getattr(r, f"{s}_qualified_teachers") for r in records)) for s in stages},
        backbone_teachers={s: float(sum(getattr(r, f"{s}_backbone_teachers") for r in records)) for s in stages},
        pe_art_teachers={s: float(sum(getattr(r, f"{s}_pe_art_teachers") for r in records)) for s in stages},
    )


@dataclass(frozen=True, slots=True)
class AssessedStage:
    stage: str
    name: str
    sections: int  # schools (stage sections) assessed
    students: float
    sections_ok: int  # sections meeting the per-school rule


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    code: str
    title: str
    stage: str
    stage_name: str
    threshold: float | None
    county_value: float | None
    cv: float | None
    cv_limit: float | None
    cv_ok: bool | None
    sections: int
    schools_below: int


@dataclass(frozen=True, slots=True)
class CountyRow:
    """A county-level indicator, an application condition or a veto, with its evidence count."""

    code: str
    title: str
    kind: str  # indicator / condition / veto
    area: str
    status: str  # pass / fail / unknown
    verdict: str  # the status in words
    value: str
    required: str
    detail: str
    evidence: int


@dataclass(frozen=True, slots=True)
class PhaseRow:
    name: str
    starts_on: dt.date | None
    gate_on: dt.date | None
    status: str


@dataclass
class ReportData:
    campaign: Campaign
    standard_title: str
    standard_document: str
    snapshot_id: int
    assessed_at: dt.datetime  # Beijing time
    as_of: dt.date
    submission_label: str
    ok: bool | None
    county_ok: bool | None
    rounding: dict[str, int]
    basics: CountyBasics
    stages: list[AssessedStage]
    excluded: list[dict]
    indicators: list[IndicatorRow]
    county: list[CountyRow]
    school_checks: list[dict]
    scoring: dict | None
    shortfalls: list[dict]
    phases: list[PhaseRow]
    group: list[str]  # 「职务 姓名（组长）」
    departments: int
    org_schools: int
    tasks: Counter[str]
    first_verified: dt.date | None
    last_verified: dt.date | None
    evidence_files: int
    open_tasks: list[OpenTask]
    texts: dict[str, str] = field(default_factory=dict)
    result: dict = field(default_factory=dict)  # the snapshot's JSON, for the 附件 tables

    @property
    def tasks_total(self) -> int:
        return sum(self.tasks.values())

    def text(self, section: str) -> str:
        return self.texts.get(section, PLACEHOLDER)


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return local_date(value) if value is not None else None


def report_data(session: Session, campaign: Campaign, snapshot: AssessmentSnapshot | None = None) -> ReportData:
    """Everything the two documents print, from ``snapshot`` (default: the latest assessment)."""
    snapshot = snapshot or latest_snapshot(session, campaign.id)
    if snapshot is None:
        raise NoAssessment(f"创建工作「{campaign.name}」还没有评估结果：请先导入学校数据并运行 junheng selfcheck")
    standard = load_standard(snapshot.standard_id)
    result = snapshot.result
    submission = session.get(DataSubmission, snapshot.submission_id)
    records = records_of(session, submission)
    areas = {a.code: a.title for a in standard.areas}
    area_of = {i.code: areas.get(i.area, "") for i in standard.indicators}
    evidence = evidence_counts_by_indicator(session, campaign.id)

    stages, indicators = [], []
    for stage, body in result["stages"].items():
        schools_of_stage = body["schools"]
        stages.append(AssessedStage(stage, STAGE_NAMES[stage], len(schools_of_stage),
                                    float(sum(s["students"] for s in schools_of_stage)),
                                    sum(1 for s in schools_of_stage if s["ok"])))
    first = next(iter(result["stages"].values()), None)
    for code in (first["indicators"] if first else {}):
        title = standard.indicator(code).title
        for stage, body in result["stages"].items():
            ind = body["indicators"][code]
            indicators.append(IndicatorRow(code, title, stage, STAGE_NAMES[stage], ind["threshold"], ind["county_value"],
                                           ind["cv"], ind["cv_limit"], ind["cv_ok"], ind["sections"],
                                           ind["schools_below"]))
    county = []
    for item in result["county"]:
        kind = item["kind"] if item["kind"] in ("condition", "veto") else "indicator"
        words = {"condition": CONDITION_WORDS, "veto": VETO_WORDS}.get(kind, STATUS_WORDS)
        county.append(CountyRow(item["code"], item["title"], kind, area_of.get(item["code"], ""), item["status"],
                                words[item["status"]], input_text(item["value"]), item["required"] or "",
                                item["detail"] or "", evidence.get(item["code"], 0)))
    first_verified, last_verified = verified_dates(session, campaign.id)
    group = [f"{p.title} {p.name}（{p.group_role}）".strip() for p in leading_group(session, campaign.id)]
    return ReportData(
        campaign=campaign,
        standard_title=standard.title,
        standard_document=standard.document,
        snapshot_id=snapshot.id,
        assessed_at=local_time(snapshot.created_at),
        as_of=dt.date.fromisoformat(result["as_of"]),
        submission_label=submission.label or submission.source_filename or f"#{submission.id}",
        ok=result["ok"],
        county_ok=result["county_ok"],
        rounding=dict(result["rounding"]),
        basics=county_basics(records),
        stages=stages,
        excluded=list(result["excluded"]),
        indicators=indicators,
        county=county,
        school_checks=list(result["checks"]),
        scoring=result.get("scoring"),
        shortfalls=list(result["shortfalls"]),
        phases=[PhaseRow(p.name, p.starts_on, p.gate_on, _phase_status(p)) for p in phases(session, campaign.id)],
        group=group,
        departments=len(departments(session, campaign.id, active_only=True)),
        org_schools=len(schools(session, campaign.id)),
        tasks=task_status_counts(session, campaign.id),
        first_verified=_local_date(first_verified),
        last_verified=_local_date(last_verified),
        evidence_files=evidence_total(session, campaign.id),
        open_tasks=open_tasks(session, campaign.id),
        texts=texts_of(session, campaign.id),
        result=result,
    )


def _phase_status(phase: Phase) -> str:
    return {"pending": "未开始", "active": "进行中", "passed": "已通过"}.get(str(getattr(phase.status, "value", phase.status)), "")


def write_appendix_xlsx(session: Session, campaign: Campaign, snapshot_id: int, path) -> bool:
    """附件 as the official .xlsx (表Ⅱ-2, 表Ⅲ, 问题清单 of tracker.assessment.report), drawn from the
    engine's result: the snapshot's data is assessed again with today's county inputs on the
    snapshot's date, and the file is written only when that reproduces the snapshot (tables and
    shortfalls); else False — county inputs changed since, and a reassessment is due."""
    from tracker.assessment.conditions import assess_campaign
    from tracker.assessment.report import to_json, write_official_xlsx
    from tracker.assessment.snapshots import finite_json

    snapshot = session.get(AssessmentSnapshot, snapshot_id)
    submission = session.get(DataSubmission, snapshot.submission_id)
    as_of = dt.date.fromisoformat(snapshot.result["as_of"])
    result = assess_campaign(session, campaign, load_standard(snapshot.standard_id), records_of(session, submission),
                             as_of)
    again = finite_json(to_json(result))
    if any(again[key] != snapshot.result.get(key) for key in ("stages", "shortfalls", "county")):
        return False
    write_official_xlsx(result, path)
    return True
