"""Delivery batch by batch: only what one connection sends next is leased, and a deliverer that
dies mid-batch holds back nothing else."""

from __future__ import annotations

import pytest

import notifications.delivery as delivery_module
import datetime as dt

from notifications.delivery import deliver_due, lease_for
from tests.notifications.conftest import NOW, mail_settings
from tests.notifications.test_delivery import _messages, _owe
from tracker.notices.models import MessageState


async def test_a_deliverer_killed_mid_batch_holds_only_that_batch(engine, world, smtp_server, monkeypatch):
    _owe(engine, world, recipients=("李科长", "张局长", "赵校长", "王主任"))
    settings = mail_settings(smtp_server.port, mail_batch_size=1)
    answers = []

    def recorder_that_dies_at_the_second_answer(outcomes):
        def record(result):
            if answers:
                raise SystemExit("killed between the server's 250 and our commit")
            answers.append(result)
            outcomes.append(result)
        return record

    monkeypatch.setattr(delivery_module, "_recorder", recorder_that_dies_at_the_second_answer)
    with pytest.raises(SystemExit):
        await deliver_due(engine, NOW, settings=settings)
    lease = lease_for(1, settings)
    assert lease == dt.timedelta(seconds=settings.smtp_timeout + settings.mail_lease_seconds_per_message)
    first, second, third, fourth = _messages(engine)
    assert first.state == MessageState.sent  # its batch was committed before the next was leased
    assert (second.state, second.attempts, second.next_attempt_at) == (MessageState.queued, 1, NOW + lease)
    assert {m.next_attempt_at for m in (third, fourth)} == {NOW}  # never leased: due for anyone
    assert len(smtp_server.handler.received) == 2

    monkeypatch.undo()
    at_once = await deliver_due(engine, NOW, settings=settings)
    assert sorted(at_once.sent) == [third.id, fourth.id]
    after_lease = await deliver_due(engine, NOW + lease, settings=settings)
    assert after_lease.sent == [second.id]
    assert {m.state for m in _messages(engine)} == {MessageState.sent}
    sent_twice = [m for m, times in smtp_server.handler.by_message_id().items() if times == 2]
    assert sent_twice == [second.message_id_header]  # the same Message-ID: recognisably one message
    assert len(smtp_server.handler.received) == 5


async def test_a_deliverer_whose_lease_runs_out_hands_the_rest_back(engine, world, smtp_server, monkeypatch):
    """A slow server: the lease of a batch of 4 is 5 + 4 × 3 = 17 s; each message takes 6 s (a
    clock that moves 6 s whenever it is read). The deliverer starts messages until half a timeout
    before its lease ends, then hands the rest back, due at once and their attempt taken back, so
    no second deliverer can send what it still holds."""
    import notifications.channels.email as email_channel

    _owe(engine, world, recipients=("李科长", "张局长", "赵校长", "王主任"))
    settings = mail_settings(smtp_server.port, mail_batch_size=4, smtp_timeout=5.0,
                             mail_lease_seconds_per_message=3.0, mail_max_attempts=8)
    ticks = iter(range(0, 10_000, 6))
    monkeypatch.setattr(email_channel, "clock", lambda: float(next(ticks)))
    report = await deliver_due(engine, NOW, settings=settings, limit=4)
    # stop_at = 0 + 17 - 2.5 = 14.5: messages start at clock 6 and 12, not at 18
    assert len(report.sent) == 2 and report.failed == [] and report.dead == []
    first, second, third, fourth = _messages(engine)
    assert {m.state for m in (first, second)} == {MessageState.sent}
    for m in (third, fourth):
        assert (m.state, m.attempts, m.next_attempt_at) == (MessageState.queued, 0, NOW)
    assert len(smtp_server.handler.received) == 2
    monkeypatch.undo()
    rest = await deliver_due(engine, NOW, settings=settings)
    assert sorted(rest.sent) == [third.id, fourth.id]
