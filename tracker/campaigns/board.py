"""The 指标 page's figures, read from a stored assessment (``AssessmentSnapshot.result``, the JSON
of ``tracker.assessment.report.to_json``) and the campaign's tasks and evidence.

Values stay unrounded here (verdicts are decided on them); pages round as the official forms do:
values and county means to 2 decimals, CVs to 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.assessment.models import AssessmentSnapshot
from tracker.org.models import Campaign
from tracker.standards import load_standard
from tracker.standards.schema import STAGE_NAMES, Judged, Standard
from tracker.tasks.models import Evidence, Task, TaskStatus


@dataclass
class IndicatorLine:
    code: str
    title: str
    unit: str
    threshold: float | None
    county_value: float | None
    county_met: bool | None
    cv: float | None
    cv_limit: float | None
    cv_ok: bool | None
    sections: int
    schools_below: int


@dataclass
class SchoolShortfall:
    indicator: str
    title: str
    school: str
    school_key: str | None
    actual: float | None
    required: float | None
    missing: float | None
    unit: str
    text: str
    blocking: bool
    stage: str | None = None
    kind: str = ""

    @property
    def ratio(self) -> float | None:
        """The school's value as a share of the standard (the 85 % rule reads this)."""
        if self.actual is None or not self.required:
            return None
        return self.actual / self.required


@dataclass
class StageBoard:
    stage: str
    name: str
    cv_limit: float | None
    indicators: list[IndicatorLine]
    schools: int
    schools_ok: int
    shortfalls: list[SchoolShortfall]  # per-school values below the standard
    cv_shortfalls: list[SchoolShortfall]


@dataclass
class CountyLine:
    code: str
    title: str
    kind: str
    status: str  # pass / fail / unknown / scored …
    value: object
    required: str
    detail: str
    tasks: int = 0
    tasks_done: int = 0
    evidence: int = 0


@dataclass
class IndicatorBoard:
    snapshot: AssessmentSnapshot
    standard: Standard
    ok: bool | None
    stages: list[StageBoard]
    checks: list[dict]  # per-school checks (rooms, school size, class size)
    check_shortfalls: list[SchoolShortfall]
    county: list[CountyLine]
    excluded: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def chart_data(self) -> dict:
        """What the ECharts bars draw, embedded in the page as JSON."""
        return {
            s.stage: {
                "name": s.name,
                "labels": [f"{i.code}" for i in s.indicators],
                "titles": [i.title for i in s.indicators],
                # county value as a share of the standard, so the seven share one axis (100 % = standard)
                "value_ratio": [_ratio(i.county_value, i.threshold) for i in s.indicators],
                "value": [i.county_value for i in s.indicators],
                "threshold": [i.threshold for i in s.indicators],
                "cv": [i.cv for i in s.indicators],
                "cv_limit": s.cv_limit,
            }
            for s in self.stages
        }


def _ratio(value: float | None, threshold: float | None) -> float | None:
    if value is None or not threshold:
        return None
    return round(100 * value / threshold, 1)


def latest_snapshot(session: Session, campaign: Campaign) -> AssessmentSnapshot | None:
    return session.exec(select(AssessmentSnapshot).where(AssessmentSnapshot.campaign_id == campaign.id)
                        .order_by(AssessmentSnapshot.created_at.desc(), AssessmentSnapshot.id.desc())).first()


def _shortfall(s: dict) -> SchoolShortfall:
    return SchoolShortfall(indicator=s["indicator"], title=s.get("title") or "", school=s.get("school") or "全县",
                           school_key=s.get("school_key"), actual=s.get("actual"), required=s.get("required"),
                           missing=s.get("missing"), unit=s.get("unit") or "", text=s.get("text") or "",
                           blocking=bool(s.get("blocking")), stage=s.get("stage"), kind=s.get("kind") or "")


