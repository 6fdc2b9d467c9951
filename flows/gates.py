"""The gate check: a phase passes when its work is done, and the next phase starts."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.steps import check_gate_task


@flow(name="gate-check", log_prints=False, persist_result=False)
async def gate_check_flow(campaign_code: str, phase_id: int) -> dict[str, Any]:
    """阶段验收: pass the phase's gate when all its tasks are 已销号/已撤销 (and, for a review
    phase, the verdict is recorded); on passing, the next phase becomes active. Started by the
    dispatcher after each 销号, 撤销 and verdict; safe to run any number of times."""
    return check_gate_task(campaign_code, phase_id)
