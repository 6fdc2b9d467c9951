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

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from tracker.assessment.models import AssessmentSnapshot, ShortfallRecord
from tracker.assessment.snapshots import assess_submission
from tracker.events.service import SYSTEM_ACTOR
from tracker.org.models import Campaign
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.submissions import SelfCheckError, import_submission, latest_submission
from tracker.tasks.reconcile import ReconcileResult, reconcile_tasks

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
