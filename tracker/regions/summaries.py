"""Each county's latest assessment reduced to what the roll-up shows (CVs against the limits,
schools passing), kept in ``county_assessment_summary``.

The roll-up asks once for the latest snapshot id of every county of the region; only the
counties whose summary is older than that snapshot (a new self-check since the last look) have
their snapshot read, all in one statement, and their summary rewritten. A region of 100 counties
thus reads no snapshot JSON at all on most requests."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.assessment.models import AssessmentSnapshot
from tracker.regions.models import CountyAssessmentSummary
from tracker.standards.schema import STAGES

CV_INDICATORS = tuple(str(n) for n in range(1, 8))  # the 7 resource indicators (资源配置)


def summarize(snapshot: AssessmentSnapshot) -> CountyAssessmentSummary:
    result = snapshot.result or {}
    cvs: dict[str, dict[str, list]] = {}
    schools = schools_ok = 0
    for stage, body in (result.get("stages") or {}).items():
        indicators = body.get("indicators") or {}
        cvs[stage] = {code: [ind.get("cv"), ind.get("cv_limit")] for code, ind in indicators.items()}
        for school in body.get("schools") or []:
            schools += 1
            schools_ok += 1 if school.get("ok") else 0
    return CountyAssessmentSummary(campaign_id=snapshot.campaign_id, assessment_id=snapshot.id,
                                   as_of=str(result.get("as_of") or ""), cvs=cvs, schools=schools,
                                   schools_ok=schools_ok)


def current_summaries(session: Session, campaign_ids) -> dict[int, CountyAssessmentSummary]:
    """The summary of each county's latest assessment (counties never assessed are absent).
    ``campaign_ids``: a list or a statement selecting them. Writes the stale ones (flushed; the
    caller's commit keeps them, a rollback only costs rereading)."""
    latest = dict(session.exec(select(AssessmentSnapshot.campaign_id, func.max(AssessmentSnapshot.id))
                               .where(AssessmentSnapshot.campaign_id.in_(campaign_ids))
                               .group_by(AssessmentSnapshot.campaign_id)).all())
    if not latest:
        return {}
    stored = {s.campaign_id: s for s in session.exec(
        select(CountyAssessmentSummary).where(CountyAssessmentSummary.campaign_id.in_(list(latest))))}
    stale = [snapshot_id for campaign_id, snapshot_id in latest.items()
             if campaign_id not in stored or stored[campaign_id].assessment_id != snapshot_id]
    if stale:
        for snapshot in session.exec(select(AssessmentSnapshot).where(AssessmentSnapshot.id.in_(stale))):
            fresh = summarize(snapshot)
            row = stored.get(snapshot.campaign_id)
            if row is None:
                session.add(fresh)
                stored[snapshot.campaign_id] = fresh
            else:
                for field in ("assessment_id", "as_of", "cvs", "schools", "schools_ok"):
                    setattr(row, field, getattr(fresh, field))
                session.add(row)
        session.flush()
        session.info[SUMMARIES_WRITTEN] = True
    return stored


SUMMARIES_WRITTEN = "regions.summaries_written"  # session.info: the caller has something to commit


def commit_if_written(session: Session) -> None:
    """Commit the summaries a roll-up refreshed, if it did (most requests read only: no COMMIT)."""
    if session.info.pop(SUMMARIES_WRITTEN, False):
        session.commit()


def stage_cvs(summary: CountyAssessmentSummary | None) -> dict[str, dict[str, float | None]]:
    """``{"primary"|"junior": {"1".."7": cv | None}}``: every stage and indicator present, None
    where the county has no figure."""
    out: dict[str, dict[str, float | None]] = {}
    for stage in STAGES:
        given = (summary.cvs.get(stage) if summary else None) or {}
        out[stage] = {code: _float(given.get(code, [None])[0]) for code in CV_INDICATORS}
    return out


def cv_over_limit(summary: CountyAssessmentSummary | None) -> list[tuple[str, str, float, float]]:
    """(stage, indicator, cv, limit) where a CV is above its limit."""
    over = []
    for stage, indicators in ((summary.cvs if summary else None) or {}).items():
        for code, (cv, limit) in indicators.items():
            if cv is not None and limit is not None and float(cv) > float(limit):
                over.append((stage, code, float(cv), float(limit)))
    return over


def cv_limits(summary: CountyAssessmentSummary | None) -> dict[str, float]:
    limits: dict[str, float] = {}
    for stage, indicators in ((summary.cvs if summary else None) or {}).items():
        for _code, (_cv, limit) in indicators.items():
            if limit is not None:
                limits.setdefault(stage, float(limit))
    return limits


def _float(value) -> float | None:
    return None if value is None else round(float(value), 4)
