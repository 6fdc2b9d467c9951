"""The `junheng` command. Each command group lives in its own module and is loaded only when the
command line names it: `junheng task list` imports junheng.cli.task and what it needs, not
Prefect, matplotlib or the web stack (tests/junheng/test_cli_imports.py keeps it so).

A new command goes into ``COMMANDS`` below: its name, the module and the attribute (a Typer group
or a command function), and its one-line help for `junheng --help`.
"""

from __future__ import annotations

import difflib
import importlib
from functools import cache
from typing import Any

import typer
from typer import _click
from typer.core import TyperGroup

import junheng  # noqa: F401 — sets the environment defaults (no telemetry) before anything else
from junheng.cli import zh

zh.install()

# name → (module, attribute); the order is the order of `junheng --help`
COMMANDS: dict[str, tuple[str, str]] = {
    "standards": ("junheng.cli.standards", "standards_app"),
    "template": ("junheng.cli.template", "template"),
    "assess": ("junheng.cli.assess", "assess"),
    "calendar": ("junheng.cli.calendar", "calendar_app"),
    "dispatch": ("junheng.cli.dispatch", "dispatch"),
    "campaign": ("junheng.cli.campaign", "campaign_app"),
    "task": ("junheng.cli.task", "task_app"),
    "data": ("junheng.cli.data", "data_app"),
    "selfcheck": ("junheng.cli.data", "selfcheck_command"),
    "reassess": ("junheng.cli.data", "reassess_command"),
    "county-input": ("junheng.cli.data", "county_input_app"),
    "review": ("junheng.cli.review", "review_app"),
    "export": ("junheng.cli.export", "export_app"),
    "mail": ("junheng.cli.mail", "mail_app"),
    "sweep": ("junheng.cli.sweep", "sweep_command"),
    "scheduler": ("junheng.cli.scheduler", "scheduler_command"),
    "user": ("junheng.cli.user", "user_app"),
    "serve": ("junheng.cli.serve", "serve_command"),
    "demo": ("junheng.cli.demo", "demo"),
    "briefing": ("junheng.cli.briefing", "briefing_app"),
    "backup": ("junheng.cli.backup", "backup_command"),
    "restore": ("junheng.cli.backup", "restore_command"),
}


@cache
def _typer_of(name: str) -> tuple[typer.Typer, bool]:
    """The command group or command ``name`` as a Typer app (and whether it is a group), its
    module imported now."""
    module_name, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        if name == "campaign":
            from junheng.cli.status import status

            target.command("status")(status)
        target._add_completion = False  # built on its own here; no English shell-completion options
        return target, True
    single = typer.Typer(add_completion=False)
    single.command(name)(target)
    return single, False


class _LazyGroup(TyperGroup):
    """The root group: each command is built from its module the first time it is asked for."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(COMMANDS) + [name for name in super().list_commands(ctx) if name not in COMMANDS]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        target, is_group = _typer_of(cmd_name)
        # a group stays a group even with one command (`export breakdown`), as add_typer keeps it
        command = typer.main.get_group(target) if is_group else typer.main.get_command(target)
        command.name = cmd_name
        return command

    def resolve_command(self, ctx: _click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except _click.exceptions.UsageError as error:
            # Typer suggests from the commands already built; here they are built on demand
            matches = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches and "Did you mean" not in error.message:
                suggestions = ", ".join(repr(match) for match in matches)
                error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


app = typer.Typer(
    name="junheng",
    cls=_LazyGroup,
    help="均衡督办：县域义务教育优质均衡发展创建工作督办系统",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["--help", "-h"]},
)


@app.callback()
def _every_command(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", help="同时显示 Prefect、uvicorn 等组件自己的日志（排查问题时用）"),
) -> None:
    from junheng.cli.calendar import count_on_store_calendar
    from junheng.cli.logs import configure_logging

    configure_logging(verbose)
    count_on_store_calendar(ctx)  # every command counts working days on the store's calendar


def main() -> Any:
    return app(prog_name="junheng")
