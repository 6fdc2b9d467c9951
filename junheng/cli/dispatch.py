"""`junheng dispatch [--once]`: start the flows that react to recorded events.

Commands such as `junheng task verify` only record their event and return at once; this command
(run by hand, by the scheduler on a clock, or by `junheng demo`) starts the reacting flows —
gate checks after 销号/撤销/verdicts, re-assessments after imported data. See flows/dispatcher.py.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from junheng.cli.prefect_console import quiet_prefect

console = Console(highlight=False, soft_wrap=True)

FLOW_LABELS = {"gate-check": "阶段验收", "reassessment": "整改复测", "self-check": "自查自评",
               "review-intake": "评估反馈登记", "weekly-briefing": "调度通报",
               "phase-self-check": "自查自评阶段", "phase-rectification": "整改阶段",
               "phase-review": "评估阶段", "phase-national-check": "国家审核认定阶段", "phase-custom": "阶段"}


def print_report(report) -> None:
    if not report.claimed:
        console.print("没有待处理的事件。")
        return
    console.print(f"处理事件 {len(report.claimed)} 条：启动流程 {report.started} 次"
                  + (f"，失败 {report.failed} 次" if report.failed else "") + "。")
    for outcome in report.outcomes:
        label = FLOW_LABELS.get(outcome.start.flow_name, outcome.start.flow_name)
        events = "、".join(map(str, outcome.start.event_ids))
        if not outcome.ok:
            console.print(f"  ✗ {label}（事件 {events}）：{outcome.error}")
        elif outcome.result is None:
            console.print(f"  → {label}（事件 {events}）：已交给 worker，流程运行 {outcome.flow_run_id}")
        else:
            name = outcome.start.parameters.get("phase_name")
            label = f"{label}「{name}」" if name and outcome.start.flow_name.startswith("phase-") else label
            text = (outcome.message if outcome.start.flow_name.startswith("phase-") and outcome.message
                    else describe_result(outcome.start.flow_name, outcome.result))
            console.print(f"  ✓ {label}（事件 {events}）：{text}")
    if report.released:
        console.print(f"  {len(report.released)} 条事件未能交给 Prefect 服务器，下次分发时重试。")


def describe_result(flow_name: str, result: dict) -> str:
    if flow_name == "gate-check":
        if result.get("newly_passed"):
            return f"阶段「{result['phase']}」验收通过" + ("，下一阶段已启动" if result.get("activated_phase_id") else "")
        if result.get("passed"):
            return f"阶段「{result['phase']}」此前已通过"
        return f"阶段「{result['phase']}」尚未通过：" + "；".join(result.get("reasons", []))
    text = (f"新建任务 {result.get('created', 0)} 项，数据已达标 {result.get('resolved', 0)} 项，"
            f"重新打开 {result.get('reopened', 0)} 项，未变 {result.get('unchanged', 0)} 项")
    redated = result.get("redated") or []
    if redated:  # tasks opened after their plan date: not overdue, their due date moved on
        text += (f"；其中 {len(redated)} 项建立时原定时限已过，已顺延（"
                 + "、".join(f"#{r['task_id']} {r['planned_due_on']} → {r['due_on']}" for r in redated[:10])
                 + (" 等" if len(redated) > 10 else "") + "）")
    return text


def dispatch(
    once: Annotated[bool, typer.Option("--once", help="处理完当前待处理的事件后退出")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.5, help="持续运行时每隔多少秒检查一次新事件")] = 5.0,
) -> None:
    """分发事件：销号、撤销、评估结论和新导入的数据会启动相应流程（阶段验收、整改复测）。"""
    from tracker.db import migrate

    migrate()
    quiet_prefect()
    import asyncio

    from flows.dispatcher import dispatch_mode, dispatch_pending, run_forever

    mode = dispatch_mode()
    if once:
        print_report(asyncio.run(dispatch_pending(mode=mode)))
        return
    console.print(f"事件分发器已启动（{'本进程内运行流程' if mode.value == 'embedded' else '交给 Prefect worker 运行'}，"
                  f"每 {interval:g} 秒检查一次），按 Ctrl+C 停止。")
    try:
        run_forever(interval, print_report, mode=mode)
    except KeyboardInterrupt:
        console.print("事件分发器已停止。")
