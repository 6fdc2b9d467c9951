"""`junheng mail deliver|list|retry|sink`: the delivery log of notices and sending by hand.

The scheduler delivers on a clock; these commands are for looking (list), for pushing now (deliver),
for giving a dead message another chance once its address is fixed (retry), and for a local mail
sink that writes .eml files (sink).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from tracker.db import get_engine, migrate, session_scope, utcnow
from tracker.notices.models import DeadCause, MessageState, OutboundMessage
from tracker.notices.queries import latest_messages
from tracker.clock import zone
from tracker.settings import get_settings

mail_app = typer.Typer(help="通知投递：投递待发通知、查看投递记录、重新投递", no_args_is_help=True)

STATE_NAMES = {MessageState.queued.value: "待发", MessageState.sent.value: "已发送",
               MessageState.failed.value: "失败待重试", MessageState.dead.value: "已放弃"}
DEAD_CAUSES = {DeadCause.outage.value: "服务器中断，恢复后自动重新投递", DeadCause.refused.value: "被拒收，核实后手动重新投递"}
CHANNEL_NAMES = {"email": "邮件", "wecom": "企业微信", "dingtalk": "钉钉"}


def _out() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _fail(message: str) -> NoReturn:
    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def parse_now(text: str | None) -> dt.datetime:
    """An ISO time; without an offset it is China time. None: the real clock."""
    if not text:
        return utcnow()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--now 的值「{text}」不是有效的时间，应写成 2026-12-01T09:00 这样的格式")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(dt.timezone.utc)


def _local(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(zone()).strftime("%Y-%m-%d %H:%M")


@mail_app.command("deliver")
def deliver_command(
    now: Annotated[str | None, typer.Option("--now", help="按这个时间投递（演练用，如 2026-12-01T09:00，北京时间）；默认现在")] = None,
) -> None:
    """把到时的通知编成邮件/群消息并投递；失败的按退避时间重试。"""
    from notifications.delivery import deliver_due

    moment = parse_now(now)
    migrate()
    report = asyncio.run(deliver_due(get_engine(), moment))
    out = _out()
    out.print(f"本次编成消息 {report.composed} 条；投递 {report.attempted} 条：成功 {len(report.sent)} 条，"
              f"失败待重试 {len(report.failed)} 条，放弃 {len(report.dead)} 条。")
    for message_id, error in report.failed:
        out.print(f"  [yellow]失败[/yellow] #{message_id}：{escape(error)}")
    if report.revived:
        out.print(f"  [green]通道已恢复[/green]：{report.revived} 条因中断而放弃的消息已重新排队并投递")
    if report.dead:
        out.print(f"  [red]已放弃[/red] {'、'.join(f'#{i}' for i in report.dead)}"
                  f"（已通知办公室 {report.office_told} 人次；因服务器中断而放弃的，服务器恢复后自动重新投递；"
                  "其余核实地址后可用 junheng mail retry 编号 重新投递）")
    for note in report.held:
        out.print(f"  [yellow]排队[/yellow] {escape(note)}")
    for note in report.waiting:
        out.print(f"  [yellow]未投递[/yellow] {escape(note)}")
    for problem in report.problems:
        out.print(f"  [red]问题[/red] {escape(problem)}")


@mail_app.command("list")
def list_command(
    state: Annotated[str | None, typer.Option("--state", help="只看某种状态：queued 待发 / sent 已发送 / failed 失败待重试 / dead 已放弃")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="最多显示多少条（最新的在前）")] = 50,
) -> None:
    """投递记录：每条消息的收件人、主题、状态、尝试次数和最后的错误。"""
    if state is not None and state not in STATE_NAMES:
        _fail(f"--state 的值「{state}」无效：应为 queued、sent、failed 或 dead")
    migrate()
    with session_scope() as session:
        messages, total = latest_messages(session, state=state, limit=limit)
    out = _out()
    if not messages:
        out.print("没有投递记录。" if state is None else f"没有状态为「{STATE_NAMES[state]}」的投递记录。")
        return
    which = "投递记录" if state is None else f"状态为「{STATE_NAMES[state]}」的投递记录"
    shown = (f"共 {total} 条，最新的在前" if total == len(messages)
             else f"显示 {len(messages)} 条，共 {total} 条，最新的在前（--limit 可显示更多）")
    out.print(f"{which}：{shown}：")
    for m in messages:
        when = (f"发送于 {_local(m.sent_at)}" if m.state == MessageState.sent
                else f"下次尝试 {_local(m.next_attempt_at)}" if m.state in (MessageState.queued, MessageState.failed)
                else f"放弃于 {_local(m.dead_at)}（{DEAD_CAUSES.get(m.dead_cause, '')}）" if m.dead_at
                else f"排队于 {_local(m.created_at)}")
        recipient = f"{m.recipient_name} <{m.recipient_address}>" if m.recipient_name else m.recipient_address
        state_name = STATE_NAMES.get(m.state, m.state)
        colour = {"sent": "green", "failed": "yellow", "dead": "red"}.get(m.state, "default")
        out.print(f"#{m.id} [{colour}]{state_name}[/{colour}] {CHANNEL_NAMES.get(m.channel, m.channel)} "
                  f"{escape(recipient)}　尝试 {m.attempts} 次　{when}")
        out.print(f"    {escape(m.subject)}")
        if m.last_error:
            out.print(f"    最后错误：{escape(m.last_error)}")


def parse_since(text: str) -> dt.datetime:
    """A date (or date and time) in China time, for --since."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(f"--since 的值「{text}」不是有效的日期，应写成 2026-12-01 或 2026-12-01T09:00 这样的格式")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(dt.timezone.utc)


