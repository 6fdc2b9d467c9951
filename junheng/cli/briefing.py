"""`junheng briefing`: the weekly dispatch briefing (调度通报) on demand, and earlier ones again.

    junheng briefing [--campaign ID] [--week 2026-W48] [--out DIR] [--send] [--no-pdf]
    junheng briefing list [--campaign ID]
    junheng briefing show 3|2026-W48 [--campaign ID] [--out DIR]

Without ``--week`` the briefing covers last week (what the scheduler issues on Mondays). It runs
the steps of the weekly-briefing flow in this process (flows.briefing.run_briefing): compute from
the event log, store with its number, render; only with ``--send`` queue the e-mail to the
leading group, the office and the departments (the scheduler's delivery job, or ``junheng mail
deliver``, sends it). Generating never mails anyone by default: the scheduler's Monday job is
what sends each week's briefing.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from junheng.cli.common import fail
from tracker.briefings.compute import previous_week
from tracker.briefings.models import Briefing
from tracker.briefings.service import (
    briefing_data,
    get_briefing,
    list_briefings,
)
from tracker.db import get_engine, migrate, session_scope
from tracker.org.service import resolve_campaign

briefing_app = typer.Typer(help="调度通报：按周生成、发送、查看", no_args_is_help=False, invoke_without_command=True)

CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")


def _out_dir(out: Path | None) -> Path:
    out = out or Path.cwd()
    if out.exists() and not out.is_dir():
        fail(f"--out 应为目录：{out} 是一个文件")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"无法创建目录 {out}：{error}")
    return out


def _write(data, docx: bytes | None, pdf: bytes | None, out: Path) -> list[Path]:
    """The stored documents and a standalone HTML page into ``out``."""
    from notifications.briefing import RenderedBriefing, write_files
    from notifications.briefing.charts import briefing_charts
    from notifications.briefing.document import write_briefing_docx

    charts = briefing_charts(data)
    rendered = RenderedBriefing(charts=charts, docx=docx or write_briefing_docx(data, charts), pdf=pdf)
    written = write_files(data, rendered, out)
    return [p for p in (written.docx, written.pdf, written.html) if p is not None]


@briefing_app.callback()
def briefing_command(
    ctx: typer.Context,
    campaign: str | None = CampaignOption,
    week: str | None = typer.Option(None, "--week", "-w", help="周次，如 2026-W48；默认上周"),
    out: Path | None = typer.Option(None, "--out", "-o", help="写出 .docx、.pdf（装有 LibreOffice 时）和 .html 的目录；默认当前目录"),
    # --no-send is still accepted (it is the default): scripts written for it keep working
    send: bool = typer.Option(False, "--send/--no-send",
                              help="同时发邮件给领导小组、办公室和各责任单位联系人；默认只生成，不发送"),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="不生成 PDF"),
) -> None:
    """生成调度通报：按事件日志计算该周（默认上周）截至周日的进展，编号存档，写出 Word/PDF/HTML；加 --send 才发邮件给领导小组和各责任单位。"""
    if ctx.invoked_subcommand is not None:
        return
    from flows.briefing import run_briefing

    migrate()
    target = _out_dir(out)
    iso_week = week or previous_week()
    run = run_briefing(campaign, iso_week, send=send, pdf=not no_pdf)
    with session_scope(get_engine()) as session:
        briefing = session.get(Briefing, run.briefing_id)
        data = briefing_data(briefing)
        docx, pdf, issues = briefing.docx, briefing.pdf, briefing.issues
    paths = _write(data, docx, pdf, target)
    console = Console(soft_wrap=True)
    again = "（重新生成，期数不变）" if issues > 1 else ""
    console.print(f"[bold]{escape(data.campaign_name)}[/bold] 调度通报第 {data.number} 期{again}："
                  f"{data.period_start.isoformat()} 至 {data.period_end.isoformat()}（{data.iso_week}）")
    if data.holiday_week:
        console.print("本周为法定节假日，无工作日；通报照常生成")
    if data.partial:
        console.print(f"[yellow]本周尚未结束：数据截至 {data.as_of_date.isoformat()}；"
                      f"周日之后再次生成，可得全周情况（期数不变）[/yellow]")
    f = data.overall
    console.print(f"任务 {f.total} 项，已销号 {f.done} 项，逾期 {f.overdue} 项；{escape(data.overdue_sentence)}")
    for path in paths:
        console.print(f"[green]已写出[/green] {escape(str(path))}")
    if not no_pdf and pdf is None:
        console.print("[yellow]未生成 PDF：本机未安装 LibreOffice（soffice）[/yellow]")
    if not send:
        console.print("未发送邮件（只生成；发给领导小组和各责任单位请加 --send）")
    else:
        mail = run.mail
        console.print(f"邮件：新排队 {mail['queued']} 封，此前已发 {mail['already']} 封"
                      + (f"；无邮箱：{escape('、'.join(mail['unreachable']))}" if mail["unreachable"] else ""))


@briefing_app.command("list")
def list_command(campaign: str | None = CampaignOption) -> None:
    """列出已生成的调度通报（期数、周次、印发日期）。"""
    migrate()
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        rows = list_briefings(session, camp)
        name = camp.name
    console = Console(soft_wrap=True)
    if not rows:
        console.print(f"{escape(name)}还没有调度通报：运行 junheng briefing 生成")
        return
    table = Table(title=f"{escape(name)}：调度通报（{len(rows)} 期）")
    for column in ("期数", "周次", "时段", "印发日期", "生成次数", "文件"):
        table.add_column(column, no_wrap=column != "时段")
    for row in rows:
        files = "、".join(name for name, present in (("Word", row.has_docx), ("PDF", row.has_pdf)) if present) or "—"
        table.add_row(str(row.number), row.iso_week, f"{row.period_start.isoformat()} 至 {row.period_end.isoformat()}",
                      row.issued_on.isoformat(), str(row.issues), files)
    console.print(table)


@briefing_app.command("show")
def show_command(
    which: str = typer.Argument(..., help="期数（如 3）或周次（如 2026-W48）"),
    campaign: str | None = CampaignOption,
    out: Path | None = typer.Option(None, "--out", "-o", help="写出文件的目录；默认当前目录"),
) -> None:
    """写出一期已生成的调度通报（存档的 Word/PDF 原件，另附 HTML），不重新计算。"""
    migrate()
    target = _out_dir(out)
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        briefing = get_briefing(session, camp, which)
        data, docx, pdf = briefing_data(briefing), briefing.docx, briefing.pdf
    console = Console(soft_wrap=True)
    console.print(f"调度通报第 {data.number} 期：{data.iso_week}，印发于 {data.issued_on}")
    for path in _write(data, docx, pdf, target):
        console.print(f"[green]已写出[/green] {escape(str(path))}")
