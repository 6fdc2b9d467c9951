"""The gate check: a phase passes when its work is done, and the next phase starts."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.naming import outcome, readable_run_name
from flows.phases import close_phase_task
from flows.steps import check_gate_task


def gate_message(result: dict[str, Any]) -> str:
    """通过 / 未通过 and why, in the run's state message and artifact (issue 16 §2)."""
    if result.get("newly_passed"):
        return f"通过：阶段「{result['phase']}」验收通过" + ("，下一阶段已启动" if result.get("activated_phase_id") else "")
    if result.get("passed"):
        return f"通过：阶段「{result['phase']}」此前已通过"
    return "未通过：" + "；".join(result.get("reasons", []))


@flow(name="gate-check", log_prints=False, persist_result=False, flow_run_name=readable_run_name)
async def gate_check_flow(campaign_code: str, phase_id: int, phase_name: str = "") -> dict[str, Any]:
    """阶段验收: pass the phase's gate when all its tasks are 已销号/已撤销 (and, for a review
    phase, the verdict is recorded); on passing, the phase's 阶段小结 is written and the next phase
    becomes active (its flow starts from the phase.activated event). Started by the dispatcher after
    each 销号, 撤销 and verdict, and by the scheduler's safety net; safe to run any number of times."""
    result = check_gate_task(campaign_code, phase_id)
    if result.get("passed"):
        result["closing"] = close_phase_task(campaign_code, phase_id)
    message = gate_message(result)
    return await outcome(message, f"# 阶段验收 {campaign_code}-{result['phase']}\n\n**{message}**\n", result)
