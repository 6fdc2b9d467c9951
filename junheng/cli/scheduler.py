"""`junheng scheduler`: the one process that runs the reminder sweep, mail delivery, the event
dispatcher and the weekly briefing slot on a clock (see junheng/scheduler.py)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True, highlight=False, soft_wrap=True)


def configure_logging() -> None:
    from junheng.cli.logs import is_verbose, log_to_console

    log_to_console()
    if not is_verbose():
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def scheduler_command(
    poll: Annotated[float, typer.Option("--poll", min=0.1, help="等待调度租约时每隔多少秒检查一次（租约长度与续期间隔见 JUNHENG_SCHEDULER_LEASE_SECONDS、JUNHENG_SCHEDULER_HEARTBEAT_SECONDS）")] = 5.0,
    sweep_every: Annotated[float, typer.Option("--sweep-every", min=1, help="提醒扫描间隔（秒）")] = 300.0,
    deliver_every: Annotated[float, typer.Option("--deliver-every", min=1, help="邮件投递间隔（秒）")] = 60.0,
    dispatch_every: Annotated[float, typer.Option("--dispatch-every", min=1, help="事件分发间隔（秒）")] = 30.0,
) -> None:
    """运行调度进程（前台，Ctrl+C 停止）：提醒扫描、邮件投递、事件分发和每周一 08:30 的周报时间。

    同一数据库只会有一个调度进程在工作，其余等待。"""
    from junheng.scheduler import Cadence, check_setup, run_forever
    from tracker.db import migrate
    from tracker.settings import get_settings

    url = get_settings().database_url_resolved
    check_setup(url)  # refuse a database it cannot lead before doing anything
    migrate(url)
    configure_logging()
    console.print("调度进程已启动，按 Ctrl+C 停止。")
    try:
        run_forever(url=url, cadence=Cadence(sweep=sweep_every, deliver=deliver_every, dispatch=dispatch_every),
                    poll_seconds=poll)
    except KeyboardInterrupt:
        pass
    console.print("调度进程已停止。")
