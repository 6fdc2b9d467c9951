"""`junheng sweep`: one reminder sweep by hand — queue what is due, deliver it, list it.

`--now` runs the sweep as if it were that moment (what would go out on 12-01 at 09:00?). That is
for rehearsals and tests: without `--dry-run`, whatever it queues and sends is recorded as sent,
so on a live database use it with `--dry-run`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tracker.clock import local_time, zone

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

LIGHT_STYLES = {"绿": "green", "黄": "yellow", "红": "red"}
PRESENT_TOLERANCE = dt.timedelta(minutes=5)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def parse_moment(text: str) -> dt.datetime:
    """An ISO time; without an offset it is read as local (Beijing) time, the one clock's zone."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--now 的时间「{text}」无法识别，应写作 2026-12-01T09:00（北京时间）或带时区的 ISO 时间")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment


def _local(moment: dt.datetime) -> str:
    return local_time(moment).strftime("%Y-%m-%d %H:%M")


def sweep_command(
    now: Annotated[str | None, typer.Option(
        "--now", help="按这个时间扫描（北京时间，如 2026-12-01T09:00）；默认为当前时间")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只列出应发送的通知，不写入、不发送")] = False,
    campaign_code: Annotated[str | None, typer.Option("--campaign", "-c", help="只扫描这个创建工作（编号）")] = None,
    rescan: Annotated[bool, typer.Option(
        "--rescan", help="先把所有未完成任务标记为待重新计算（修改提醒设置或导入节假日后使用）")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="最多列出多少条")] = 200,
) -> None:
    """提醒扫描：把此刻应发的交办单、签收提醒、临期/到期提醒、催办通知和督办单排队并发送，列出清单。"""
    from tracker.db import get_engine, migrate, utcnow
    from tracker.org.service import resolve_campaign
    from tracker.reminders.sweep import reschedule_open_tasks, sweep
    from tracker.settings import get_settings

    present = utcnow()
    moment = parse_moment(now) if now is not None else present
    if now is not None and not dry_run and abs(moment - present) > PRESENT_TOLERANCE:
        errors.print(f"[yellow]警告：按 {_local(moment)} 而不是当前时间扫描，本次排队和发出的通知都会记录为已发送，"
                     "以后真正到了那个时间也不会再发。真实数据库上请加 --dry-run。[/yellow]")
    if rescan and dry_run:
        _fail("--rescan 会修改任务的提醒时间，不能与 --dry-run 同用")

    url = get_settings().database_url_resolved
    migrate(url)
    engine = get_engine(url)
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        campaign = None
        if campaign_code is not None:
            campaign = resolve_campaign(session, campaign_code)
        if rescan:
            marked = reschedule_open_tasks(session, moment, campaign)
            session.commit()
            console.print(f"已将 {marked} 项未完成任务标记为待重新计算提醒时间。")
        if not dry_run:  # a recurring task's next occurrence, once its period has started (issue 12)
            from tracker.clock import local_date
            from tracker.tasks.recurrence import roll_recurring

            rolled = roll_recurring(session, local_date(moment), campaign=campaign)
            session.commit()
            for task in rolled:
                console.print(f"重复任务：已交办下一期 #{task.id}「{escape(task.title)}」，完成时限 {task.due_on.isoformat()}")
        report = sweep(session, moment, dry_run=dry_run, campaign=campaign)
        session.commit()
        if not dry_run:  # 迎检资料缺项提醒 (issue 13 §4): a review near, required materials missing
            from tracker.materials.notices import queue_materials_notices

            materials = queue_materials_notices(session, moment, campaign=campaign)
            session.commit()
            if materials:
                console.print(f"迎检资料缺项提醒：新排队 {materials} 条。")

    delivery = None
    if not dry_run:
        from notifications.delivery import deliver_due

        delivery = asyncio.run(deliver_due(engine, moment))

    _print_report(report, limit)
    if delivery is not None:
        _print_delivery(delivery)


def _print_report(report, limit: int) -> None:
    lines = report.new_lines
    already = len(report.lines) - len(lines)
    head = "试运行（未写入、未发送）：" if report.dry_run else ""
    console.print(f"{head}{_local(report.now)} 到了提醒时间的任务 {report.tasks} 项，"
                  f"{'应排队' if report.dry_run else '新排队'}通知 {len(lines)} 条"
                  + (f"（另有 {already} 条此前已排队）" if already else "") + "。")
    if lines:
        table = Table(show_lines=False)
        for column in ("任务", "提醒", "收件人", "灯", "最早发送"):
            table.add_column(column)
        for line in lines[:limit]:
            recipient = f"{line.recipient_name} <{line.recipient_address}>" + ("（抄送）" if line.copy else "")
            light = line.light.value if line.light else "—"
            rung = line.rung_label + (f" {line.occurrence}" if line.rung.value in ("chase", "ack_resend") else "") \
                + (f"（前 {line.occurrence} 个工作日）" if line.rung.value == "due_soon" else "")
            table.add_row(escape(f"#{line.task_id} {line.task_title}（{line.unit}）"), rung, escape(recipient),
                          f"[{LIGHT_STYLES.get(light, 'default')}]{light}[/]", _local(line.not_before))
        console.print(table)
        if len(lines) > limit:
            console.print(f"……另有 {len(lines) - limit} 条未列出（--limit）。")
    for problem in report.problems:
        errors.print(f"[yellow]注意：{escape(problem)}[/yellow]")


def _print_delivery(delivery) -> None:
    console.print(f"投递：组成邮件 {delivery.composed} 封，发出 {len(delivery.sent)} 封"
                  + (f"，失败 {len(delivery.failed)} 封（稍后重试）" if delivery.failed else "")
                  + (f"，放弃 {len(delivery.dead)} 封（已通知办公室）" if delivery.dead else "") + "。")
    for waiting in delivery.waiting:
        errors.print(f"[yellow]{escape(waiting)}[/yellow]")
    for problem in delivery.problems:
        errors.print(f"[yellow]注意：{escape(problem)}[/yellow]")
