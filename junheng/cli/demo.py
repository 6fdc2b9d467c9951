"""`junheng demo [--dir DIR] [--host H] [--port P] [--no-serve]`: the example county end to end.

A numbered sequence of steps, each printed (in Chinese) as it runs. Running it again changes
nothing that exists — no second campaign, task, message or briefing — except the demo accounts'
passwords, which are new on every run (they are printed, so they must not outlive the run).

 1. the database: DIR/junheng.db, unless JUNHENG_DATABASE_URL names another; migrated;
 2. the campaign from examples/plan.yaml (created, or updated in place);
 3. the working-day calendar: the illustrative 2027 file (examples/calendar-2027.yaml), imported
    unless the same days are already stored — or the office has imported the real notice;
 4. a small illustrative satisfaction survey (junheng/cli/demo_survey.py), then the self-check
    flow on examples/schools.xlsx (import → assess → tasks);
 5. the dispatcher: flows that react to recorded events;
 6. the notices: one reminder sweep at the present moment, then delivery. With no SMTP server
    configured the messages go through the local mail sink (a real SMTP server, aiosmtpd) into
    DIR/mail/<recipient>/<Message-ID>.eml. Outside the sending window (working days 08:30–18:00)
    the sweep holds them until the window opens; the demo then delivers them *as of* that opening,
    so the .eml files exist at once. With SMTP configured only what is due now is sent;
 7. the weekly briefing (调度通报) of the current week so far, into DIR/briefings (no mail);
 8. the documents, written into DIR: 任务分解表 (.xlsx, .docx) and the assessment (.json, .xlsx),
    and the application documents: 自评报告 (.docx), 申报表 (.xlsx, .docx);
 9. the campaign's status;
10. the demo accounts (office, department, school, reviewer) with fresh one-time passwords;
11. the web application with its scheduler (unless --no-serve), until Ctrl-C.

Steps 6 (junheng/cli/demo_notices.py), 7–8 (demo_documents.py) and 10 (demo_accounts.py) live in
their own modules, as do the issue steps (demo_survey, demo_materials, demo_programme, demo_region).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from junheng.cli.prefect_console import quiet_prefect
from tracker.errors import ErrorKind, JunhengError

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_DIR = Path("junheng-demo")
DEMO_ACTOR = "韩静"  # the example plan's office director runs the self-check
CALENDAR_FILE = "calendar-2027.yaml"


class DemoError(JunhengError, kind=ErrorKind.not_found):
    """Something the demo needs is missing (Chinese message)."""


def examples_dir() -> Path:
    """The bundled example county: in an installed wheel it ships inside the package
    (junheng/examples); in a checkout it is the repository's examples/ beside the package."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "examples", package.parent / "examples"):
        if all((candidate / name).is_file() for name in ("plan.yaml", "schools.xlsx", CALENDAR_FILE)):
            return candidate
    raise DemoError(f"找不到示例文件（plan.yaml、schools.xlsx、{CALENDAR_FILE}）：已查找 {package / 'examples'} 和 "
                    f"{package.parent / 'examples'}")


def fail(message: str) -> NoReturn:
    errors.print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def _step(number: int, text: str) -> None:
    console.print(f"\n[bold]{number}. {escape(text)}[/bold]")


def _check_port_free(host: str, port: int) -> None:
    import errno
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        why = "该端口已被占用" if exc.errno == errno.EADDRINUSE else f"{exc}"
        fail(f"无法在 {host}:{port} 上启动网页服务：{why}。请用 --port 换一个端口，或加 --no-serve 只运行演示步骤。")


def use_database(directory: Path) -> tuple[str, bool]:
    """The demo's database: JUNHENG_DATABASE_URL when set (second value True), else DIR/junheng.db
    — made the process default, so the flows' steps (which open their own sessions) use it too."""
    from tracker.settings import get_settings

    given = os.environ.get("JUNHENG_DATABASE_URL")
    url = given or f"sqlite:///{(directory / 'junheng.db').resolve()}"
    os.environ["JUNHENG_DATABASE_URL"] = url
    get_settings.cache_clear()
    return url, bool(given)


def use_web_address(host: str, port: int) -> str:
    """The address links in mails point at: JUNHENG_BASE_URL when set, else the one the demo serves."""
    from tracker.settings import get_settings

    if not os.environ.get("JUNHENG_BASE_URL"):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        os.environ["JUNHENG_BASE_URL"] = f"http://{shown}:{port}"
        get_settings.cache_clear()
    return get_settings().base_url


