"""`junheng calendar import|show|check`: the working-day calendar (法定节假日与调休).

Also the hook every command runs under (registered as the app's callback in junheng/cli/__init__.py):
dates are counted on the calendar in the store, and whatever unknown or illustrative year a
command used is printed in yellow when it ends.
"""

from __future__ import annotations

import datetime as dt
import getpass
from itertools import groupby
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from tracker.clock import zone
from tracker.calendar import (
    LIBRARY,
    DayStatus,
    WorkingDayCalendar,
    load_calendar,
    restore_calendar,
    take_active_notices,
    use_store_calendar,
)
from tracker.calendar.working_days import NEXT_NOTICE_REACHES_BACK_TO
from tracker.db import get_engine, migrate, session_scope
from tracker.settings import get_settings

# YAML reading, the import service and the reminder sweep are imported by the commands that
# use them: this module is loaded for every command (count_on_store_calendar is the app's callback).

calendar_app = typer.Typer(
    help="工作日日历：法定节假日与调休（chinese-calendar 与办公室导入的放假通知）",
    no_args_is_help=True,
)


def _out() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _err() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _fail(message: str) -> NoReturn:
    _err().print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def print_calendar_notices() -> None:
    """Print, in yellow on stderr, every unknown or illustrative year the command has used."""
    notices = take_active_notices()
    if not notices:
        return
    console = _err()
    for notice in notices:
        console.print(f"[yellow]注意：{escape(notice.message)}[/yellow]")


def count_on_store_calendar(ctx: typer.Context) -> None:
    """The app callback: count working days on the store's calendar (read on first use) and
    print the calendar's notices when the command ends."""
    previous = use_store_calendar()

    def finish() -> None:
        try:
            print_calendar_notices()
        finally:
            restore_calendar(previous)  # an in-process caller (a test) gets its calendar back

    ctx.call_on_close(finish)


def _engine():
    # by URL: get_engine() without one caches the first database it saw for the whole process
    return get_engine(get_settings().database_url_resolved)


def _store_calendar() -> WorkingDayCalendar:
    migrate()
    with Session(_engine()) as session:
        return load_calendar(session)


def _day_text(day: dt.date, with_month: bool = True) -> str:
    from tracker.calendar.year_file import WEEKDAYS

    text = f"{day.month}月{day.day}日" if with_month else f"{day.day}日"
    return f"{text}（周{WEEKDAYS[day.weekday()]}）"


def _coverage_text(calendar: WorkingDayCalendar, year: int) -> str:
    coverage = calendar.coverage(year)
    if coverage.by == "override":
        text = f"已导入的放假通知（来源：{coverage.source}）"
        return text + "——示例，不是正式通知" if coverage.illustrative else text
    if coverage.by == "chinese-calendar":
        return f"{LIBRARY}（收录的国务院办公厅放假通知）"
    return "未知——按周一至周五计算，节假日和调休未计入"


# ---------------------------------------------------------------------------------------


@calendar_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="一年的放假通知（YAML），格式见 examples/calendar-2027.yaml"),
    entered_by: str = typer.Option(None, "--as", help="录入人姓名（默认为当前系统用户）"),
) -> None:
    """导入一年的放假通知；同一年再次导入时整体替换。"""
    from tracker.calendar.service import import_calendar_year
    from tracker.calendar.year_file import load_year_file
    from tracker.reminders.sweep import reschedule_open_tasks

    year_file = load_year_file(file)
    migrate()
    with session_scope(_engine()) as session:
        result = import_calendar_year(session, year_file, entered_by=entered_by or getpass.getuser(),
                                      file_name=file.name)
        # working days moved: the sweep works out every open task's next reminder again
        rescheduled = reschedule_open_tasks(session)
    _store_calendar()  # later dates in this command count on what was just imported

    out = _out()
    verb = f"已替换 {result.year} 年的放假安排（原来源：{escape(result.replaced_source)}）" \
        if result.replaced_source is not None else f"已导入 {result.year} 年的放假安排"
    out.print(f"{verb}：来源 {escape(result.source)}，{len(year_file.holidays)} 个假期共放假 "
              f"{result.holiday_days} 天，调休上班 {result.working_weekend_days} 天。")
    if rescheduled:
        out.print(f"{rescheduled} 项未办结任务的提醒时间将在下次提醒扫描时按新日历重新计算。")
    if result.library_knows_year:
        out.print(f"{LIBRARY} 也收录了 {result.year} 年；文件中列出的日期以文件为准。")
    if result.illustrative:
        _err().print(f"[yellow]注意：这是示例日历（{escape(result.source)}），不是国务院办公厅的正式通知。"
                     f"国务院办公厅发布 {result.year} 年通知后，请按通知改写文件并重新导入。[/yellow]")


