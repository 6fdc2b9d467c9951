"""`junheng export breakdown`: the 任务分解表 a county issues, as .xlsx and/or .docx."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from tracker.campaigns.breakdown import write_breakdown_docx, write_breakdown_xlsx
from tracker.db import get_engine, migrate
from junheng.cli.common import campaign_or_exit

export_app = typer.Typer(help="导出：任务分解表等正式文件", no_args_is_help=True)


@export_app.command("breakdown")
def breakdown_command(
    xlsx: Path | None = typer.Option(None, "--xlsx", help="写出 Excel 文件（A4 横向）"),
    docx: Path | None = typer.Option(None, "--docx", help="写出 Word 文件（A4 横向，公文字体）"),
    campaign_code: str | None = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写"),
) -> None:
    """导出任务分解表：每项指标的现状（含差异系数）、措施、完成时限、牵头和配合单位。
    不写 --xlsx/--docx 时在当前目录写出两种格式。"""
    migrate()
    console = Console(soft_wrap=True)
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        if xlsx is None and docx is None:
            xlsx = Path(f"{campaign.code}-任务分解表.xlsx")
            docx = Path(f"{campaign.code}-任务分解表.docx")
        for path, writer in ((xlsx, write_breakdown_xlsx), (docx, write_breakdown_docx)):
            if path is None:
                continue
            if not path.parent.exists():
                Console(stderr=True, soft_wrap=True).print(f"[red]错误：[/red]目录不存在：{escape(str(path.parent))}")
                raise typer.Exit(2)
            try:
                writer(session, campaign, path)
            except OSError as error:
                Console(stderr=True, soft_wrap=True).print(f"[red]错误：[/red]无法写入 {escape(str(path))}：{escape(str(error))}")
                raise typer.Exit(2) from None
            console.print(f"[green]已写出[/green] {escape(str(path))}")