def use_mail_sink(directory: Path) -> Path | None:
    """With no SMTP server configured, mail goes to the local sink under DIR/mail (or
    JUNHENG_MAIL_SINK_DIR when set) — for the demo's own delivery and, through the environment, for
    the scheduler of the server it starts. None when an SMTP server is configured."""
    from tracker.settings import get_settings

    if get_settings().smtp_host:
        return None
    if not os.environ.get("JUNHENG_MAIL_SINK_DIR"):
        os.environ["JUNHENG_MAIL_SINK_DIR"] = str((directory / "mail").resolve())
        get_settings.cache_clear()
    return Path(get_settings().mail_sink_dir)


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="演示目录：数据库（未设置 JUNHENG_DATABASE_URL 时）和生成的文件都放在这里")] = DEFAULT_DIR,
    host: Annotated[str, typer.Option("--host", help="网页服务监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="网页服务端口")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="完成各步骤后退出，不启动网页服务")] = False,
) -> None:
    """演示：用示例县（青川县）走一遍——建立创建工作、导入示例日历、自查、发出交办单、生成调度通报、建立演示账号，最后启动网页服务。可重复运行。"""
    import asyncio

    from sqlalchemy.engine import make_url

    from tracker.db import migrate

    if not no_serve:
        _check_port_free(host, port)  # before the steps, not after a minute of them
    try:
        examples = examples_dir()
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"无法建立演示目录 {directory}：{exc}")
    url, from_env = use_database(directory)
    base_url = use_web_address(host, port)
    sink_dir = use_mail_sink(directory)

    _step(1, "数据库")
    parsed = make_url(url)
    shown = (f"{parsed.database}（SQLite 文件）" if parsed.get_backend_name() == "sqlite" and parsed.database
             else parsed.render_as_string(hide_password=True))
    console.print(f"数据库：{escape(shown)}" + ("（来自 JUNHENG_DATABASE_URL）" if from_env else ""))
    migrate(url)

    _step(2, f"创建工作：按方案 {examples / 'plan.yaml'} 建立（已建立则按方案更新）")
    code, name, created = _apply_plan(examples / "plan.yaml")
    console.print(f"{'已建立' if created else '已存在，按方案更新'}：{escape(name)}（编号 {escape(code)}）")

    _step(3, f"工作日日历：导入示例日历 {examples / CALENDAR_FILE}")
    _import_example_calendar(examples / CALENDAR_FILE)

    from junheng.cli.demo_survey import run_demo_survey  # issue 13 §3: a small illustrative survey

    run_demo_survey(code, directory, base_url, console)

    _step(4, f"自查流程（Prefect）：导入 {examples / 'schools.xlsx'}、评估、生成任务")
    quiet_prefect()
    from flows.dispatcher import DispatchMode, dispatch_pending
    from flows.selfcheck import run_self_check_flow
    from junheng.cli.dispatch import print_report

    console.print("（首次运行时 Prefect 需要十几秒启动本地临时服务器）")
    counts = run_self_check_flow(code, examples / "schools.xlsx", DEMO_ACTOR, "自查（演示）")
    console.print(f"第 {counts['submission_id']} 批数据，评估 #{counts['assessment_id']}；任务：新建 {counts['created']} 项，"
                  f"数据已达标 {counts['resolved']} 项，重新打开 {counts['reopened']} 项，未变 {counts['unchanged']} 项")
    from junheng.cli.data import print_redated

    print_redated(console, counts.get("redated") or [])
    from junheng.cli.demo_materials import print_materials_and_conditions  # issue 13 §4–5

    print_materials_and_conditions(console, code)

    _step(5, "事件分发：启动响应事件的流程（阶段流程、阶段验收、整改复测）")
    _start_due_phase(code)
    print_report(asyncio.run(dispatch_pending(mode=DispatchMode.embedded)))

    _step(6, "通知：提醒扫描（任务交办单等），并投递" + ("到本地邮件目录" if sink_dir else "到邮件服务器"))
    from junheng.cli.demo_notices import send_notices

    send_notices(code, url, sink_dir)

    _step(7, f"调度通报：本周（截至现在）的调度通报，写出到 {directory / 'briefings'}")
    from junheng.cli.demo_documents import issue_briefing, write_documents

    issue_briefing(code, directory / "briefings")

    _step(8, f"导出文件到 {directory}")
    for path in write_documents(code, counts["assessment_id"], directory):
        console.print(f"已写出 {escape(str(path))}")

    _step(9, "创建工作进展")
    from junheng.cli.status import status

    status(campaign=code, as_json=False, today=None)

    _step(10, "演示账号：办公室、责任单位、学校、评估人员（每次运行演示都重新生成一次性密码）")
    from junheng.cli.demo_accounts import demo_accounts, print_accounts

    accounts = demo_accounts(code)
    from junheng.cli.demo_programme import programme_demo  # issue 15 §1: a 示范校 programme beside the county

    accounts += programme_demo(examples / "programme.yaml", code)
    print_accounts(accounts)
    from junheng.cli.demo_region import demo_region  # issue 15 §2: the city's roll-up and its log-in

    demo_region(code, directory)

    if no_serve:
        console.print(f"\n演示完成（--no-serve：不启动网页服务）。再次运行 junheng demo --dir {directory} 不会重复建立"
                      f"创建工作、任务、通知或调度通报。要打开网页，运行 junheng demo --dir {directory}（不加 --no-serve）。")
        _print_how_to_reach(url, from_env, code)
        return
    _print_how_to_reach(url, from_env, code)

    _step(11, f"网页服务：{base_url}/ （含调度：提醒扫描、邮件投递、事件分发），按 Ctrl+C 停止")
    console.print(f"在浏览器中打开 {base_url}/login ，用上面的账号登录（例如办公室账号 office）。")
    if sink_dir is not None:
        console.print(f"服务运行期间发出的邮件也写入 {escape(str(sink_dir))}。")
    from junheng.cli.serve import serve_command

    try:
        serve_command(host=host, port=port, workers=1, no_scheduler=False, log_level="info")
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and re-raises the Ctrl+C it caught
    console.print("网页服务已停止。")
    _print_how_to_reach(url, from_env, code)


