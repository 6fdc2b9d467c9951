"""`junheng template FILE.xlsx`: write the school data template a county sends to its schools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tracker.schooldata.columns import OPTIONAL_HEADERS, REQUIRED_HEADERS
from tracker.schooldata.template import INSTRUCTIONS_SHEET, write_template

console = Console()
errors = Console(stderr=True)


def template(
    out: Annotated[Path, typer.Argument(help="要生成的模板文件路径，例如 schools.xlsx", show_default=False)],
    force: Annotated[bool, typer.Option("--force", "-f", help="文件已存在时覆盖")] = False,
) -> None:
    """生成学校基本情况填报模板（.xlsx），含填报说明、下拉选项和数值校验。"""
    if out.suffix.lower() != ".xlsx":
        _fail(f"模板文件名应以 .xlsx 结尾，实际为「{out.name}」。")
    if out.is_dir():
        _fail(f"「{out}」是一个目录，请给出文件名，例如 {out / 'schools.xlsx'}。")
    if out.exists() and not force:
        # a filled-in sheet is easy to overwrite by accident
        _fail(f"文件「{out}」已存在；如需覆盖请加 --force。")
    if not out.parent.exists():
        _fail(f"目录「{out.parent}」不存在。")
    try:
        write_template(out)
    except OSError as exc:
        _fail(f"无法写入「{out}」：{exc.strerror or exc}")
    console.print(f"[green]已生成学校数据填报模板：[/green]{out.resolve()}", soft_wrap=True, highlight=False)
    console.print(
        f"工作表「学校」共 {len(REQUIRED_HEADERS)} 个必填列、{len(OPTIONAL_HEADERS)} 个选填列；"
        f"填写要求见工作表「{INSTRUCTIONS_SHEET}」。",
        soft_wrap=True,
        highlight=False,
    )


def _fail(message: str) -> None:
    errors.print(f"[red]错误：[/red]{message}", soft_wrap=True, highlight=False)
    raise typer.Exit(code=2)  # a user error, like every command
