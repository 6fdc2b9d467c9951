"""The phases as flows (issue 16 §1): each phase kind opens with its own flow.

    phase-self-check      自查自评        阶段部署通知, 提醒梯度
    phase-rectification   整改            整改时限 (open shortfall tasks without a plan date due at
                                          the gate), 阶段部署通知, 提醒梯度, 重报数据 (schools asked to
                                          resubmit at the plan's interval; each resubmission is
                                          re-assessed by the reassessment flow as any import)
    phase-review          市级复评/省级评估 (``level``): 评估记录 (opened, dated at the gate),
                                          迎检准备 tasks (资料汇编 N working days before, 自评报告
                                          updated), 资料清单 (hook), 阶段部署通知, 提醒梯度; the
                                          findings intake (review-intake) is ready for the record
    phase-national-check  国家审核认定    the same, plus 满意度调查 (hook) and 申报材料 assembled and
                                          checked for completeness
    phase-custom          a plan's own phases (准备, 实施): 阶段部署通知, 提醒梯度

Each starts when its phase becomes active (``phase.activated``, through the dispatcher) and is
idempotent: every step is recorded once per phase (flows/phase_steps.py). The closing step writes
the 阶段小结 once the gate has passed: the gate-check flow runs it the moment it passes the gate,
and a phase flow run again after that finds it written. The next phase's flow starts from the
``phase.activated`` event the passing gate check records.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import phase_steps
from flows.naming import outcome, readable_run_name
from tracker.events.service import SYSTEM_ACTOR
from tracker.plans.kinds import ENTRY_STEP_NAMES

_TASK_OPTIONS = dict(cache_policy=NO_CACHE, retries=0, persist_result=False)
_FLOW_OPTIONS = dict(log_prints=False, persist_result=False, flow_run_name=readable_run_name)


@task(name="phase-step", **_TASK_OPTIONS)
def entry_step_task(campaign_code: str, phase_id: int, step: str, actor: str = SYSTEM_ACTOR,
                    level: str | None = None) -> dict[str, Any]:
    return phase_steps.entry_step(campaign_code, phase_id, step, actor, level)


@task(name="阶段小结", **_TASK_OPTIONS)
def close_phase_task(campaign_code: str, phase_id: int) -> dict[str, Any]:
    return phase_steps.close_phase(campaign_code, phase_id)


def describe_step(step: str, result: dict[str, Any]) -> str:
    label = ENTRY_STEP_NAMES.get(step, step)
    if result.get("already"):
        return f"{label}：此前已完成"
    if result.get("note") and "queued" in result and not result["queued"]:
        return f"{label}：{result['note']}"
    if "queued" in result:
        text = f"{label}：发出 {result['queued']} 份"
        if result.get("unreachable"):
            text += f"（{len(result['unreachable'])} 个单位或学校没有联系邮箱：{'、'.join(result['unreachable'][:10])}）"
        return text
    if "redated" in result:
        return f"{label}：{len(result['redated'])} 项任务以阶段关口为期" + (f"（{result['note']}）" if result.get("note") else "")
    if "tasks" in result and step == "ladder":
        return f"{label}：{result['tasks']} 项未完成任务重新计算提醒"
    if "created" in result:
        return f"{label}：新建任务 {len(result['created'])} 项" + (f"（{result['note']}）" if result.get("note") else "")
    if "review_id" in result:
        return f"{label}：评估记录 #{result['review_id']}" if result["review_id"] else f"{label}：无"
    if "ready" in result:
        return f"{label}：" + ("齐全" if result["ready"] else "缺 " + "；".join(result["missing"][:10]))
    return f"{label}：" + (result.get("note") or "完成")


async def run_phase(flow_name: str, campaign_code: str, phase_id: int, actor: str = SYSTEM_ACTOR,
                    level: str | None = None, phase_name: str = ""):
    steps = phase_steps.steps_of(campaign_code, phase_id)
    results: dict[str, dict[str, Any]] = {}
    for step in steps:
        results[step] = entry_step_task.with_options(task_run_name=ENTRY_STEP_NAMES.get(step, step))(
            campaign_code, phase_id, step, actor, level)
    closing = close_phase_task(campaign_code, phase_id)
    lines = [describe_step(step, result) for step, result in results.items()]
    if closing.get("closed"):
        lines.append("阶段小结：" + ("此前已写" if closing.get("already") else "已写成"))
    title = f"{flow_name}/{campaign_code}-{phase_name or phase_id}"
    markdown = f"# {title}\n\n" + "\n".join(f"- {line}" for line in lines)
    data = {"phase_id": phase_id, "steps": results, "closing": closing}
    return await outcome("；".join(lines) or "无入口步骤", markdown, data)


@flow(name="phase-self-check", **_FLOW_OPTIONS)
async def phase_self_check_flow(campaign_code: str, phase_id: int, phase_name: str = "",
                                actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """自查自评阶段：阶段部署通知、提醒梯度；通过关口时写阶段小结。"""
    return await run_phase("phase-self-check", campaign_code, phase_id, actor, phase_name=phase_name)


@flow(name="phase-rectification", **_FLOW_OPTIONS)
async def phase_rectification_flow(campaign_code: str, phase_id: int, phase_name: str = "",
                                   actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """整改阶段：整改任务以关口为期、阶段部署通知、提醒梯度、请学校按期重报数据；通过关口时写阶段小结。"""
    return await run_phase("phase-rectification", campaign_code, phase_id, actor, phase_name=phase_name)


@flow(name="phase-review", **_FLOW_OPTIONS)
async def phase_review_flow(campaign_code: str, phase_id: int, level: str = "市级", phase_name: str = "",
                            actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """市级复评 / 省级评估阶段（level：市级 或 省级）：评估记录、迎检准备任务、资料清单、阶段部署通知、提醒梯度。"""
    return await run_phase("phase-review", campaign_code, phase_id, actor, level=level, phase_name=phase_name)


@flow(name="phase-national-check", **_FLOW_OPTIONS)
async def phase_national_check_flow(campaign_code: str, phase_id: int, phase_name: str = "",
                                    actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """国家审核认定阶段：同评估阶段，另开满意度调查、汇总并检查申报材料。"""
    return await run_phase("phase-national-check", campaign_code, phase_id, actor, level="国家",
                           phase_name=phase_name)


@flow(name="phase-custom", **_FLOW_OPTIONS)
async def phase_custom_flow(campaign_code: str, phase_id: int, phase_name: str = "",
                            actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """方案自定的阶段（准备、实施等）：阶段部署通知、提醒梯度；通过关口时写阶段小结。"""
    return await run_phase("phase-custom", campaign_code, phase_id, actor, phase_name=phase_name)


FLOWS = {"phase-self-check": phase_self_check_flow, "phase-rectification": phase_rectification_flow,
         "phase-review": phase_review_flow, "phase-national-check": phase_national_check_flow,
         "phase-custom": phase_custom_flow}
