"""Signed 签收 links: the token, and the page (GET shows, only POST signs, bad links get 400)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.tracker.reminders.test_sweep import new_task
from tracker.events.models import Event
from tracker.reminders.ack import AckTokenError, ack_url, make_ack_token, read_ack_token
from tracker.tasks.models import Task, TaskStatus

NOW = dt.datetime(2026, 9, 24, 2, 0, tzinfo=dt.timezone.utc)


def test_token_round_trip_and_refusals():
    expires = NOW + dt.timedelta(days=30)
    token = make_ack_token(12, 34, expires, secret="s1")
    assert token.isascii() and "/" not in token and "+" not in token and "=" not in token
    claim = read_ack_token(token, NOW, secret="s1")
    assert (claim.task_id, claim.person_id) == (12, 34)
    assert claim.expires_at == expires.replace(microsecond=0)

    with pytest.raises(AckTokenError, match="无效") as wrong_key:
        read_ack_token(token, NOW, secret="s2")
    assert not wrong_key.value.expired
    payload, signature = token.split(".")
    forged = make_ack_token(12, 35, expires, secret="s1").split(".")[0] + "." + signature
    for bad in (forged, token[:-2], token + "x", "abc", "", payload):
        with pytest.raises(AckTokenError, match="无效"):
            read_ack_token(bad, NOW, secret="s1")
    with pytest.raises(AckTokenError, match="过期") as late:
        read_ack_token(token, expires + dt.timedelta(seconds=1), secret="s1")
    assert late.value.expired


def test_ack_url_uses_the_base_url():
    url = ack_url(1, 2, NOW, base_url="https://dc.example.cn/", secret="k")
    assert url.startswith("https://dc.example.cn/ack/")
    assert read_ack_token(url.rsplit("/", 1)[1], NOW, secret="k").task_id == 1


@pytest.fixture
def client(db_url):
    from api.app import create_app

    with TestClient(create_app()) as c:
        yield c


def accepted_events(session, task) -> int:
    return len(session.exec(select(Event).where(Event.task_id == task.id, Event.type == "task.accepted")).all())


def test_get_shows_the_task_without_signing_and_post_signs_once(client, session, world):
    task = new_task(session, world)
    li = world.people["李科长"]
    token = make_ack_token(task.id, li.id, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))

    page = client.get(f"/ack/{token}")
    assert page.status_code == 200
    assert "落实经费 T1" in page.text and "财政局" in page.text and "住建局" in page.text
    assert "签收（李科长）" in page.text and 'name="viewport"' in page.text
    session.refresh(task)
    assert task.status == TaskStatus.assigned.value and accepted_events(session, task) == 0

    signed = client.post(f"/ack/{token}")
    assert signed.status_code == 200 and "已签收：李科长于" in signed.text
    session.refresh(task)
    assert task.status == TaskStatus.accepted.value and task.assignee_id == li.id
    assert task.acknowledged_at is not None

    again = client.post(f"/ack/{token}")  # a second click, or a reload
    assert again.status_code == 200 and "已签收" in again.text
    assert accepted_events(session, task) == 1


def test_tampered_or_expired_link_is_a_400_page_in_chinese(client, session, world):
    task = new_task(session, world)
    li = world.people["李科长"]
    token = make_ack_token(task.id, li.id, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))
    tampered = make_ack_token(task.id + 1, li.id, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))
    tampered = tampered.split(".")[0] + "." + token.split(".")[1]
    for method in (client.get, client.post):
        bad = method(f"/ack/{tampered}")
        assert bad.status_code == 400 and "签收链接无效" in bad.text
    expired = make_ack_token(task.id, li.id, dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    late = client.post(f"/ack/{expired}")
    assert late.status_code == 400 and "过期" in late.text
    session.refresh(task)
    assert task.status == TaskStatus.assigned.value


def test_someone_of_another_unit_cannot_sign_and_a_withdrawn_task_needs_no_signature(client, session, world):
    task = new_task(session, world)
    zhang = world.people["张局长"]  # 住建局 cooperates; 财政局 leads
    token = make_ack_token(task.id, zhang.id, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))
    refused = client.post(f"/ack/{token}")
    assert refused.status_code == 403 and "不是任务" in refused.text
    session.refresh(task)
    assert task.status == TaskStatus.assigned.value

    from tracker.tasks import lifecycle

    lifecycle.withdraw(session, session.get(Task, task.id), world.people["王主任"], "不再需要")
    session.commit()
    li_token = make_ack_token(task.id, world.people["李科长"].id,
                              dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))
    page = client.post(f"/ack/{li_token}")
    assert page.status_code == 200 and "已撤销，无需签收" in page.text
