"""Self-check and re-assessment: school data in, assessed, tasks out.

Prefect's part does not grow with the county: each flow runs one task per step (import, assess,
reconcile), whatever the number of schools; the work per school happens inside the tracker
functions the steps call.
"""

from __future__ import annotations

from typing import Any

import asyncio
from pathlib import Path

from prefect import flow

from flows.naming import readable_run_name
from flows.steps import assess_task, import_sheet_task, reconcile_task
from tracker.errors import ErrorKind, JunhengError
from tracker.events.service import SYSTEM_ACTOR


class SelfCheckInputError(JunhengError, ValueError, kind=ErrorKind.invalid):
    """Neither a sheet nor a stored batch given (Chinese message)."""


@flow(name="self-check", log_prints=False, persist_result=False, flow_run_name=readable_run_name)
async def self_check_flow(campaign_code: str, sheet_path: str | None = None, actor: str = SYSTEM_ACTOR,
                          label: str = "自查", submission_id: int | None = None) -> dict[str, Any]:
    """自查自评: import the county's school sheet, assess it, create or update the tasks.

    On a worker (the deployment) give ``submission_id``, a sheet already stored in the tracker
    (``junheng selfcheck`` imports it first): a path means nothing on another machine.
    Running it twice on the same data creates no new task (every step is idempotent).
    """
    if submission_id is None:
        if not sheet_path:
            raise SelfCheckInputError("自查流程需要学校数据表（sheet_path）或已导入的数据批次编号（submission_id）")
        submission_id = import_sheet_task(campaign_code, str(sheet_path), actor, label=label)
    assessment_id = assess_task(campaign_code, submission_id)
    counts = reconcile_task(campaign_code, assessment_id, actor)
    return {"submission_id": submission_id, "assessment_id": assessment_id, **counts}


@flow(name="reassessment", log_prints=False, persist_result=False, flow_run_name=readable_run_name)
async def reassessment_flow(campaign_code: str, submission_id: int) -> dict[str, Any]:
    """整改期复测: assess a newly imported submission and reconcile the tasks with it
    (a shortfall gone marks its task resolved by data; one come back reopens it; a new one opens
    a task). Started by the dispatcher for each ``submission.imported`` outside a self-check."""
    assessment_id = assess_task(campaign_code, submission_id)
    counts = reconcile_task(campaign_code, assessment_id, SYSTEM_ACTOR)
    return {"submission_id": submission_id, "assessment_id": assessment_id, **counts}


def run_self_check_flow(campaign_code: str, sheet_path: str | Path, actor: str = SYSTEM_ACTOR,
                        label: str = "自查") -> dict[str, Any]:
    """Run the self-check flow to completion in this process (for the CLI and the demo, which are
    not async). A failing step's own error (a bad sheet: ``SheetError``) propagates unchanged."""
    return asyncio.run(self_check_flow(campaign_code, str(sheet_path), actor, label))
