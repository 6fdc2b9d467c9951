"""The steps of the phase flows (issue 16 §1): one tracker call, one transaction, ids only.

Every step is done once per phase: it looks for its ``PhaseStep`` row and, finding it, returns
what it did the first time (``already``); else it does its work and records the row in the same
transaction. So a phase flow run again — by hand, re-dispatched after a crash, or twice at once —
creates nothing (a second insert of the row meets the unique key and rolls its step back whole).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tracker.clock import local_today
from tracker.db import session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.org.models import Campaign, Phase, PhaseStatus
from tracker.phases import readiness
from tracker.org.service import resolve_campaign
from tracker.phases import service as phases
from tracker.plans.kinds import ENTRY_STEP_NAMES


def _application_package(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The application package (自评报告, 申报表, tables, 资料汇编) assembled from the data and
    checked for completeness: what is still missing, by name."""
    from tracker.reports.application import basic_table
    from tracker.reports.data import NoAssessment, report_data
    from tracker.reports.texts import PLACEHOLDER, SECTIONS, texts_of

    missing: list[str] = []
    try:
        data = report_data(session, campaign)
    except NoAssessment as exc:
        return {"ready": False, "missing": [exc.message if hasattr(exc, "message") else str(exc)]}
    missing += [f"申报表 {c.code}「{c.header}」待填写" for c in basic_table(data) if c.value == PLACEHOLDER]
    texts = texts_of(session, campaign.id)
    missing += [f"自评报告「{SECTIONS[k]}」待填写" for k, text in texts.items() if text == PLACEHOLDER]
    missing += readiness.materials_gaps(session, campaign)
    return {"ready": not missing, "missing": missing}


def _do(session: Session, campaign: Campaign, phase: Phase, step: str, actor: str,
        level: str | None) -> dict[str, Any]:
    from notifications import phases as notices

    if step == "deployment_notice":
        return notices.queue_deployment_notices(session, campaign, phase).as_dict()
    if step == "ladder":
        return phases.refresh_ladder(session, phase)
    if step == "redate_shortfalls":
        return phases.redate_shortfalls(session, campaign, phase, actor)
    if step == "resubmission_request":
        word, days = phases.resubmission_interval(campaign, phase)
        return {"interval": word, **notices.queue_resubmission_requests(session, campaign, phase, word, days).as_dict()}
    if step == "review_record":
        return phases.open_review_record(session, campaign, phase, actor, level=level)
    if step == "inspection_tasks":
        return phases.inspection_tasks(session, campaign, phase, actor)
    if step == "materials":
        entry = phases.plan_entry(campaign, phase)
        lead = entry.compile_lead_days if entry is not None else 10
        return readiness.materials_tasks(session, campaign, phase, actor, lead_days=lead)
    if step == "survey":
        return readiness.survey_opened(session, campaign, actor)
    if step == "application_package":
        return _application_package(session, campaign)
    raise phases.PhaseFlowError(f"未知的阶段步骤「{step}」")


def steps_of(campaign_code: str, phase_id: int) -> list[str]:
    """The entry steps this phase's flow runs (its kind's, less those the plan switches off)."""
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        return phases.steps_for(campaign, phases.phase_in(session, campaign, phase_id))


def _done_meanwhile(phase_id: int, step: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Another run of the phase's flow did the step between our look and our insert (the unique
    key refused ours and rolled our work back): report its result."""
    with session_scope() as session:
        phase = session.get(Phase, phase_id)
        done = phases.done_step(session, phase, step)
        return {**extra, "already": True, **(done.result if done is not None else {})}


def entry_step(campaign_code: str, phase_id: int, step: str, actor: str = SYSTEM_ACTOR,
               level: str | None = None) -> dict[str, Any]:
    """One entry step of a phase, done once: returns what it did (``already`` when done before)."""
    try:
        return _entry_step(campaign_code, phase_id, step, actor, level)
    except IntegrityError:
        return _done_meanwhile(phase_id, step, {"step": ENTRY_STEP_NAMES.get(step, step)})


def _entry_step(campaign_code: str, phase_id: int, step: str, actor: str, level: str | None) -> dict[str, Any]:
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        phase = phases.phase_in(session, campaign, phase_id)
        done = phases.done_step(session, phase, step)
        if done is not None:
            return {"step": ENTRY_STEP_NAMES.get(step, step), "already": True, **done.result}
        result = _do(session, campaign, phase, step, actor, level)
        phases.record_step(session, phase, step, result)
        return {"step": ENTRY_STEP_NAMES.get(step, step), "already": False, **result}


def close_phase(campaign_code: str, phase_id: int) -> dict[str, Any]:
    """The closing step: once the phase's gate has passed, write its 阶段小结 (.docx) and keep it
    with the phase. Nothing while the phase is open; nothing again once written."""
    try:
        return _close_phase(campaign_code, phase_id)
    except IntegrityError:
        return _done_meanwhile(phase_id, phases.SUMMARY, {"closed": True})


def _close_phase(campaign_code: str, phase_id: int) -> dict[str, Any]:
    from notifications.phase_summary import render_phase_summary

    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        phase = phases.phase_in(session, campaign, phase_id)
        if PhaseStatus(phase.status) is not PhaseStatus.passed:
            return {"closed": False}
        done = phases.done_step(session, phase, phases.SUMMARY)
        if done is not None:
            return {"closed": True, "already": True, **done.result}
        figures = phases.summary_figures(session, campaign, phase, local_today())
        document = render_phase_summary(figures)
        result = {"tasks": figures.tasks, "shortfalls_before": figures.shortfalls_before,
                  "shortfalls_after": figures.shortfalls_after, "docx_bytes": len(document),
                  "filename": f"{campaign.code}-{phase.name}-阶段小结.docx"}
        phases.record_step(session, phase, phases.SUMMARY, result, document=document)
        return {"closed": True, "already": False, **result}
