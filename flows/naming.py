"""Readable names for flow runs and their outcome in the run itself (issue 16 §2).

Prefect names a run after a random pair of words ("optimal-skylark"); an operator reading the UI
wants ``gate-check/qingchuan-2027-自查自评``. Every flow is declared with
``flow_run_name=readable_run_name``, which reads the run's own parameters: the campaign code and
the readable ``phase_name`` the dispatcher passes beside ``phase_id``, else the week or the batch.
The outcome (通过 / 未通过 and why, what each step did) goes into the final state's message and a
markdown artifact, so a gate-check that did not pass no longer looks like one that did.
"""

from __future__ import annotations

from typing import Any


def readable_run_name() -> str:
    from prefect.runtime import flow_run

    params: dict[str, Any] = dict(flow_run.parameters or {})
    what = (params.get("phase_name") or (f"阶段{params['phase_id']}" if params.get("phase_id") is not None else None)
            or params.get("iso_week")
            or (f"数据批次{params['submission_id']}" if params.get("submission_id") is not None else None)
            or (f"评估{params['review_id']}" if params.get("review_id") is not None else None)
            or params.get("label") or "")
    code = params.get("campaign_code") or "默认"
    return f"{flow_run.flow_name}/{code}" + (f"-{what}" if what else "")


async def outcome(message: str, markdown: str, data: Any, key: str | None = None):
    """The flow's final state: Completed with ``message``, the ``markdown`` kept as an artifact."""
    from prefect.artifacts import acreate_markdown_artifact
    from prefect.states import Completed

    await acreate_markdown_artifact(markdown=markdown, key=key, description=message[:200])
    return Completed(message=message, data=data)