def _start_due_phase(code: str) -> None:
    """The campaign's first phase begins once its start date has come: the scheduler's gate safety
    net does this every 10 minutes; the demo does it now, so that step 5 runs the phase's own flow
    (issue 16: 阶段部署通知, the reminder ladder). Only the demo's county: a second run finds it begun."""
    from tracker.clock import local_today
    from tracker.db import session_scope
    from tracker.org.queries import campaign_id_by_code
    from tracker.phases.queries import campaigns_not_started
    from tracker.phases.service import activate

    with session_scope() as session:
        campaign_id = campaign_id_by_code(session, code)
        for phase in campaigns_not_started(session, local_today()):
            if phase.campaign_id == campaign_id and activate(session, phase, reason="已到阶段开始日期"):
                console.print(f"阶段「{escape(phase.name)}」已到开始日期，开始进行；其阶段流程由下面的事件分发启动。")


def _print_how_to_reach(url: str, from_env: bool, code: str) -> None:
    """The demo's last lines: how to run other commands on its database from a new shell (each
    command otherwise uses the default database in the user data directory)."""
    import shlex
    import sys

    from junheng.cli.common import database_shown

    console.print("\n在新的终端里对这个演示的数据运行其他命令：")
    if sys.prefix != sys.base_prefix:  # a virtual environment: its bin/ holds the junheng command
        console.print(f"  source {shlex.quote(str(Path(sys.prefix) / 'bin' / 'activate'))}")
    if from_env:
        console.print(f"  （数据库来自 JUNHENG_DATABASE_URL：{escape(database_shown(url))}，请设置同样的值）")
    else:
        console.print(f"  export JUNHENG_DATABASE_URL={shlex.quote(url)}", highlight=False)
    # the demo's database also holds a 示范校 programme and a second county (issue 15): name the county
    console.print(f"  junheng campaign status --campaign {shlex.quote(code)}", highlight=False)


# ---------------------------------------------------------------------------------------------
# the campaign


def _apply_plan(plan_path: Path) -> tuple[str, str, bool]:
    from tracker.campaigns.service import apply_plan
    from tracker.db import session_scope
    from tracker.org.queries import campaign_id_by_code
    from tracker.plans import load_plan

    plan = load_plan(plan_path)
    with session_scope() as session:
        existed = campaign_id_by_code(session, plan.code) is not None
        campaign = apply_plan(session, plan)
        return campaign.code, campaign.name, not existed


# ---------------------------------------------------------------------------------------------
# the calendar


def _import_example_calendar(path: Path) -> None:
    """Import the illustrative year unless the store already has the same days from the same source
    (importing always replaces the year and logs an event, so a re-run would add one each time),
    and never over the office's real notice for that year."""
    from tracker.calendar import load_calendar
    from tracker.calendar.service import (
        import_calendar_year,
        imported_year,
        override_days,
    )
    from tracker.calendar.year_file import load_year_file
    from tracker.db import session_scope
    from tracker.reminders.sweep import reschedule_open_tasks

    year_file = load_year_file(path)
    year = year_file.year
    console.print(f"[bold yellow]注意：这是示例日历（来源「{escape(year_file.source)}」），不是国务院办公厅的 {year} 年"
                  f"放假通知。[/bold yellow]日期按往年规律推算，只为演示跨入 {year} 年的期限；正式通知发布后，"
                  f"请按通知改写文件并用 junheng calendar import 导入。")
    with session_scope() as session:
        stored = imported_year(session, year)
        if stored is not None and not stored.illustrative:
            console.print(f"数据库中已有 {year} 年的正式放假安排（来源 {escape(stored.source)}），不用示例覆盖。")
        else:
            days = override_days(session, year)
            if stored is not None and stored.source == year_file.source and days == set(year_file.override_days()):
                console.print(f"{year} 年示例日历已导入，内容未变，不重复导入。")
            else:
                result = import_calendar_year(session, year_file, entered_by=DEMO_ACTOR, file_name=path.name)
                console.print(f"已导入 {year} 年示例日历：{len(year_file.holidays)} 个假期共放假 {result.holiday_days} 天，"
                              f"调休上班 {result.working_weekend_days} 天。")
                if result.replaced_source is not None:
                    console.print(f"替换了此前的 {year} 年安排（来源 {escape(result.replaced_source)}）。")
                # working days moved: the next sweep works out every open task's next reminder again
                marked = reschedule_open_tasks(session)
                if marked:
                    console.print(f"{marked} 项未办结任务的提醒时间将在下次提醒扫描时按新日历重新计算。")
        load_calendar(session)  # the rest of the demo counts working days on it
