"""Application conditions the data decides (issue 13 §5), not the office's attestation.

- E4 (优质均衡差异系数: 小学 ≤ 0.50, 初中 ≤ 0.45): every resource indicator's CV of the assessment,
  per stage, within the condition's limit. Any CV over its limit: fail; every CV known and within:
  pass; else unknown. An entered E4 that contradicts the latest stored assessment's CVs is refused
  with the computed figures.
- E2 (基本均衡: the three years before the application year, 小学 ≤ 0.60, 初中 ≤ 0.50): per year and
  stage the 综合差异系数 from the imported history (``cv_history``; the year's sheet), else from the
  stored assessments of that year (the mean of the stage's resource-indicator CVs of the year's
  latest assessment — an approximation with the 优质均衡 indicators, named as such). A year over a
  limit: fail; every year known and within: pass; years missing: unknown, naming them. The
  application year is the year of the assessment's date.

``assess_campaign`` runs the engine with the stored county inputs and then puts these verdicts
in place of the entered ones (the county item, its detail and, for E2, its shortfall; E4's
failure is already the CV shortfalls), so every caller
that assesses a stored submission gets the same answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from sqlmodel import Session, select

from tracker.assessment.engine import Assessment
from tracker.assessment.models import AssessmentSnapshot, CvHistory
from tracker.assessment.recognition import assess_with_survey
from tracker.assessment.shortfalls import Shortfall
from tracker.clock import local_today
from tracker.org.models import Campaign
from tracker.schooldata.submissions import SelfCheckError
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import STAGE_NAMES, STAGES, Standard

CV_CONDITION = "E4"
HISTORY_CONDITION = "E2"
DECIDED = (CV_CONDITION, HISTORY_CONDITION)
TOL = 1e-9


@dataclasses.dataclass(frozen=True)
class Decision:
    code: str
    status: str  # pass / fail / unknown
    detail: str  # the figures, in Chinese
    failing: list[tuple[str, float, float]] = dataclasses.field(default_factory=list)  # (what, cv, limit)


def _limits(params: Mapping[str, object]) -> dict[str, float]:
    return {stage: float(params[f"{stage}_cv_limit"]) for stage in STAGES if f"{stage}_cv_limit" in params}


def _condition(standard: Standard, code: str):
    return next((c for c in standard.application_conditions if c.code == code), None)


def decide_cv_condition(standard: Standard, cvs: Mapping[str, Mapping[str, float | None]]) -> Decision | None:
    """E4 from the CVs of one assessment (stage → indicator → CV); None when the standard has no E4."""
    cond = _condition(standard, CV_CONDITION)
    if cond is None:
        return None
    limits = _limits(cond.params)
    parts, failing, unknown = [], [], False
    for stage, limit in limits.items():
        values = cvs.get(stage) or {}
        known = {code: cv for code, cv in values.items() if cv is not None}
        if not values or len(known) < len(values):
            unknown = True
        if not known:
            parts.append(f"{STAGE_NAMES[stage]}差异系数无法计算（限 {limit:g}）")
            continue
        worst_code, worst = max(known.items(), key=lambda kv: kv[1])
        over = [(code, cv) for code, cv in known.items() if cv > limit + TOL]
        failing += [(f"{STAGE_NAMES[stage]}指标{code}", cv, limit) for code, cv in over]
        text = f"{STAGE_NAMES[stage]}最大差异系数 {worst:.3f}（指标{worst_code}），限 {limit:g}"
        if over:
            text += "；超限：" + "、".join(f"指标{code} {cv:.3f}" for code, cv in over)
        parts.append(text)
    status = "fail" if failing else ("unknown" if unknown else "pass")
    return Decision(CV_CONDITION, status, "按最新评估的差异系数：" + "；".join(parts), failing)


def assessment_cvs(result: Assessment) -> dict[str, dict[str, float | None]]:
    return {stage: {code: ind.cv for code, ind in sr.indicators.items()} for stage, sr in result.stages.items()}


def stored_cvs(snapshot_result: Mapping[str, object]) -> dict[str, dict[str, float | None]]:
    """stage → indicator → CV of a stored assessment's JSON."""
    out: dict[str, dict[str, float | None]] = {}
    for stage, sr in (snapshot_result.get("stages") or {}).items():  # type: ignore[union-attr]
        out[stage] = {code: ind.get("cv") for code, ind in (sr.get("indicators") or {}).items()}
    return out


