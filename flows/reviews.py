"""Review intake: a review's findings (反馈问题) become rectification tasks."""

from __future__ import annotations

from typing import Any

from prefect import flow
from flows.naming import readable_run_name

from flows.steps import record_findings_task


@flow(name="review-intake", log_prints=False, persist_result=False, flow_run_name=readable_run_name)
async def review_intake_flow(campaign_code: str, review_id: int, findings_path: str,
                             actor: str) -> dict[str, Any]:
    """评估反馈: read the findings sheet of a 市级/省级/国家 review and open one task per finding,
    due at its rectification deadline. The whole sheet is checked before anything is stored."""
    return record_findings_task(campaign_code, review_id, str(findings_path), actor)