def _county_task_figures(session: Session, campaign: Campaign) -> dict[str, tuple[int, int, int]]:
    """Per indicator: tasks (not withdrawn), tasks verified, evidence files."""
    tasks = session.exec(
        select(Task.indicator, Task.status, func.count()).where(
            Task.campaign_id == campaign.id, Task.indicator.is_not(None), Task.status != TaskStatus.withdrawn.value)
        .group_by(Task.indicator, Task.status)).all()
    evidence = dict(session.exec(
        select(Task.indicator, func.count(Evidence.id)).join(Evidence, Evidence.task_id == Task.id)
        .where(Task.campaign_id == campaign.id, Task.indicator.is_not(None)).group_by(Task.indicator)).all())
    out: dict[str, list[int]] = {}
    for code, status, count in tasks:
        line = out.setdefault(code, [0, 0, 0])
        line[0] += count
        if TaskStatus(status) is TaskStatus.verified:
            line[1] += count
    for code, count in evidence.items():
        out.setdefault(code, [0, 0, 0])[2] = count
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def indicator_board(session: Session, campaign: Campaign, snapshot: AssessmentSnapshot) -> IndicatorBoard:
    standard = load_standard(snapshot.standard_id or campaign.standard_id)
    result = snapshot.result or {}
    resources = {i.code: i for i in standard.indicators if i.judged is Judged.per_school_value}
    shortfalls = [_shortfall(s) for s in result.get("shortfalls", [])]

    stages = []
    for stage, data in (result.get("stages") or {}).items():
        lines = []
        # in the standard's order, whatever order the stored JSON keeps its keys in (PostgreSQL's
        # jsonb orders them by length)
        for code, ind in sorted((data.get("indicators") or {}).items(),
                                key=lambda kv: standard.indicator_sort_key(kv[0])):
            meta = resources.get(code)
            lines.append(IndicatorLine(
                code=code, title=meta.title if meta else code, unit=meta.unit if meta else "",
                threshold=ind.get("threshold"), county_value=ind.get("county_value"),
                county_met=ind.get("county_met"), cv=ind.get("cv"), cv_limit=ind.get("cv_limit"),
                cv_ok=ind.get("cv_ok"), sections=ind.get("sections") or 0, schools_below=ind.get("schools_below") or 0,
            ))
        schools = data.get("schools") or []
        stage_shortfalls = [s for s in shortfalls if s.indicator in resources and s.stage == stage]
        stages.append(StageBoard(
            stage=stage, name=STAGE_NAMES.get(stage, stage),
            cv_limit=lines[0].cv_limit if lines else None, indicators=lines,
            schools=len(schools), schools_ok=sum(1 for s in schools if s.get("ok")),
            shortfalls=sorted([s for s in stage_shortfalls if s.kind == "school_value"],
                              key=lambda s: (standard.indicator_sort_key(s.indicator), s.ratio or 0)),
            cv_shortfalls=[s for s in stage_shortfalls if s.kind == "cv"],
        ))

    figures = _county_task_figures(session, campaign)
    county = []
    for c in sorted(result.get("county") or [], key=lambda c: standard.indicator_sort_key(str(c.get("code")))):
        tasks, done, evidence = figures.get(str(c.get("code")), (0, 0, 0))
        county.append(CountyLine(code=str(c.get("code")), title=c.get("title") or "", kind=c.get("kind") or "",
                                 status=c.get("status") or "unknown", value=c.get("value"),
                                 required=c.get("required") or "", detail=c.get("detail") or "",
                                 tasks=tasks, tasks_done=done, evidence=evidence))
    check_codes = {c.get("indicator") for c in result.get("checks") or []}
    return IndicatorBoard(
        snapshot=snapshot, standard=standard, ok=result.get("ok"), stages=stages,
        checks=list(result.get("checks") or []),
        check_shortfalls=sorted([s for s in shortfalls if s.indicator in check_codes],
                                key=lambda s: standard.indicator_sort_key(s.indicator)),
        county=county, excluded=list(result.get("excluded") or []), notes=list(result.get("notes") or []),
    )

