"""The `junheng` command. Each command group lives in its own module and is loaded only when the
command line names it: `junheng task list` imports junheng.cli.task and what it needs, not
Prefect, matplotlib or the web stack (tests/junheng/test_cli_imports.py keeps it so).

A new command goes into ``COMMANDS`` below: its name, the module and the attribute (a Typer group
or a command function), and its one-line help for `junheng --help`.

Errors: a command lets a ``tracker.errors.JunhengError`` go; the root group catches it once, prints
「错误：…」 in Chinese to stderr (no traceback) and exits with its kind's code (``EXIT_CODE_OF_KIND``:
2 bad input, 3 not found, 4 conflict, 5 not allowed, 6 unsupported, 7 too large, 8 unavailable).
A command catches an error itself only to add to it (which file, which account).
"""

from __future__ import annotations

import difflib
import importlib
from functools import cache
from typing import Any

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

import junheng  # noqa: F401 — sets the environment defaults (no telemetry) before anything else
from junheng.cli import zh
from tracker.errors import ErrorKind, JunhengError

zh.install()

# name → (module, attribute, the line `junheng --help` shows for it); the order is the order of
# `junheng --help`. The line is kept here so the list needs no module imported;
# tests/junheng/test_cli_help.py fails when it differs from the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "standards": ("junheng.cli.standards", "standards_app",
        "评估标准：列出和查看督导评估标准（国家标准、省级标准）"),
    "template": ("junheng.cli.template", "template",
        "生成学校基本情况填报模板（.xlsx），含填报说明、下拉选项和数值校验。"),
    "assess": ("junheng.cli.assess", "assess",
        "按标准评估学校数据：资源配置 7 项指标、差异系数、各校达标情况和问题清单。"),
    "plan-gaps": ("junheng.cli.plan_gaps", "plan_gaps",
        "补短板测算：以最少费用补充教师、校舍和运动场馆面积、仪器设备、多媒体教室，使资源配置评估通过。"),
    "calendar": ("junheng.cli.calendar", "calendar_app",
        "工作日日历：法定节假日与调休（chinese-calendar 与办公室导入的放假通知）"),
    "dispatch": ("junheng.cli.dispatch", "dispatch",
        "分发事件：销号、撤销、评估结论和新导入的数据会启动相应流程（阶段验收、整改复测）。"),
    "campaign": ("junheng.cli.campaign", "campaign_app",
        "创建工作：按方案文件建立创建工作，查看阶段、单位和人员"),
    "phase": ("junheng.cli.phase", "phase_app",
        "阶段：列出阶段及编号、各阶段流程已做的步骤、阶段小结、流程运行记录"),
    "gate": ("junheng.cli.phase", "gate_app",
        "阶段验收：检查阶段关口（任务全部销号、评估阶段另需结论），通过则启动下一阶段"),
    "task": ("junheng.cli.task", "task_app",
        "任务：交办、查看、签收、报告进度、提交、销号、退回、撤销、延期、转办、分解、联办"),
    "data": ("junheng.cli.data", "data_app",
        "学校数据：导入填报表、查看各批数据"),
    "selfcheck": ("junheng.cli.data", "selfcheck_command",
        "自查自评：导入学校数据、评估，并按问题清单建立或更新任务（可重复运行，不会重复建任务）。"),
    "reassess": ("junheng.cli.data", "reassess_command",
        "重新评估并更新任务：问题已消除的任务标记为数据已达标（待办公室销号），问题再次出现的任务重新打开。"),
    "county-input": ("junheng.cli.data", "county_input_app",
        "县级指标：录入县级数据或认定结果（政府保障、教育质量、社会认可度、申报条件、否决事项）"),
    "review": ("junheng.cli.review", "review_app",
        "评估与督查：市级复评、省级评估、国家审核认定、县级督查的结论和反馈问题"),
    "export": ("junheng.cli.export", "export_app",
        "导出：任务分解表等正式文件"),
    "mail": ("junheng.cli.mail", "mail_app",
        "通知投递：投递待发通知、查看投递记录、重新投递"),
    "sweep": ("junheng.cli.sweep", "sweep_command",
        "提醒扫描：把此刻应发的交办单、签收提醒、临期/到期提醒、催办通知和督办单排队并发送，列出清单。"),
    "scheduler": ("junheng.cli.scheduler", "scheduler_command",
        "运行调度进程（前台，Ctrl+C 停止）：提醒扫描、邮件投递、事件分发和每周一 08:30 的周报时间。"),
    "user": ("junheng.cli.user", "user_app",
        "网页登录账号：新建、列出、改密码、停用"),
    "serve": ("junheng.cli.serve", "serve_command",
        "启动网页与接口服务（前台，Ctrl+C 停止）。单进程时同时运行调度。"),
    "demo": ("junheng.cli.demo", "demo",
        "演示：用示例县（青川县）走一遍——建立创建工作、导入示例日历、自查、发出交办单、生成调度通报、建立演示账号，最后启动网页服务。可重复运行。"),
    "briefing": ("junheng.cli.briefing", "briefing_app",
        "调度通报：按周生成、发送、查看"),
    "region": ("junheng.cli.region", "region_app",
        "地区（市、省）：导入地区文件，查看各县创建进展、排名和市级调度通报，建立督导账号"),
    "appraise": ("junheng.cli.appraise", "appraise_app",
        "考核：各单位按期完成、逾期、退回、督办情况与得分排名；通报表扬、批评"),
    "report": ("junheng.cli.report", "report_app",
        "申报材料：自评报告、申报表和基本情况表，以及办公室撰写的文字"),
    "survey": ("junheng.cli.survey", "survey_app",
        "满意度调查：问卷、答卷码（二维码）、纸质答卷录入与导入、调查结果"),
    "materials": ("junheng.cli.materials", "materials_app",
        "资料清单：各指标应备的佐证材料、缺项，导入本县清单，标注文件对应的资料项"),
    "conditions": ("junheng.cli.conditions", "conditions_app",
        "申报条件：由数据判定的 E4（差异系数）和 E2（近三年差异系数历史）"),
    "programme": ("junheng.cli.programme", "programme_app",
        "示范校项目：圈定、申请、复核、公示、评审打分、结对帮扶、表彰"),
    "backup": ("junheng.cli.backup", "backup_command",
        "备份：把数据库和佐证材料文件写成一个一致的压缩包（系统运行中也可备份）。"),
    "restore": ("junheng.cli.backup", "restore_command",
        "恢复：把备份文件恢复到当前配置的数据库和数据目录（请先停止 serve 和 scheduler）。"),
}


