"""`junheng mail deliver|list|retry` against a real local SMTP server."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select
from typer.testing import CliRunner

from junheng.cli import app
from tests.notifications.conftest import SmtpServer, owe, smtp_port, world  # noqa: F401 (fixtures)
from tracker.db import session_scope
from tracker.notices.models import MessageState, OutboundMessage
from tracker.settings import get_settings

runner = CliRunner()


def _point_mail_at(monkeypatch, port: int) -> None:
    monkeypatch.setenv("JUNHENG_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JUNHENG_SMTP_PORT", str(port))
    monkeypatch.setenv("JUNHENG_SMTP_TLS", "none")
    monkeypatch.setenv("JUNHENG_MAIL_FROM", "均衡督办 <duban@jiaoyu.example.cn>")
    monkeypatch.setenv("JUNHENG_MAIL_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()


def test_deliver_list_and_retry(engine, world, smtp_port, monkeypatch):
    with session_scope(engine) as session:
        task = world.task(session, "t", due_on=dt.date(2026, 12, 9), title="教师培训学时达标")
        owe(session, world, task_id=task.id, rung="chase", person="李科长", occurrence=1,
            not_before=dt.datetime(2026, 12, 14, 1, 0, tzinfo=dt.timezone.utc))
    _point_mail_at(monkeypatch, smtp_port)  # no server listening yet: the one allowed attempt fails

    early = runner.invoke(app, ["mail", "deliver", "--now", "2026-12-14T08:59"])
    assert early.exit_code == 0, early.output
    assert "本次编成消息 0 条" in early.output  # 08:59 China time is before the item's window

    result = runner.invoke(app, ["mail", "deliver", "--now", "2026-12-14T09:00"])
    assert result.exit_code == 0, result.output
    assert "本次编成消息 1 条" in result.output and "放弃 1 条" in result.output
    assert "已通知办公室 1 人次" in result.output

    listed = runner.invoke(app, ["mail", "list", "--state", "dead"])
    assert listed.exit_code == 0, listed.output
    assert "已放弃" in listed.output and "li@example.cn" in listed.output
    with Session(engine) as session:
        dead = session.exec(select(OutboundMessage).where(OutboundMessage.state == MessageState.dead)).one()

    server = SmtpServer(smtp_port).start()
    try:
        retried = runner.invoke(app, ["mail", "retry", str(dead.id)])
        assert retried.exit_code == 0, retried.output
        assert f"消息 #{dead.id}（原状态：已放弃）已重新排队" in retried.output
        sent = runner.invoke(app, ["mail", "deliver"])
        assert sent.exit_code == 0, sent.output
        assert "成功 2 条" in sent.output  # the re-queued message and the office's 投递失败通知
        subjects = {r.message["Subject"] for r in server.handler.received}
        assert subjects == {"【均衡督办】投递失败通知：发给李科长的通知未能送达",
                            "【均衡督办】催办通知：教师培训学时达标（已逾期 3 个工作日）"}
    finally:
        server.stop()

    again = runner.invoke(app, ["mail", "retry", str(dead.id)])
    assert again.exit_code == 2
    assert "发送成功，无需重新投递" in again.output
    assert runner.invoke(app, ["mail", "list", "--state", "sent"]).output.count("已发送 邮件") == 2


def test_mail_errors_are_chinese_and_change_nothing(db_url):
    missing = runner.invoke(app, ["mail", "retry", "999"])
    assert missing.exit_code == 2 and "没有编号为 #999 的投递记录" in missing.output
    bad_state = runner.invoke(app, ["mail", "list", "--state", "lost"])
    assert bad_state.exit_code == 2 and "--state 的值「lost」无效" in bad_state.output
    bad_time = runner.invoke(app, ["mail", "deliver", "--now", "明天上午"])
    assert bad_time.exit_code == 2 and "--now 的值「明天上午」不是有效的时间" in bad_time.output
    empty = runner.invoke(app, ["mail", "list"])
    assert empty.exit_code == 0 and "没有投递记录" in empty.output


def test_list_says_how_many_it_shows_of_how_many(engine, db_url, monkeypatch):
    """72 messages, 50 shown by default: 「显示 50 条，共 72 条」, not 「投递记录 50 条」."""
    import time_machine

    monkeypatch.setenv("COLUMNS", "200")
    with time_machine.travel(dt.datetime(2026, 12, 14, 1, 0, tzinfo=dt.timezone.utc), tick=False):
        with session_scope(engine) as session:
            for n in range(72):
                session.add(OutboundMessage(recipient_address=f"u{n}@example.cn", subject=f"通知{n}",
                                            message_id_header=f"<m{n}@example.cn>",
                                            state=MessageState.sent.value if n % 3 == 0 else MessageState.queued.value))
        listed = runner.invoke(app, ["mail", "list"])
        assert listed.exit_code == 0, listed.output
        assert "投递记录：显示 50 条，共 72 条，最新的在前（--limit 可显示更多）：" in listed.output
        rows = [line for line in listed.output.splitlines() if line.startswith("#")]
        assert len(rows) == 50 and "u71@example.cn" in rows[0] and "u22@example.cn" in rows[-1]
        sent = runner.invoke(app, ["mail", "list", "--state", "sent", "--limit", "10"])
        assert "状态为「已发送」的投递记录：显示 10 条，共 24 条" in sent.output
        everything = runner.invoke(app, ["mail", "list", "--limit", "100"])
        assert "投递记录：共 72 条，最新的在前：" in everything.output


def test_retry_all_dead_since_a_date(engine, db_url, monkeypatch):
    """After an outage: `junheng mail retry --all-dead --since DATE` re-queues what was given up
    since then, keeps counting attempts, and leaves older dead messages alone."""
    import time_machine

    now = dt.datetime(2026, 12, 14, 1, 0, tzinfo=dt.timezone.utc)
    with session_scope(engine) as session:
        for n, died in enumerate([now - dt.timedelta(days=3), now - dt.timedelta(hours=2), now - dt.timedelta(hours=1)]):
            session.add(OutboundMessage(recipient_address=f"u{n}@example.cn", subject=f"通知{n}",
                                        message_id_header=f"<d{n}@example.cn>", state=MessageState.dead.value,
                                        attempts=8, dead_cause="outage", dead_at=died))
        session.add(OutboundMessage(recipient_address="ok@example.cn", message_id_header="<s@example.cn>",
                                    state=MessageState.sent.value, attempts=1))
    with time_machine.travel(now, tick=False):
        listed = runner.invoke(app, ["mail", "list", "--state", "dead"])
        assert "放弃于 2026-12-14 08:00（服务器中断，恢复后自动重新投递）" in listed.output
        result = runner.invoke(app, ["mail", "retry", "--all-dead", "--since", "2026-12-13"])
        assert result.exit_code == 0, result.output
        assert "已将 2 条已放弃的消息重新排队（#2、#3）" in result.output
        none_left = runner.invoke(app, ["mail", "retry", "--all-dead", "--since", "2026-12-13"])
        assert none_left.exit_code == 0 and "没有已放弃的消息需要重新投递（2026-12-13 00:00 以来）。" in none_left.output
    with Session(engine) as session:
        rows = {m.recipient_address: m for m in session.exec(select(OutboundMessage))}
    assert rows["u0@example.cn"].state == MessageState.dead  # given up before --since
    for address in ("u1@example.cn", "u2@example.cn"):
        m = rows[address]
        assert (m.state, m.attempts, m.ladder_start, m.next_attempt_at, m.dead_cause) == (
            MessageState.queued, 8, 8, now, "")
    assert rows["ok@example.cn"].state == MessageState.sent
    everything = runner.invoke(app, ["mail", "retry", "--all-dead"])
    assert everything.exit_code == 0 and "已将 1 条已放弃的消息重新排队（#1）" in everything.output


def test_retry_needs_an_id_or_all_dead(db_url):
    neither = runner.invoke(app, ["mail", "retry"])
    assert neither.exit_code == 2 and "请指定一个投递记录编号，或使用 --all-dead" in neither.output
    both = runner.invoke(app, ["mail", "retry", "3", "--all-dead"])
    assert both.exit_code == 2 and "二者选一" in both.output
    since_alone = runner.invoke(app, ["mail", "retry", "3", "--since", "2026-12-01"])
    assert since_alone.exit_code == 2 and "--since 只能与 --all-dead 一起使用" in since_alone.output
    bad = runner.invoke(app, ["mail", "retry", "--all-dead", "--since", "上周"])
    assert bad.exit_code == 2 and "--since 的值「上周」不是有效的日期" in bad.output
    help_text = runner.invoke(app, ["mail", "retry", "--help"])
    assert "重新投递全部已放弃的消息" in help_text.output
