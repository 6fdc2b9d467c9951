"""`junheng phase list|start|summary|runs` and `junheng gate check [PHASE]` (issue 16).

The phases with their ids (what `prefect deployment run … -p phase_id=N` and the gate check
take), what each phase's flow has done, its 阶段小结, and the flow runs the dispatcher started with
their outcome; the office's own gate check, without Prefect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit, existing_database_or_exit
from tracker.db import get_engine, migrate, session_scope
from tracker.events.queries import recent_flow_runs
from tracker.events.service import SYSTEM_ACTOR
from tracker.org import queries as org
from tracker.org.models import PhaseStatus
from tracker.phases import queries as phase_queries
from tracker.phases.service import PhaseFlowError, activate, kind_name
from tracker.plans.kinds import ENTRY_STEP_NAMES

phase_app = typer.Typer(help="阶段：列出阶段及编号、各阶段流程已做的步骤、阶段小结、流程运行记录", no_args_is_help=True)
gate_app = typer.Typer(help="阶段验收：检查阶段关口（任务全部销号、评估阶段另需结论），通过则启动下一阶段", no_args_is_help=True)

console = Console(highlight=False, soft_wrap=True)
CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
STATUS_NAMES = {PhaseStatus.pending.value: "未开始", PhaseStatus.active.value: "进行中", PhaseStatus.passed.value: "已通过"}
RUN_STATE_NAMES = {"created": "已交给 worker", "completed": "已完成", "failed": "失败", "crashed": "崩溃",
                   "late": "未按时开始", "retried": "已重新派发", "given_up": "已放弃"}
STEP_NAMES = {**ENTRY_STEP_NAMES, "summary": "阶段小结"}


def _value(value: object) -> str:
    return str(getattr(value, "value", value))


def _phase(session: Session, campaign, key: str):
    phase = phase_queries.phase_of_campaign(session, campaign.id, key.strip())
    if phase is None:
        names = "、".join(f"{p.id} {p.name}" for p in org.phases(session, campaign.id))
        raise PhaseFlowError(f"创建工作「{campaign.code}」中没有阶段「{key}」；现有阶段：{names}")
    return phase


@phase_app.command("list")
def list_command(campaign_code: str | None = CampaignOption) -> None:
    """列出阶段及其编号（流程参数 phase_id）、类型、状态，以及阶段流程已完成的步骤。"""
    existing_database_or_exit()
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        steps = phase_queries.steps_by_phase(session, campaign.id)
        table = Table(title=f"{campaign.name}的阶段")
        for column in ("编号", "阶段", "类型", "开始", "关口", "状态", "阶段流程已完成"):
            table.add_column(column, overflow="fold")
        for phase in org.phases(session, campaign.id):
            done = "、".join(STEP_NAMES.get(s.step, s.step) for s in steps.get(phase.id, [])) or "—"
            table.add_row(str(phase.id), escape(phase.name), kind_name(phase),
                          phase.starts_on.isoformat() if phase.starts_on else "待定",
                          phase.gate_on.isoformat() if phase.gate_on else "以上级通知为准",
                          STATUS_NAMES.get(_value(phase.status), _value(phase.status)), escape(done))
        console.print(table)


@phase_app.command("start")
def start_command(
    phase: Annotated[str, typer.Argument(help="阶段编号、代码或名称", show_default=False)],
    campaign_code: str | None = CampaignOption,
    actor: str = typer.Option(SYSTEM_ACTOR, "--as", help="记入日志的操作人"),
) -> None:
    """启动一个未开始的阶段（记为进行中），由事件分发器启动该阶段的流程（阶段部署通知等）。"""
    migrate()
    with session_scope() as session:
        campaign = campaign_or_exit(session, campaign_code)
        target = _phase(session, campaign, phase)
        started = activate(session, target, actor, reason="办公室手动启动")
        name, status = target.name, STATUS_NAMES.get(_value(target.status))
    if started:
        console.print(f"阶段「{name}」已启动；下一次事件分发（junheng dispatch）将运行该阶段的流程。")
    else:
        console.print(f"阶段「{name}」当前状态为「{status}」，未作改动。")


@phase_app.command("summary")
def summary_command(
    phase: Annotated[str, typer.Argument(help="阶段编号、代码或名称", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="阶段小结（.docx）保存到的文件")] = Path("阶段小结.docx"),
    campaign_code: str | None = CampaignOption,
) -> None:
    """导出阶段小结（.docx，阶段通过关口时由流程写成）。"""
    existing_database_or_exit()
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        target = _phase(session, campaign, phase)
        row = phase_queries.step_row(session, target.id, "summary")
        if row is None or row.document is None:
            raise PhaseFlowError(f"阶段「{target.name}」还没有阶段小结（阶段通过关口时写成）")
        out.write_bytes(row.document)
    console.print(f"阶段小结已保存到 {escape(str(out))}")


@phase_app.command("runs")
def runs_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="显示多少条")] = 30,
) -> None:
    """事件分发器启动的流程运行及其结果（最新在前）：失败、崩溃或未按时开始的会自动重新派发。"""
    existing_database_or_exit()
    migrate()
    with Session(get_engine()) as session:
        rows = recent_flow_runs(session, limit)
    table = Table(title="流程运行")
    for column in ("记录", "流程运行", "方式", "状态", "第几次", "Prefect 运行编号", "说明"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r.id), escape(r.run_name), "worker" if r.mode == "deployments" else "本进程",
                      RUN_STATE_NAMES.get(r.state, r.state), str(r.attempt), r.flow_run_id or "—", escape(r.message))
    console.print(table)


@gate_app.command("check")
def check_command(
    phase: Annotated[str | None, typer.Argument(help="阶段编号、代码或名称；不写则检查所有进行中的阶段",
                                                show_default=False)] = None,
    campaign_code: str | None = CampaignOption,
) -> None:
    """检查阶段关口：任务全部销号（评估阶段另需结论）则通过，写阶段小结，并启动下一阶段的流程。"""
    import asyncio

    from flows.dispatcher import dispatch_mode, dispatch_pending
    from flows.followup import check_gates
    from junheng.cli.dispatch import print_report
    from junheng.cli.prefect_console import quiet_prefect

    migrate()
    phase_id = None
    code = campaign_code
    if phase is not None:
        with Session(get_engine()) as session:
            campaign = campaign_or_exit(session, campaign_code)
            phase_id, code = _phase(session, campaign, phase).id, campaign.code
    sweep = check_gates(campaign_code=code, phase_id=phase_id)
    if not sweep.results:
        console.print("没有可以通过关口的进行中阶段（各阶段仍有未销号的任务）。")
    for result in sweep.results:
        if result["newly_passed"]:
            console.print(f"✓ 阶段「{escape(result['phase'])}」验收通过" + ("，下一阶段已启动" if result["activated_phase_id"] else ""))
        elif result["passed"]:
            console.print(f"✓ 阶段「{escape(result['phase'])}」此前已通过")
        else:
            console.print(f"✗ 阶段「{escape(result['phase'])}」未通过：" + escape("；".join(result["reasons"])))
    for closing in sweep.closed:
        console.print(f"  阶段小结已写成（junheng phase summary {closing['phase_id']} 导出）")
    if any(r["newly_passed"] for r in sweep.results) or sweep.started:
        quiet_prefect()
        print_report(asyncio.run(dispatch_pending(mode=dispatch_mode())))
