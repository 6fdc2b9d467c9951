"""`junheng serve`: the web application under uvicorn.

As one process (the default, ``--workers 1``) it also runs the scheduler in the same event loop
(the reminder sweep, mail delivery, the event dispatcher; see junheng/scheduler.py), unless
``--no-scheduler``. With several workers no worker runs one: start ``junheng scheduler`` once,
separately. The scheduler's leader lock keeps it to one per database anyway, so a second
``junheng serve`` on the same database waits rather than doubling the reminders.

Every process reads and writes the same database and signs session cookies with the same
JUNHENG_SECRET_KEY, so any number of processes (workers, or several ``serve`` behind one
address) answer alike.
"""

from __future__ import annotations

import functools
from typing import Annotated

import typer
from rich.console import Console

from tracker.settings import get_settings

DEFAULT_SECRET = "change-me-junheng-dev-secret"
# uvicorn kills a worker that does not answer its health check within this time. A new worker
# first imports the whole app (seconds, more on a busy machine); with uvicorn's 5 s default a
# loaded machine kills every worker before it is up, and restarts it, for ever.
WORKER_START_SECONDS = 60


def serve_command(
    host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="端口")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="工作进程数；多于 1 时不在本进程内运行调度")] = 1,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="不在本进程内运行调度（另行运行 junheng scheduler）")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn 日志级别（与全局选项 --verbose 同用）")] = "info",
) -> None:
    """启动网页与接口服务（前台，Ctrl+C 停止）。单进程时同时运行调度。"""
    import uvicorn

    from junheng.cli.logs import is_verbose
    from junheng.cli.scheduler import configure_logging as configure_scheduler_logging
    from junheng.scheduler import SchedulerSetupError, check_setup, run_scheduler
    from tracker.db import migrate

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    settings = get_settings()
    url = settings.database_url_resolved
    migrate(url)
    configure_scheduler_logging()
    if settings.secret_key == DEFAULT_SECRET:
        console.print("[yellow]注意：正在使用默认密钥签名登录会话；正式使用请设置 JUNHENG_SECRET_KEY"
                      "（多个进程须设置同一个值）。[/yellow]")

    with_scheduler = workers == 1 and not no_scheduler
    if with_scheduler:
        try:
            check_setup(url)
        except SchedulerSetupError as exc:
            console.print(f"[yellow]注意：{exc} 本进程不运行调度。[/yellow]")
            with_scheduler = False
    elif workers > 1 and not no_scheduler:
        console.print("多进程运行时各工作进程都不运行调度：请另行运行一次 junheng scheduler。")

    address = f"http://{host}:{port}/"
    started = f"网页服务已启动：{address}（{workers} 个工作进程{'，含调度' if with_scheduler else ''}），按 Ctrl+C 停止。"
    verbose = is_verbose()
    # uvicorn's own lines (start, shutdown, every request) are English: only with --verbose
    # X-Forwarded-* are read by the app itself, from the peers of JUNHENG_TRUSTED_PROXIES (api.app)
    common = dict(host=host, port=port, proxy_headers=False, access_log=verbose,
                  log_level=log_level if verbose else "critical", **({} if verbose else {"log_config": None}))
    if workers == 1:
        from api.app import create_app

        class Server(uvicorn.Server):
            async def startup(self, sockets=None) -> None:
                await super().startup(sockets=sockets)
                if self.started:  # listening now
                    console.print(started)

        background = functools.partial(run_scheduler, url=url) if with_scheduler else None
        server = Server(uvicorn.Config(create_app(background=background), **common))
        try:
            server.run()
        except SystemExit:
            if server.started:
                raise
            # uvicorn logs why it could not bind (quiet here) and exits; say it in Chinese
        if not server.started:
            console.print(f"[red]错误：[/red]网页服务未能在 {host}:{port} 启动（端口可能已被占用，或地址无效）。")
            raise typer.Exit(1)
    else:
        # workers import the app themselves (a factory); none of them runs the scheduler
        console.print(started)
        uvicorn.run("api.app:create_app", factory=True, workers=workers,
                    timeout_worker_healthcheck=WORKER_START_SECONDS, **common)