@calendar_app.command("show")
def show_command(year: int = typer.Argument(..., help="年份，例如 2027")) -> None:
    """按月列出一年的放假与调休上班日，以及来源。"""
    from tracker.calendar.service import imported_year

    if not 1900 <= year <= 2200:
        _fail(f"年份 {year} 不合理。")
    calendar = _store_calendar()
    coverage = calendar.coverage(year)
    out = _out()
    out.print(f"[bold]{year} 年工作日日历[/bold]")
    out.print(f"来源：{escape(_coverage_text(calendar, year))}")
    if coverage.by == "override":
        with Session(_engine()) as session:
            row = imported_year(session, year)
        if row is not None:
            at = row.entered_at.astimezone(zone()).strftime("%Y-%m-%d %H:%M")
            out.print(f"导入：{escape(row.entered_by)} 于 {at}" + (f"，文件 {escape(row.file_name)}" if row.file_name else ""))

    days = [calendar.day(dt.date(year, 1, 1) + dt.timedelta(days=i))
            for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)]
    working = sum(d.working for d in days)
    holidays = sum(1 for d in days if not d.working and d.name)
    adjusted = sum(1 for d in days if d.is_adjusted_working_day)
    out.print(f"全年工作日 {working} 天；节假日 {holidays} 天；调休上班 {adjusted} 天。")
    for month, month_days in groupby(days, key=lambda d: d.date.month):
        month_days = list(month_days)
        out.print(f"\n[bold]{month}月[/bold]  工作日 {sum(d.working for d in month_days)} 天")
        for line in _month_lines(month_days):
            out.print(f"  {escape(line)}")

    if not coverage.known:
        _err().print(f"[yellow]注意：{year} 年的放假安排未知，以上按周一至周五列出。国务院办公厅发布通知后，"
                     f"请用「junheng calendar import」导入。[/yellow]")
    elif coverage.illustrative:
        _err().print(f"[yellow]注意：{year} 年的安排来自示例文件（{escape(coverage.source)}），"
                     f"不是国务院办公厅的正式通知，仅供演示。[/yellow]")


def _month_lines(days: list[DayStatus]) -> list[str]:
    """Holiday runs (consecutive days off with a name) and 调休 working days, in date order."""
    lines: list[tuple[dt.date, str]] = []
    run: list[DayStatus] = []

    def close_run() -> None:
        if run:
            names = "、".join(dict.fromkeys(d.name for d in run if d.name))
            first, last = run[0].date, run[-1].date
            span = _day_text(first) if first == last else f"{_day_text(first)}至{_day_text(last)}"
            lines.append((first, f"{names}  {span}放假，共 {len(run)} 天"))
            run.clear()

    for day in days:
        if not day.working and day.name:
            run.append(day)
            continue
        close_run()
        if day.is_adjusted_working_day:
            lines.append((day.date, f"{day.name or ''}  {_day_text(day.date)}调休上班".strip()))
    close_run()
    return [text for _, text in sorted(lines)]


@calendar_app.command("check")
def check_command(
    start: str = typer.Option(None, "--from", help="开始日期 YYYY-MM-DD（默认今天）"),
    end: str = typer.Option(None, "--to", help="结束日期 YYYY-MM-DD（默认开始日期后一年）"),
    strict: bool = typer.Option(False, "--strict", help="有未知或示例年份时以退出码 1 结束"),
) -> None:
    """检查一段时间内每一年的节假日安排是否已知、由谁提供。"""
    first = _parse_date(start, "--from") if start else dt.datetime.now(zone()).date()
    last = _parse_date(end, "--to") if end else first + dt.timedelta(days=365)
    if last < first:
        _fail(f"--to {last} 早于 --from {first}。")
    calendar = _store_calendar()
    out, err = _out(), _err()
    out.print(f"{first} 至 {last} 的工作日日历：")
    problems = 0
    for year in range(first.year, last.year + 1):
        coverage = calendar.coverage(year)
        text = f"  {year} 年：{escape(_coverage_text(calendar, year))}"
        if coverage.known and not coverage.illustrative:
            out.print(text)
        else:
            problems += 1
            out.print(f"[yellow]{text}[/yellow]")
    # the last days of a December also depend on the next year's notice (元旦 may reach back)
    tail_year = last.year
    if last >= dt.date(tail_year, *NEXT_NOTICE_REACHES_BACK_TO) and not calendar.known(tail_year + 1):
        problems += 1
        err.print(f"[yellow]注意：{tail_year} 年 12 月 {NEXT_NOTICE_REACHES_BACK_TO[1]} 日至 31 日还取决于 "
                  f"{tail_year + 1} 年元旦的放假调休，而 {tail_year + 1} 年的安排未知。[/yellow]")
    unknown = calendar.unknown_years(range(first.year, last.year + 1))
    if unknown:
        err.print(f"[yellow]注意：{'、'.join(map(str, unknown))} 年的放假安排未知，期限按周一至周五计算。"
                  f"国务院办公厅发布通知后，请用「junheng calendar import」导入。[/yellow]")
    illustrative = [y for y in range(first.year, last.year + 1) if calendar.coverage(y).illustrative]
    if illustrative:
        err.print(f"[yellow]注意：{'、'.join(map(str, illustrative))} 年的安排来自示例文件，不是国务院办公厅的正式通知。"
                  f"[/yellow]")
    if not problems:
        out.print("所需年份的安排都已知。")
    if strict and problems:
        raise typer.Exit(1)


def _parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"{option}「{text}」不是日期，应写成 YYYY-MM-DD，例如 2026-12-01。")

