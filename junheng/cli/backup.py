"""`junheng backup` and `junheng restore`: one archive of the database and the evidence files.

The work is in tracker/backup.py; these commands only find the configured database and data
directory, and print what was done in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from junheng.cli.common import fail

KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def backup_command(
    out: Annotated[Path | None, typer.Option("--out", help="备份文件（.tar.gz）；默认为当前目录下的 junheng-backup-日期-时间.tar.gz",
                                             show_default=False)] = None,
) -> None:
    """备份：把数据库和佐证材料文件写成一个一致的压缩包（系统运行中也可备份）。"""
    import datetime as dt

    from tracker.backup import create_backup
    from tracker.clock import local_time
    from tracker.db import migrate
    from tracker.evidence.storage import format_size
    from tracker.settings import get_settings

    settings = get_settings()
    url = settings.database_url_resolved
    now = dt.datetime.now(dt.timezone.utc)
    target = out or Path(f"junheng-backup-{local_time(now):%Y%m%d-%H%M%S}.tar.gz")
    try:
        migrate(url)
        report = create_backup(url, settings.data_dir, target, now=now)
    except OSError as exc:  # e.g. a folder the service user may not write to
        fail(f"无法写入备份文件 {target.resolve()}：{exc.strerror or exc}（请换一个 junheng 用户可写的目录）")
    manifest = report.manifest
    tables = manifest["database"]["tables"]
    console = Console(soft_wrap=True, highlight=False)
    console.print(f"已备份到 {escape(str(report.path.resolve()))}（{format_size(report.path.stat().st_size)}）")
    console.print(f"  数据库：{KIND_NAMES[manifest['database']['kind']]}，结构版本 {manifest['alembic_revision']}，"
                  f"{len(tables)} 张表共 {sum(tables.values())} 行；任务 {tables.get('task', 0)} 项，"
                  f"事件 {tables.get('event', 0)} 条")
    console.print(f"  佐证材料文件：{manifest['evidence_files']} 个；备份时间：{manifest['created_at_beijing']}（北京时间）")
    if report.missing_evidence:
        console.print(f"[yellow]注意：数据库记录的 {len(report.missing_evidence)} 个佐证材料文件已不在存储目录中，"
                      f"未能备份：{escape('、'.join(s[:12] + '…' for s in report.missing_evidence[:5]))}[/yellow]")


def restore_command(
    archive: Annotated[Path, typer.Argument(help="junheng backup 写出的备份文件", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", help="目标数据库已有数据时，确认用备份替换全部数据")] = False,
) -> None:
    """恢复：把备份文件恢复到当前配置的数据库和数据目录（请先停止 serve 和 scheduler）。"""
    from tracker.backup import restore_backup
    from tracker.settings import get_settings

    settings = get_settings()
    try:
        report = restore_backup(archive, settings.database_url_resolved, settings.data_dir, force=yes)
    except OSError as exc:
        fail(f"恢复时读写文件失败：{exc}")
    manifest = report.manifest
    console = Console(soft_wrap=True, highlight=False)
    console.print(f"已从 {escape(str(archive))} 恢复（备份于 {manifest['created_at_beijing']}，北京时间）"
                  f"{'，原有数据已被替换' if report.replaced else ''}。")
    console.print(f"  数据库：{len(report.tables)} 张表共 {sum(report.tables.values())} 行，行数与备份清单一致；"
                  f"已迁移到本程序的结构版本")
    console.print(f"  佐证材料文件：{report.evidence_files} 个；自定义标准文件：{report.standards_files} 个")
