"""`junheng demo` step 6, the notices: one reminder sweep at the present moment, then delivery —
into the local mail sink when no SMTP server is configured (see junheng/cli/demo.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from junheng.cli.demo import console


def _local(moment: dt.datetime) -> str:
    from tracker.clock import zone

    return moment.astimezone(zone()).strftime("%Y-%m-%d %H:%M")


def send_notices(code: str, url: str, sink_dir: Path | None) -> None:
    """One reminder sweep at the present moment, then delivery (see step 6 in junheng/cli/demo.py)."""
    import asyncio

    from sqlmodel import Session

    from notifications.delivery import deliver_due
    from tracker.calendar import load_calendar
    from tracker.db import get_engine, utcnow
    from tracker.org.service import resolve_campaign
    from tracker.reminders.ladder import (
        DEFAULT_LADDER,
        LadderSettingsError,
        ladder_settings,
        window_opening,
    )
    from tracker.reminders.sweep import sweep
    from tracker.settings import get_settings

    engine = get_engine(url)
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        campaign = resolve_campaign(session, code)
        calendar = load_calendar(session)
        report = sweep(session, now, campaign=campaign, calendar=calendar)
        session.commit()
        try:
            ladder = ladder_settings(campaign.plan)
        except LadderSettingsError:
            ladder = DEFAULT_LADDER  # the sweep has reported it
        campaign_id = campaign.id
    opening = window_opening(now, ladder, calendar)
    window = f"工作日 {ladder.send_window_start:%H:%M}–{ladder.send_window_end:%H:%M}"
    rungs: dict[str, int] = {}
    for line in report.new_lines:
        rungs[line.rung_label] = rungs.get(line.rung_label, 0) + 1
    console.print(f"{_local(now)}（北京时间）到了提醒时间的任务 {report.tasks} 项，新排队通知 {len(report.new_lines)} 条"
                  + (f"（{'、'.join(f'{label} {n} 条' for label, n in rungs.items())}），发给同一人的合并为一封邮件"
                     if rungs else "（此前排队的通知不会重复）") + "。")
    for problem in report.problems:
        console.print(f"[yellow]注意：{escape(problem)}[/yellow]")

    waiting = _unsent_items(engine, campaign_id)
    if sink_dir is None:
        # a real mail server: send only what is due now; the scheduler sends the rest in the window
        moment = now
        console.print("已配置邮件服务器（JUNHENG_SMTP_HOST），只发送此刻应发的邮件；其余由调度器在发送时间内发出。")
    elif opening > now:
        moment = opening
        if waiting:
            console.print(f"现在不在发送时间（{window}）内：{waiting} 条通知排队到 {_local(opening)}，届时由调度器发出。"
                          f"演示：按下一个工作时间 {_local(opening)} 投递到本地邮件目录（本地 SMTP 服务，不会真的发出），"
                          "这样现在就能打开各单位将收到的邮件。")
    else:
        moment = now
        if waiting:
            console.print(f"现在在发送时间（{window}）内：{waiting} 条通知立即投递到本地邮件目录（本地 SMTP 服务，不会真的发出）。")
    settings = get_settings()
    delivery = asyncio.run(deliver_due(engine, moment, settings=settings))
    console.print(f"投递：新组成邮件 {delivery.composed} 封，发出 {len(delivery.sent)} 封"
                  + (f"，失败 {len(delivery.failed)} 封（稍后重试）" if delivery.failed else "")
                  + (f"，放弃 {len(delivery.dead)} 封（已通知办公室）" if delivery.dead else "") + "。")
    for waiting in delivery.waiting:
        console.print(f"[yellow]{escape(waiting)}[/yellow]")
    for problem in delivery.problems:
        console.print(f"[yellow]注意：{escape(problem)}[/yellow]")
    _print_mailbox(engine, campaign_id, sink_dir)


def _unsent_items(engine, campaign_id: int) -> int:
    """Notice items of the campaign that no message carries yet (owed, not yet composed)."""
    from sqlmodel import Session

    from tracker.notices.queries import uncarried_item_count

    with Session(engine) as session:
        return uncarried_item_count(session, campaign_id)


def _print_mailbox(engine, campaign_id: int, sink_dir: Path | None) -> None:
    from sqlmodel import Session

    from tracker.notices.queries import message_counts, waiting_messages

    with Session(engine) as session:
        by_state = message_counts(session, campaign_id)
        waiting, first_attempt = waiting_messages(session, campaign_id)
    names = {"sent": "已发出", "queued": "排队中", "failed": "待重试", "dead": "已放弃"}
    console.print(f"本创建工作的邮件共 {sum(by_state.values())} 封："
                  + "，".join(f"{names.get(state, state)} {n} 封" for state, n in sorted(by_state.items())) + "。")
    if waiting:
        console.print(f"排队中的 {waiting} 封最早于 {_local(first_attempt)} 发出。")
    if sink_dir is None:
        return
    files = sorted(sink_dir.rglob("*.eml")) if sink_dir.is_dir() else []
    console.print(f"本地邮件目录 {escape(str(sink_dir))}：{len(files)} 个 .eml 文件"
                  f"（每个收件人一个子目录，可用任何邮件程序打开）。")
    if files:
        table = Table()
        table.add_column("收件人", no_wrap=True)
        table.add_column("主题")
        from email import policy
        from email.parser import BytesParser

        for path in files[:8]:
            with path.open("rb") as handle:
                headers = BytesParser(policy=policy.default).parse(handle, headersonly=True)
            table.add_row(escape(path.parent.name), escape(str(headers.get("Subject", ""))))
        console.print(table)
        if len(files) > 8:
            console.print(f"……另有 {len(files) - 8} 个，例如打开 {escape(str(files[0]))}")