# ---------------------------------------------------------------------------------------------
# E2: CV history


@dataclasses.dataclass(frozen=True)
class YearCv:
    year: int
    stage: str
    cv: float
    source: str  # 导入 (the sheet's name) or 评估 #id


def cv_history(session: Session, campaign_id: int) -> dict[tuple[int, str], YearCv]:
    """(year, stage) → the year's 综合差异系数: imported rows, else the year's latest stored assessment."""
    found: dict[tuple[int, str], YearCv] = {}
    snapshots = session.exec(select(AssessmentSnapshot.id, AssessmentSnapshot.result)
                             .where(AssessmentSnapshot.campaign_id == campaign_id)
                             .order_by(AssessmentSnapshot.created_at, AssessmentSnapshot.id)).all()
    for snapshot_id, result in snapshots:  # later assessments of a year win
        try:
            year = dt.date.fromisoformat(str(result.get("as_of"))).year
        except ValueError:
            continue
        for stage, values in stored_cvs(result).items():
            known = [v for v in values.values() if v is not None]
            if known and len(known) == len(values):
                found[(year, stage)] = YearCv(year, stage, sum(known) / len(known), f"评估 #{snapshot_id}")
    for row in session.exec(select(CvHistory).where(CvHistory.campaign_id == campaign_id)):
        found[(row.year, row.stage)] = YearCv(row.year, row.stage, row.cv, f"导入「{row.source}」" if row.source else "导入")
    return found


def decide_history_condition(standard: Standard, history: Mapping[tuple[int, str], YearCv],
                             application_year: int) -> Decision | None:
    """E2 from the CV history of the ``years`` years before ``application_year``."""
    cond = _condition(standard, HISTORY_CONDITION)
    if cond is None:
        return None
    limits = _limits(cond.params)
    years = list(range(application_year - int(cond.params.get("years", 3)), application_year))
    parts, failing, missing = [], [], []
    for year in years:
        for stage, limit in limits.items():
            got = history.get((year, stage))
            if got is None:
                missing.append(f"{year}年{STAGE_NAMES[stage]}")
                continue
            mark = "超限" if got.cv > limit + TOL else "≤"
            parts.append(f"{year}年{STAGE_NAMES[stage]} {got.cv:.3f}（{mark} {limit:g}，{got.source}）")
            if got.cv > limit + TOL:
                failing.append((f"{year}年{STAGE_NAMES[stage]}", got.cv, limit))
    detail = "按差异系数历史：" + ("；".join(parts) if parts else "无")
    if missing:
        detail += f"；缺少 {'、'.join(missing)} 的差异系数（junheng conditions cv-import 导入）"
    status = "fail" if failing else ("unknown" if missing else "pass")
    return Decision(HISTORY_CONDITION, status, detail, failing)


def decisions_for(session: Session, campaign: Campaign, standard: Standard, result: Assessment) -> list[Decision]:
    decided = [decide_cv_condition(standard, assessment_cvs(result)),
               decide_history_condition(standard, cv_history(session, campaign.id), result.as_of.year)]
    return [d for d in decided if d is not None]