# The exit code of each kind of error (docs/development.md "Errors"); 1 stays for a check that
# found something (calendar --strict, mail test), 2 is also what Click gives a wrong option.
EXIT_CODE_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.invalid: 2,
    ErrorKind.bad_request: 2,
    ErrorKind.not_found: 3,
    ErrorKind.conflict: 4,
    ErrorKind.forbidden: 5,
    ErrorKind.unsupported: 6,
    ErrorKind.too_large: 7,
    ErrorKind.unavailable: 8,
}


def report_error(error: JunhengError) -> int:
    """Print the error for people (「错误：」 and its first line, further lines indented) on
    stderr; returns the exit code of its kind."""
    from rich.console import Console
    from rich.markup import escape

    from junheng.cli.common import user_message

    lines = user_message(error).splitlines() or [""]
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    err.print(f"[red]错误：[/red]{escape(lines[0])}")
    for line in lines[1:]:
        err.print("  " + line, markup=False)
    return EXIT_CODE_OF_KIND[error.kind]


@cache
def _typer_of(name: str) -> tuple[typer.Typer, bool]:
    """The command group or command ``name`` as a Typer app (and whether it is a group), its
    module imported now."""
    module_name, attribute, _ = COMMANDS[name]
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
    """The root group: each command is built from its module the first time it is asked for.
    `junheng --help` lists them from their lines in COMMANDS, importing none."""

    _listing = False

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        self._listing = True
        try:
            return super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(COMMANDS) + [name for name in super().list_commands(ctx) if name not in COMMANDS]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][2])
        target, is_group = _typer_of(cmd_name)
        # a group stays a group even with one command (`export breakdown`), as add_typer keeps it
        command = typer.main.get_group(target) if is_group else typer.main.get_command(target)
        command.name = cmd_name
        return command

    def invoke(self, ctx: _click.Context) -> Any:
        # the one catch of the tracker's errors for every command
        try:
            return super().invoke(ctx)
        except JunhengError as error:
            raise typer.Exit(report_error(error)) from None

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
