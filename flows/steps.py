"""The steps the flows are made of: one tracker call, one database transaction each.

Each step is a plain function (``import_sheet``, ``assess`` …) wrapped by a Prefect task
(``import_sheet_task`` …). The plain functions are what the work is; the tasks are what Prefect
records. Steps take and return ids and plain values, never ORM objects: a step opens its own
``session_scope`` and a flow run may resume in another process (a worker on another machine),
where an object loaded by the step before would mean nothing.

No step retries. Retries are for steps that touch the network and may succeed a second later
(sending mail, issue 4). These steps only talk to the tracker database in one transaction: a
failure rolls the whole step back, and the usual causes (a bad sheet, an unknown campaign, a
broken database) would fail again the same way. Running the flow again is the retry, and every
step is idempotent, so that is always safe.

No step caches its result either (``NO_CACHE``): the tracker database is the source of truth,
and a step run twice with the same arguments must look at the data again — the sheet at a path
may have been replaced, a task may have been verified since.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from tracker.assessment import snapshots
from tracker.assessment.models import AssessmentSnapshot
from tracker.campaigns import gates
from tracker.db import session_scope
from tracker.errors import ErrorKind, JunhengError
from tracker.events.service import SYSTEM_ACTOR
from tracker.org.models import Campaign, Phase
from tracker.org.service import resolve_campaign
from tracker.reviews import service as reviews
from tracker.reviews.models import Review
from tracker.schooldata import submissions
from tracker.schooldata.models import DataSubmission
from tracker.tasks.reconcile import reconcile_tasks
from tracker.tasks.service import RedatedTask


class StepInputError(JunhengError, ValueError, kind=ErrorKind.not_found):
    """An id or code that does not belong together (Chinese message)."""


def _campaign(session: Session, campaign_code: str) -> Campaign:
    return resolve_campaign(session, campaign_code)


def _owned(session: Session, model, row_id: int, campaign: Campaign, what: str):
    row = session.get(model, row_id)
    if row is None or row.campaign_id != campaign.id:
        raise StepInputError(f"创建工作「{campaign.code}」中没有编号为 {row_id} 的{what}")
    return row


# --- the plain steps ---------------------------------------------------------------------------


def import_sheet(campaign_code: str, sheet_path: str, actor: str, *, label: str = "") -> int:
    """The self-check's import: store a school sheet as a new data submission; returns its id.

    The self-check assesses the submission itself, so its ``submission.imported`` event is
    written already dispatched: no re-assessment starts for it.
    """
    with session_scope() as session:
        campaign = _campaign(session, campaign_code)
        submission = submissions.import_submission(session, campaign, Path(sheet_path), actor, label=label,
                                                 assessed_by_caller=True)
        return submission.id


def assess(campaign_code: str, submission_id: int) -> int:
    """Assess a stored submission; returns the assessment snapshot's id."""
    with session_scope() as session:
        campaign = _campaign(session, campaign_code)
        submission = _owned(session, DataSubmission, submission_id, campaign, "数据批次")
        snapshot = snapshots.assess_submission(session, campaign, submission)
        return snapshot.id


def reconcile(campaign_code: str, assessment_id: int, actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """Bring the campaign's tasks in line with an assessment; returns the counts and, under
    ``redated``, the created tasks whose plan date had passed (task_id, title, planned_due_on,
    due_on, working_days), so the office is told."""
    with session_scope() as session:
        campaign = _campaign(session, campaign_code)
        snapshot = _owned(session, AssessmentSnapshot, assessment_id, campaign, "评估结果")
        result = reconcile_tasks(session, campaign, snapshot, actor=actor)
        return result.report()


def check_gate(campaign_code: str, phase_id: int, actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """Check a phase's gate (passing it, and activating the next phase, when its work is done)."""
    with session_scope() as session:
        campaign = _campaign(session, campaign_code)
        phase = _owned(session, Phase, phase_id, campaign, "阶段")
        result = gates.check_gate(session, phase, actor=actor)
        return {
            "phase_id": phase.id,
            "phase": phase.name,
            "passed": result.passed,
            "newly_passed": result.newly_passed,
            "activated_phase_id": result.activated.id if result.activated is not None else None,
            "reasons": list(result.reasons),
        }


def record_findings(campaign_code: str, review_id: int, findings_path: str, actor: str) -> dict[str, Any]:
    """Read a review's findings sheet and turn each finding into a rectification task. Returns
    the counts and, under ``redated``, the tasks whose 整改时限 had passed when entered."""
    findings = reviews.read_findings_sheet(Path(findings_path))  # all checked before anything is stored
    with session_scope() as session:
        campaign = _campaign(session, campaign_code)
        review = _owned(session, Review, review_id, campaign, "评估")
        tasks = reviews.add_findings(session, review, findings, actor)
        return {"findings": len(findings), "tasks": len(tasks),
                "redated": [RedatedTask.of(t).as_dict() for t in tasks if t.planned_due_on is not None]}


# --- the same steps as Prefect tasks -----------------------------------------------------------
# Each wrapper looks its plain function up at call time, so the benchmark can time the tracker's
# own share of a flow run by wrapping the plain functions.

_TASK_OPTIONS = dict(cache_policy=NO_CACHE, retries=0, persist_result=False)


@task(name="import-sheet", **_TASK_OPTIONS)
def import_sheet_task(campaign_code: str, sheet_path: str, actor: str, label: str = "") -> int:
    return import_sheet(campaign_code, sheet_path, actor, label=label)


@task(name="assess", **_TASK_OPTIONS)
def assess_task(campaign_code: str, submission_id: int) -> int:
    return assess(campaign_code, submission_id)


@task(name="reconcile-tasks", **_TASK_OPTIONS)
def reconcile_task(campaign_code: str, assessment_id: int, actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    return reconcile(campaign_code, assessment_id, actor)


@task(name="check-gate", **_TASK_OPTIONS)
def check_gate_task(campaign_code: str, phase_id: int, actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    return check_gate(campaign_code, phase_id, actor)


@task(name="record-findings", **_TASK_OPTIONS)
def record_findings_task(campaign_code: str, review_id: int, findings_path: str, actor: str) -> dict[str, Any]:
    return record_findings(campaign_code, review_id, findings_path, actor)