def apply_decisions(standard: Standard, result: Assessment, decisions: list[Decision]) -> Assessment:
    """Put the data's verdicts in place of the entered ones: the county item and its shortfall."""
    by_code = {d.code: d for d in decisions}
    if not by_code:
        return result
    county = []
    for item in result.county:
        decision = by_code.get(item.code) if item.kind == "condition" else None
        county.append(item if decision is None else dataclasses.replace(
            item, status=decision.status, value=decision.status, detail=decision.detail))
    shortfalls = [s for s in result.shortfalls if not (s.kind == "county" and s.indicator in by_code)]
    for decision in decisions:
        # E4's failure is the CV shortfalls themselves (one per indicator over its limit, each a
        # task already): a second shortfall would open a duplicate task
        if decision.status != "fail" or decision.code == CV_CONDITION:
            continue
        cond = _condition(standard, decision.code)
        text = "差异系数超限：" + "、".join(f"{what} {cv:.3f}（限 {limit:g}）" for what, cv, limit in decision.failing)
        shortfalls.append(Shortfall(decision.code, None, None, None, None, None, "", list(cond.departments), True,
                                    "county", text, cond.title))
    result.county = county
    result.shortfalls = shortfalls
    return result


def assess_campaign(session: Session, campaign: Campaign, standard: Standard, records: list[SchoolRecord],
                    as_of: dt.date) -> Assessment:
    """The engine's assessment with everything the store holds for the campaign (county inputs,
    the survey's figure for the recognition indicator, the plan's 幼儿班折算), then E4 and E2
    decided by the data."""
    result = assess_with_survey(session, campaign, standard, records, as_of)
    return apply_decisions(standard, result, decisions_for(session, campaign, standard, result))


def check_entered_condition(session: Session, campaign: Campaign, standard: Standard, code: str,
                            status: str | None) -> None:
    """Refuse an entered E4 that contradicts the latest stored assessment's CVs (naming them), and
    any entered E2 (decided by the CV history)."""
    if code == HISTORY_CONDITION and _condition(standard, code) is not None:
        decision = decide_history_condition(standard, cv_history(session, campaign.id), _today().year)
        raise SelfCheckError(f"申报条件 E2 由近三年差异系数历史判定，不能直接录入（当前：{_status_text(decision)}）。"
                             f"{decision.detail if decision else ''}")
    if code != CV_CONDITION or status is None:
        return
    latest = session.exec(select(AssessmentSnapshot.id, AssessmentSnapshot.result)
                          .where(AssessmentSnapshot.campaign_id == campaign.id)
                          .order_by(AssessmentSnapshot.created_at.desc(), AssessmentSnapshot.id.desc())).first()
    if latest is None:
        return
    decision = decide_cv_condition(standard, stored_cvs(latest[1]))
    if decision is not None and decision.status in ("pass", "fail") and decision.status != status:
        raise SelfCheckError(f"申报条件 E4 的录入值「{'通过' if status == 'pass' else '不通过'}」与最新评估（#{latest[0]}）"
                             f"计算的差异系数不符，应为「{_status_text(decision)}」。{decision.detail}")


def current_decisions(session: Session, campaign: Campaign, standard: Standard) -> list[Decision]:
    """E4 from the latest stored assessment's CVs and E2 from the history, as they stand now
    (the application year: the latest assessment's, else this year)."""
    latest = session.exec(select(AssessmentSnapshot.result).where(AssessmentSnapshot.campaign_id == campaign.id)
                          .order_by(AssessmentSnapshot.created_at.desc(), AssessmentSnapshot.id.desc())).first()
    year = dt.date.fromisoformat(latest["as_of"]).year if latest and latest.get("as_of") else _today().year
    decided = [decide_cv_condition(standard, stored_cvs(latest)) if latest else None,
               decide_history_condition(standard, cv_history(session, campaign.id), year)]
    return [d for d in decided if d is not None]


def _status_text(decision: Decision | None) -> str:
    return {"pass": "通过", "fail": "不通过"}.get(decision.status if decision else "", "尚不能判定")


def _today() -> dt.date:
    return local_today()


__all__ = ["CV_CONDITION", "DECIDED", "HISTORY_CONDITION", "Decision", "YearCv", "apply_decisions", "assess_campaign",
           "assessment_cvs", "check_entered_condition", "current_decisions", "cv_history", "decide_cv_condition",
           "decide_history_condition", "stored_cvs"]
