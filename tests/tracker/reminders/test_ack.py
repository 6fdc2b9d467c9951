"""Signed 签收 links: the token, and the page (GET shows, only POST signs, bad links get 400)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.tracker.reminders.test_sweep import expand_all, new_task
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


def test_a_tampered_or_other_task_token_is_refused():
    """The token names one task and one person: changing either, keeping the signature, fails."""
    expires = NOW + dt.timedelta(days=30)
    token = make_ack_token(12, 34, expires, secret="s1")
    payload, signature = token.rsplit(".", 1)
    for task_id, person_id in ((13, 34), (12, 35)):
        other_payload = make_ack_token(task_id, person_id, expires, secret="s1").rsplit(".", 1)[0]
        with pytest.raises(AckTokenError, match="无效") as refused:
            read_ack_token(f"{other_payload}.{signature}", NOW, secret="s1")
        assert not refused.value.expired
    # one character of the payload or of the signature changed
    for i in (0, len(payload) - 1):
        flipped = payload[:i] + ("A" if payload[i] != "A" else "B") + payload[i + 1:]
        with pytest.raises(AckTokenError, match="无效"):
            read_ack_token(f"{flipped}.{signature}", NOW, secret="s1")
    with pytest.raises(AckTokenError, match="无效"):
        read_ack_token(f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}", NOW, secret="s1")
    # the expiry cannot be pushed out either
    later = make_ack_token(12, 34, expires + dt.timedelta(days=365), secret="s1").rsplit(".", 1)[0]
    with pytest.raises(AckTokenError, match="无效"):
        read_ack_token(f"{later}.{signature}", expires + dt.timedelta(days=1), secret="s1")


def test_a_value_signed_with_the_key_for_another_use_is_not_a_link():
    """Another signer of the same key (a salt of its own, e.g. the session cookie) makes no link, and
    a genuine signature over anything but our claim is refused."""
    from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

    from tracker.reminders.ack import SALT

    for other in (URLSafeSerializer("s1"), URLSafeSerializer("s1", salt="cookie-session"),
                  URLSafeTimedSerializer("s1")):
        with pytest.raises(AckTokenError, match="无效"):
            read_ack_token(other.dumps([12, 34, int((NOW + dt.timedelta(days=1)).timestamp())]), NOW, secret="s1")
    ours = URLSafeSerializer("s1", salt=SALT)
    for claim in ({"task": 12}, [12, 34], [12, "34", 1999999999], [12, 34, 1.5e9], [-1, 34, 1999999999], "x"):
        with pytest.raises(AckTokenError, match="无效"):
            read_ack_token(ours.dumps(claim), NOW, secret="s1")


def test_an_expired_token_is_refused_as_expired_at_its_second():
    expires = NOW + dt.timedelta(days=30)
    token = make_ack_token(12, 34, expires, secret="s1")
    assert read_ack_token(token, expires - dt.timedelta(seconds=1), secret="s1").task_id == 12
    for moment in (expires, expires + dt.timedelta(days=400)):
        with pytest.raises(AckTokenError, match="过期") as late:
            read_ack_token(token, moment, secret="s1")
        assert late.value.expired


def test_the_sweep_signs_nothing_and_the_composed_message_carries_the_link(session, world):
    """The sweep stores when the link expires (30 days from the sweep); composing makes the link for
    the unit's contact, in their message only: the cooperating unit's copy and the office's 督办单
    carry none. The link signs that task for that person, and expires when the sweep said."""
    import time_machine

    from notifications.compose import compose_pending
    from tests.tracker.reminders.test_sweep import cst
    from tracker.notices.models import NoticeItem
    from tracker.reminders.sweep import sweep

    with time_machine.travel(cst(2026, 9, 24, 10, 0), tick=False):
        task = new_task(session, world)
    now = cst(2026, 9, 24, 10, 0)
    sweep(session, now)
    session.commit()
    expand_all(session)  # as the composer does first
    items = session.exec(select(NoticeItem).where(NoticeItem.task_id == task.id)).all()
    assert items and all("ack_url" not in i.payload for i in items)
    to_unit = [i for i in items if not i.in_copy]
    assert {i.payload.get("ack_until") for i in to_unit} == {(now + dt.timedelta(days=30)).astimezone(
        dt.timezone.utc).isoformat()}

    messages = compose_pending(session, now)
    session.commit()
    li, zhang = world.people["李科长"], world.people["张局长"]
    by_address = {m.recipient_address: m for m in messages}
    links = [word for word in by_address[li.email].body_text.split() if "/ack/" in word]
    assert links, by_address[li.email].body_text
    claim = read_ack_token(links[0].rsplit("/ack/", 1)[1].strip("）)。，"), now)
    assert (claim.task_id, claim.person_id) == (task.id, li.id)
    assert claim.expires_at == (now + dt.timedelta(days=30)).replace(microsecond=0)
    assert "/ack/" not in by_address[zhang.email].body_text  # the copy: no link to sign with


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


def test_a_link_mailed_in_the_earlier_format_still_signs_until_it_expires():
    """Links mailed before the tokens became itsdangerous's keep working for their 30 days; a
    tampered one or one under another key does not."""
    import base64
    import hashlib
    import hmac

    from tracker.reminders.ack import AckTokenError, read_ack_token

    def old_token(task_id: int, person_id: int, expiry: dt.datetime, secret: str) -> str:
        payload = f"{task_id}:{person_id}:{int(expiry.timestamp())}".encode("ascii")
        signature = hmac.new(secret.encode(), b"junheng-ack-v1:" + payload, hashlib.sha256).digest()
        b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")  # noqa: E731
        return f"{b64(payload)}.{b64(signature)}"

    now = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.timezone.utc)
    expiry = now + dt.timedelta(days=10)
    token = old_token(7, 9, expiry, "k" * 32)
    claim = read_ack_token(token, now, secret="k" * 32)
    assert (claim.task_id, claim.person_id, claim.expires_at) == (7, 9, expiry)
    with pytest.raises(AckTokenError) as expired:
        read_ack_token(token, expiry, secret="k" * 32)
    assert expired.value.expired
    for bad in (token[:-2] + "AA", old_token(7, 9, expiry, "x" * 32)):
        with pytest.raises(AckTokenError) as refused:
            read_ack_token(bad, now, secret="k" * 32)
        assert not refused.value.expired
