"""`junheng appraise`: the 考核 table of a period, and the office's 通报表扬 / 通报批评.

    junheng appraise [--campaign CODE] [--from DATE] [--to DATE] [--xlsx OUT]
    junheng appraise notice --kind 表扬|批评 --unit NAME [--unit NAME …] --reason TEXT --out FILE
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from junheng.cli.common import existing_database_or_exit, fail
from tracker.appraisal.service import appraise, issue_notice, parse_day
from tracker.db import get_engine, migrate, session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.org.service import resolve_campaign

appraise_app = typer.Typer(help="考核：各单位按期完成、逾期、退回、督办情况与得分排名；通报表扬、批评",
                           no_args_is_help=False, invoke_without_command=True)

CampaignOption = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")


def _write(path: Path, content: bytes) -> None:
    if path.exists() and path.is_dir():
        fail(f"{path} 是一个目录，请给出文件名")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as error:
        fail(f"无法写入 {path}：{error}")


@appraise_app.callback()
def appraise_command(
    ctx: typer.Context,
    campaign: str | None = CampaignOption,
    start: str | None = typer.Option(None, "--from", help="考核期间的第一天，如 2026-12-01；默认创建工作开始之日"),
    end: str | None = typer.Option(None, "--to", help="考核期间的最后一天；默认今天"),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="另写出考核表 .xlsx"),
) -> None:
    """考核表：各责任单位、各学校在期间内应完成、按时完成、逾期完成、当前逾期、退回、延期、督办单、平均逾期工作日与得分排名。"""
    if ctx.invoked_subcommand is not None:
        return
    existing_database_or_exit()
    migrate()
    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        result = appraise(session, camp, first, last)
    console = Console(soft_wrap=True)
    from notifications.appraisal import HEADERS, row_values, rule_lines

    console.print(f"[bold]{escape(result.campaign_name)}[/bold] 考核：{result.start.isoformat()} 至 "
                  f"{result.end.isoformat()}（截至 {result.today.isoformat()}）")
    for title, rows in (("责任单位", result.departments()), ("学校", result.schools())):
        if not rows:
            continue
        table = Table(title=title)
        for header in HEADERS:
            table.add_column(header, no_wrap=header != "单位", justify="left" if header == "单位" else "right")
        for row in rows:
            table.add_row(*(escape(str(v)) for v in row_values(row)))
        console.print(table)
    if not result.units:
        console.print("期间内没有单位：方案中还没有责任单位")
    for line in rule_lines(result.rule):
        console.print(line)
    if xlsx is not None:
        from notifications.appraisal import write_appraisal_xlsx

        _write(xlsx, write_appraisal_xlsx(result))
        console.print(f"[green]已写出[/green] {escape(str(xlsx))}")


@appraise_app.command("notice")
def notice_command(
    kind: str = typer.Option(..., "--kind", help="表扬 或 批评"),
    units: list[str] = typer.Option(..., "--unit", help="被通报的单位或学校（可写多次）"),
    reason: str = typer.Option(..., "--reason", help="通报事由（办公室撰写，500 字以内）"),
    out: Path = typer.Option(..., "--out", "-o", help="写出通报 .docx 的文件名"),
    campaign: str | None = CampaignOption,
    actor: str = typer.Option(SYSTEM_ACTOR, "--as", help="记入日志的操作人"),
) -> None:
    """通报表扬或通报批评：记入事件日志，并写出通报（Word）。"""
    if out.exists() and out.is_dir():
        fail(f"--out 应为文件名：{out} 是一个目录")
    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        camp = resolve_campaign(session, campaign)
        notice = issue_notice(session, camp, kind, units, reason, actor=actor)
        # rendered and written before the event is committed: a file that cannot be written
        # records nothing
        from notifications.appraisal import notice_title, write_notice_docx

        _write(out, write_notice_docx(notice))
    console = Console(soft_wrap=True)
    console.print(f"已印发：{escape(notice_title(notice))}")
    console.print(f"[green]已写出[/green] {escape(str(out))}")
