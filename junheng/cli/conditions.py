"""`junheng conditions`: application conditions the data decides (issue 13 §5) — E4 from the
latest assessment's CVs, E2 from the CV history (a sheet per year)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit
from tracker.assessment.conditions import current_decisions
from tracker.assessment.cv_history import import_cv_history, write_cv_template
from tracker.db import get_engine, migrate, session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.org.service import find_person
from tracker.standards import load_standard
from tracker.standards.schema import STAGE_NAMES

conditions_app = typer.Typer(help="申报条件：由数据判定的 E4（差异系数）和 E2（近三年差异系数历史）",
                             no_args_is_help=True)
CAMPAIGN = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
STATUS = {"pass": "[green]通过[/green]", "fail": "[red]不通过[/red]", "unknown": "[yellow]尚不能判定[/yellow]"}


@conditions_app.command("show")
def show_command(campaign_code: str | None = CAMPAIGN) -> None:
    """显示 E4、E2 的判定及所依据的差异系数。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        decisions = current_decisions(session, campaign, load_standard(campaign.standard_id))
    console = Console(soft_wrap=True)
    if not decisions:
        console.print("本标准没有由数据判定的申报条件。")
    for d in decisions:
        console.print(f"{d.code} {STATUS[d.status]}：{escape(d.detail)}")


@conditions_app.command("cv-template")
def template_command(out: Path = typer.Argument(..., help="写出的 .xlsx 文件", show_default=False),
                     year: int = typer.Option(..., "--year", help="年度（如 2024）", min=2000, max=2100)) -> None:
    """生成某一年度的差异系数历史表（小学、初中的基本均衡综合差异系数各一行）。"""
    write_cv_template(out, year)
    Console(soft_wrap=True).print(f"[green]已写出[/green] {escape(str(out))}（{year} 年，"
                                  f"{'、'.join(STAGE_NAMES[s] for s in ('primary', 'junior'))}各一行）")


@conditions_app.command("cv-import")
def import_command(file: Path = typer.Argument(..., help="填好的差异系数历史表 .xlsx", show_default=False),
                   actor: str | None = typer.Option(None, "--as", help="操作人姓名（方案中的人员）；不写则记为「系统」"),
                   campaign_code: str | None = CAMPAIGN) -> None:
    """导入差异系数历史（整表校验，有误时列出行和列且不作任何更改）；之后运行 junheng reassess。"""
    migrate()
    with session_scope() as session:
        campaign = campaign_or_exit(session, campaign_code)
        who = find_person(session, campaign, actor).name if actor else SYSTEM_ACTOR
        rows = import_cv_history(session, campaign, file, who)
        shown = "、".join(f"{r.year}年{STAGE_NAMES[r.stage]} {r.cv:g}" for r in rows)
    Console(soft_wrap=True).print(f"[green]已导入[/green] {escape(shown)}。运行 junheng reassess 重新评估。")
