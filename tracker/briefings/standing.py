"""Where a campaign stood at a briefing's cutoff: its phase (replayed from the phase events) and
its indicators (the last assessment before the cutoff beside the one before it)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy import select
from sqlmodel import Session

from tracker.assessment.models import AssessmentSnapshot
from tracker.briefings.content import IndicatorRow
from tracker.events.models import Event
from tracker.org.models import Phase, PhaseStatus
from tracker.standards.schema import STAGE_NAMES, Standard, indicator_sort_key


# ---------------------------------------------------------------------------------------------
# phases as of the cutoff


def phase_at(session: Session, campaign_id: int, cutoff: dt.datetime, today: dt.date) -> Phase | None:
    """``tracker.campaigns.gates.current_phase`` as it would have answered at ``cutoff``."""
    phases = list(session.exec(select(Phase).where(Phase.campaign_id == campaign_id)
                               .order_by(Phase.ordinal, Phase.id)).scalars())
    e = Event.__table__.c
    rows = session.execute(
        select(e.type, e.at, e.payload).where(
            e.campaign_id == campaign_id, e.type.in_(("phase.gate_passed", "phase.activated")))
    ).all()
    passed_at: dict[int, dt.datetime] = {}
    activated_at: dict[int, dt.datetime] = {}
    for type_, at, payload in rows:
        phase_id = (payload or {}).get("phase_id")
        if phase_id is None:
            continue
        target = passed_at if type_ == "phase.gate_passed" else activated_at
        target[int(phase_id)] = min(at, target.get(int(phase_id), at))

    def passed(p: Phase) -> bool:
        when = passed_at.get(p.id) or p.passed_at
        return when is not None and when < cutoff

    def active(p: Phase) -> bool:
        if passed(p):
            return False
        if p.id in activated_at:
            return activated_at[p.id] < cutoff
        # active (or passed since) without an activation on record: it was active from the start
        return PhaseStatus(p.status) in (PhaseStatus.active, PhaseStatus.passed)

    active_now = [p for p in phases if active(p)]
    if active_now:
        return active_now[0]
    waiting = [p for p in phases if not passed(p)]
    started = [p for p in waiting if p.starts_on is not None and p.starts_on <= today]
    if started:
        return started[0]
    return waiting[0] if waiting else None


# ---------------------------------------------------------------------------------------------
# indicators


@lru_cache(maxsize=8)
def _standard(standard_id: str) -> Standard | None:
    from tracker.standards import load_standard

    try:
        return load_standard(standard_id)
    except Exception:  # noqa: BLE001 — a standard file gone missing: the codes still say which indicator
        return None


def indicator_rows(latest: AssessmentSnapshot | None, previous: AssessmentSnapshot | None) -> list[IndicatorRow]:
    if latest is None:
        return []
    standard = _standard(latest.standard_id)
    titles = {ind.code: ind.title for ind in standard.indicators} if standard is not None else {}
    before: dict[tuple[str, str], dict] = {}
    if previous is not None:
        for stage, block in (previous.result.get("stages") or {}).items():
            for code, ind in (block.get("indicators") or {}).items():
                before[(code, stage)] = ind
    rows: list[IndicatorRow] = []
    stage_order = {"primary": 0, "junior": 1}
    for stage, block in sorted((latest.result.get("stages") or {}).items(),
                               key=lambda kv: (stage_order.get(kv[0], 9), kv[0])):
        for code, ind in (block.get("indicators") or {}).items():
            old = before.get((code, stage), {})
            rows.append(IndicatorRow(
                code=code, title=titles.get(code, f"指标{code}"), stage=stage,
                stage_name=STAGE_NAMES.get(stage, stage), county_value=ind.get("county_value"),
                threshold=ind.get("threshold"), county_met=ind.get("county_met"), cv=ind.get("cv"),
                cv_limit=ind.get("cv_limit"), cv_ok=ind.get("cv_ok"), previous_cv=old.get("cv"),
                previous_county_value=old.get("county_value")))
    rows.sort(key=lambda r: (indicator_sort_key(standard, r.code), stage_order.get(r.stage, 9)))
    return rows


