"""`junheng campaign status [--json]`: the phase, days to its gate, tasks by status and by unit.

``--json`` prints exactly the contract of tracker.tasks.service.campaign_status."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from junheng.cli.common import existing_database_or_exit
from junheng.cli.task import STATUS_STYLE, parse_today
from tracker.campaigns.gates import gate_status
from tracker.db import get_engine, migrate, session_scope
from tracker.org.service import current_phase, resolve_campaign
from tracker.tasks.service import campaign_status


def status(
    campaign: str | None = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出（供脚本使用）"),
    today: str | None = typer.Option(None, "--today", help="按此日期（YYYY-MM-DD）计算，用于演练"),
) -> None:
    """创建工作进展：当前阶段、距关口的工作日、各状态任务数、各单位完成和逾期情况。"""
    day = parse_today(today)
    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        figures = campaign_status(session, camp, day)
        phase = current_phase(session, camp, day)
        gate = gate_status(session, phase, day) if phase else None
        name = camp.name
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return

    console = Console(soft_wrap=True)
    console.print(f"[bold]{escape(name)}[/bold]（{escape(figures['campaign'])}）  {day.isoformat()}")
    if phase is None:
        console.print("所有阶段均已通过")
    else:
        if gate is not None and gate.days_left is not None:
            left = (f"还有 {gate.days_left} 个工作日" if gate.days_left >= 0
                    else f"[red]已过 {-gate.days_left} 个工作日[/red]")
            when = f"关口 {figures['gate_date']}（{left}）"
        else:
            when = "关口日期未定（以上级通知为准）"
        console.print(f"当前阶段：[bold]{escape(phase.name)}[/bold]  {when}")
        if gate is not None:
            waiting = "；尚待录入评估结论" if gate.verdict_needed else ""
            console.print(f"本阶段任务 {gate.total_tasks} 项，未办结 {gate.open_tasks} 项{waiting}")
    tasks = figures["tasks"]
    counts = "  ".join(f"[{STATUS_STYLE[s]}]{s} {n}[/{STATUS_STYLE[s]}]" for s, n in tasks["by_status"].items())
    overdue = f"[red]逾期 {tasks['overdue']}[/red]" if tasks["overdue"] else "逾期 0"
    console.print(f"任务共 {tasks['total']} 项：{counts}  {overdue}")

    table = Table(title="各单位情况")
    table.add_column("单位", overflow="fold")
    table.add_column("任务", justify="right")
    table.add_column("已销号", justify="right")
    table.add_column("完成率", justify="right")
    table.add_column("逾期", justify="right")
    for unit in figures["departments"]:
        rate = f"{100 * unit['done'] / unit['total']:.0f}%" if unit["total"] else "—"
        late = f"[red]{unit['overdue']}[/red]" if unit["overdue"] else "0"
        table.add_row(escape(unit["name"]), str(unit["total"]), str(unit["done"]), rate, late)
    console.print(table)
