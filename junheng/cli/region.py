"""`junheng region`: the city's and province's view over many counties (issue 15 §2).

    junheng region import FILE             省、市和各县的创建工作 (the regions file)
    junheng region list                    the regions and their counties
    junheng region status [--region R] [--json] [--today D]
    junheng region user --region R --username U [--name N] [--password P]
    junheng region briefing [--region R] [--week 2026-W49] [--out DIR]   the 市级调度通报
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from junheng.cli.common import existing_database_or_exit, fail
from junheng.cli.task import parse_today
from tracker.db import get_engine, migrate, session_scope

region_app = typer.Typer(help="地区（市、省）：导入地区文件，查看各县创建进展、排名和市级调度通报，建立督导账号",
                         no_args_is_help=True)

RegionOption = typer.Option(None, "--region", "-r", help="地区编号（市或省）；只有一个省或一个市时可不写")
LIGHT_STYLE = {"green": "green", "yellow": "yellow", "red": "red"}


@region_app.command("import")
def import_command(path: Path = typer.Argument(..., help="地区文件（YAML：省、市、县）")) -> None:
    """导入地区文件：省、市及各市所辖县的创建工作编号。有问题时逐条列出，什么也不改。"""
    from tracker.regions.service import import_regions

    migrate()
    with session_scope(get_engine()) as session:
        result = import_regions(session, path)
    above = f"{result.province}，" if result.province else ""
    moved = f"（{result.moved} 个县改属其他市）" if result.moved else ""
    typer.echo(f"已导入：{above}{result.cities} 个市，{result.counties} 个县的创建工作{moved}")


@region_app.command("list")
def list_command() -> None:
    """列出各地区及所辖县。"""
    from tracker.regions.service import region_tree

    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        tree = region_tree(session)
    if not tree:
        typer.echo("还没有地区；请用 junheng region import 导入地区文件")
        return
    for region, counties in tree:
        typer.echo(f"{region.code}  {region.name}（{'省' if region.level == 'province' else '市'}）")
        for code, county in counties:
            typer.echo(f"    {code}  {county}")


@region_app.command("status")
def status_command(
    region: str | None = RegionOption,
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出（供脚本使用）"),
    today: str | None = typer.Option(None, "--today", help="按此日期（YYYY-MM-DD）计算，用于演练"),
) -> None:
    """各县创建进展：阶段、距关口工作日、任务完成与按时率、逾期与督办、差异系数、学校达标率、灯色和排名。"""
    from tracker.regions.rollup import LIGHT_NAMES, region_rollup
    from tracker.regions.service import resolve_region

    day = parse_today(today)
    existing_database_or_exit()
    migrate()
    with session_scope(get_engine()) as session:
        figures = region_rollup(session, resolve_region(session, region), day)
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    console = Console(soft_wrap=True)
    console.print(f"[bold]{escape(figures['region_name'])}[/bold] 各县创建进展  {day.isoformat()}")
    table = Table()
    for title in ("名次", "县", "阶段", "距关口", "任务", "完成率", "按时率", "逾期", "督办", "差异系数超限", "学校达标率", "灯"):
        table.add_column(title, overflow="fold")
    for c in figures["counties"]:
        t = c["tasks"]
        days = "—" if c["days_to_gate"] is None else (f"{c['days_to_gate']} 日" if c["days_to_gate"] >= 0
                                                       else f"已过 {-c['days_to_gate']} 日")
        style = LIGHT_STYLE[c["light"]]
        table.add_row(str(c["rank"]), escape(c["county"]), escape(c["phase"] or "已全部通过"), days,
                      f"{t['done']}/{t['total']}", _pct(c["completion_rate"]), _pct(c["on_time_rate"]),
                      str(t["overdue"]), str(c["escalations"]), str(len(c["cv_over"])), _pct(c["school_pass_rate"]),
                      f"[{style}]{LIGHT_NAMES[c['light']]}[/{style}]")
    console.print(table)
    if not figures["counties"]:
        console.print("本地区还没有县的创建工作")
    console.print("排名规则：先按灯色（绿、黄、红），再按完成率（高者在前）、逾期任务数（少者在前）、按时完成率、县名。")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


@region_app.command("user")
def user_command(
    region: str = typer.Option(..., "--region", "-r", help="地区编号（市或省）"),
    username: str = typer.Option(..., "--username", "-u", help="登录用户名"),
    name: str = typer.Option("", "--name", help="显示名称，默认「某市督导」"),
    password: str | None = typer.Option(None, "--password", help="密码；不写则生成一个一次性密码并显示"),
) -> None:
    """建立市/省督导账号：查看本地区各县的全部情况，只能录入本级复评和发布本地区通知。"""
    import secrets

    from tracker.accounts.regional import create_region_user
    from tracker.regions.service import region_by_code

    existing_database_or_exit()
    migrate()
    shown = password is None
    password = password or secrets.token_urlsafe(12)
    with session_scope(get_engine()) as session:
        user = create_region_user(session, region_by_code(session, region), username=username, password=password,
                                  name=name)
        label = user.name
    typer.echo(f"已建立督导账号「{username}」（{label}）" + (f"，密码：{password}" if shown else ""))


@region_app.command("briefing")
def briefing_command(
    region: str | None = RegionOption,
    week: str | None = typer.Option(None, "--week", help="ISO 周，如 2026-W49；默认上一周"),
    out: Path = typer.Option(Path("."), "--out", help="输出目录"),
) -> None:
    """市级调度通报：按周对各县排名，点名进度落后的县，输出 Word 文件。"""
    from notifications.briefing.region import write_region_briefing_docx
    from tracker.briefings.compute import previous_week
    from tracker.briefings.region import region_briefing
    from tracker.regions.service import resolve_region

    existing_database_or_exit()
    migrate()
    iso_week = week or previous_week()
    with session_scope(get_engine()) as session:
        data = region_briefing(session, resolve_region(session, region), iso_week)
    if out.exists() and not out.is_dir():
        fail(f"--out 应为目录：{out} 是一个文件")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{data.region_name}调度通报-{data.iso_week}.docx"
    path.write_bytes(write_region_briefing_docx(data))
    behind = "、".join(data.behind) or "无"
    typer.echo(f"已生成 {path}（{len(data.counties)} 个县；进度落后：{behind}）")
