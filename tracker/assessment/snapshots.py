"""An assessment of a stored submission, kept: the snapshot and every shortfall, each under a
key that stays the same from one assessment to the next (``kind|indicator|stage|school_key``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from tracker.assessment.conditions import assess_campaign
from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.assessment.recognition import kindergarten_weight_of  # noqa: F401 (callers import it here)
from tracker.assessment.report import to_json
from tracker.clock import local_today
from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Campaign, School
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.submissions import SelfCheckError, records_of
from tracker.standards import load_standard


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


def finite_json(value: Any) -> Any:
    """A result's JSON as the store keeps it (no NaN or infinity)."""
    return _finite(value)


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
    result = assess_campaign(session, campaign, standard, records, as_of or local_today())
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