@mail_app.command("retry")
def retry_command(
    message_id: Annotated[int | None, typer.Argument(help="投递记录编号（junheng mail list 的“编号”）", show_default=False)] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="重新投递全部已放弃的消息（如邮件服务器长时间中断之后）")] = False,
    since: Annotated[str | None, typer.Option("--since", help="与 --all-dead 同用：只重新投递在此时间之后放弃的消息（如 2026-12-01 或 2026-12-01T09:00，北京时间）")] = None,
) -> None:
    """重新投递已放弃（或失败待重试）的消息：重新排队，下次投递时立即发送，重试次数重新计算（尝试次数照常累计）。

    指定编号时重新投递一条；用 --all-dead 重新投递全部已放弃的消息（可加 --since 限定放弃的时间）。
    因邮件服务器中断而放弃的消息，在服务器恢复后会自动重新投递，通常无需本命令。"""
    from tracker.notices.queries import requeue_dead

    if all_dead == (message_id is not None):
        _fail("请指定一个投递记录编号，或使用 --all-dead（二者选一）")
    if since is not None and not all_dead:
        _fail("--since 只能与 --all-dead 一起使用")
    migrate()
    if all_dead:
        moment = parse_since(since) if since is not None else None
        with session_scope() as session:
            ids = requeue_dead(session, utcnow(), since=moment)
        if not ids:
            _out().print("没有已放弃的消息需要重新投递" + (f"（{_local(moment)} 以来）。" if moment else "。"))
            return
        shown = "、".join(f"#{i}" for i in ids[:20]) + (" 等" if len(ids) > 20 else "")
        _out().print(f"已将 {len(ids)} 条已放弃的消息重新排队（{shown}），下次投递时发送"
                     "（可立即运行 junheng mail deliver）。")
        return
    with session_scope() as session:
        message = session.get(OutboundMessage, message_id)
        if message is None:
            _fail(f"没有编号为 #{message_id} 的投递记录（可用 junheng mail list 查看）")
        if message.state == MessageState.sent:
            _fail(f"消息 #{message_id} 已于 {_local(message.sent_at)} 发送成功，无需重新投递")
        if message.state == MessageState.queued:
            _fail(f"消息 #{message_id} 已在待发队列中")
        before = STATE_NAMES.get(message.state, message.state)
        message.state = MessageState.queued.value
        message.ladder_start = message.attempts  # the retry ladder starts over; attempts keep counting
        message.dead_cause = ""
        message.dead_at = None
        message.next_attempt_at = utcnow()
        session.add(message)
    _out().print(f"消息 #{message_id}（原状态：{before}）已重新排队，下次投递时发送"
                 f"（可立即运行 junheng mail deliver）。")


@mail_app.command("sink")
def sink_command(
    directory: Annotated[Path, typer.Option("--dir", help="写入 .eml 文件的目录")] = Path("mail-sink"),
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="监听的端口（仅本机 127.0.0.1）")] = 1025,
) -> None:
    """启动本地邮件接收器：收到的每封邮件按收件人写成 .eml 文件（演示和试运行用，不外发）。"""
    import time

    from notifications.sink import MailSink

    try:
        sink = MailSink(directory, port=port).start()
    except OSError as exc:
        _fail(f"无法在 127.0.0.1:{port} 启动邮件接收器：{exc}")
    out = _out()
    out.print(f"本地邮件接收器已启动：127.0.0.1:{port}，邮件写入 {escape(str(directory.resolve()))}")
    out.print(f"让系统往这里发信：JUNHENG_SMTP_HOST=127.0.0.1 JUNHENG_SMTP_PORT={port} JUNHENG_SMTP_TLS=none。"
              "按 Ctrl+C 停止。")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        out.print(f"邮件接收器已停止，共收到 {sink.handler.accepted} 封。")
    finally:
        sink.stop()


@mail_app.command("test")
def test_command(
    address: Annotated[str, typer.Argument(help="收件地址（如管理员自己的邮箱）", show_default=False)],
) -> None:
    """发一封测试邮件：按 JUNHENG_SMTP_* 设置连接邮件服务器，显示服务器的每一步答复；失败时说明原因。"""
    from notifications.channels.email import SmtpConfig
    from notifications.probe import send_test_message
    from tracker.email_address import check_email

    try:
        check_email(address.strip())
    except ValueError as exc:
        _fail(f"收件地址：{exc}")
    settings = get_settings()
    config = SmtpConfig.from_settings(settings)
    if config is None:
        _fail("未设置邮件服务器（JUNHENG_SMTP_HOST）：请先在环境变量中设置 JUNHENG_SMTP_HOST、JUNHENG_SMTP_PORT、"
              "JUNHENG_SMTP_TLS 等，再运行本命令")
    out = _out()
    out.print(f"正在通过 {escape(config.host)}:{config.port}（加密方式 {config.tls}"
              f"{'，账号 ' + escape(config.username) if config.username else '，不登录'}）"
              f"向 {escape(address.strip())} 发送测试邮件……")
    result = asyncio.run(send_test_message(config, address.strip(), now=utcnow(), base_url=settings.base_url))
    for reply in result.replies:
        out.print(f"  {reply.step}：{reply.code} {escape(reply.message)}")
    if not result.ok:
        Console(stderr=True, soft_wrap=True, highlight=False).print(f"[red]发送失败：[/red]{escape(result.error)}")
        raise typer.Exit(1)
    final = result.final
    out.print(f"[green]发送成功[/green]：邮件服务器已接收（答复 {final.code} {escape(final.message)}）。"
              "请到收件箱（也看看垃圾邮件）确认已收到“【均衡督办】测试邮件”。")
