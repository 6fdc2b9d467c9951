"""Signed 签收 links: whoever holds the link may sign that task as that person, until it expires.

The token is an ``itsdangerous.URLSafeSerializer`` dump of ``[task_id, person_id, expiry]`` (expiry
in Unix seconds), signed under the secret key (JUNHENG_SECRET_KEY) with a salt of its own, so these
signatures are apart from any other use of the key. Nothing is stored: the link proves itself.
Opening it (GET) only shows the task; signing needs the page's button (POST), since mail scanners
open links.

When links are made. The sweep does not sign anything: a notice item that should carry a link
(a 交办单 or 签收提醒 of an unsigned task, to a person in the To line) has ``ack_until`` in its
payload, the link's expiry counted from the sweep (``LINK_VALID_DAYS``). ``notice_ack_url`` makes
the link when the message is composed (notifications/compose.py), once per message item.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from tracker.clock import zone
from tracker.settings import get_settings
from tracker.errors import JunhengError

LINK_VALID_DAYS = 30
SALT = "junheng-ack-v1"  # keeps these signatures apart from any other use of the key
ACK_UNTIL = "ack_until"  # the notice payload key: a 签收 link is owed, valid until this ISO time


class AckTokenError(JunhengError, ValueError):
    """A token that cannot be used (Chinese message); ``expired`` tells the two cases apart."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.message = message
        self.expired = expired


@dataclass(frozen=True, slots=True)
class AckClaim:
    task_id: int
    person_id: int
    expires_at: dt.datetime


@lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    # compact JSON, URL-safe base64 without padding, HMAC-SHA1 over a salted derived key (the
    # library's defaults, well reviewed); one per key, as composing signs many links under one key
    return URLSafeSerializer(secret, salt=SALT)


def make_ack_token(task_id: int, person_id: int, expires_at: dt.datetime, secret: str | None = None) -> str:
    if expires_at.tzinfo is None:
        raise ValueError(f"naive datetime {expires_at!r}: pass an aware datetime")
    return _serializer(secret or get_settings().secret_key).dumps(
        [int(task_id), int(person_id), int(expires_at.timestamp())])


def read_ack_token(token: str, now: dt.datetime, secret: str | None = None) -> AckClaim:
    """The claim of a genuine, unexpired token; ``AckTokenError`` otherwise."""
    invalid = AckTokenError("签收链接无效：链接不完整或已被改动。请使用通知中的原始链接，或联系领导小组办公室。")
    key = secret or get_settings().secret_key
    try:
        claim = _serializer(key).loads(token)
    except (BadSignature, UnicodeError, ValueError):
        claim = legacy_claim(token, key)  # a link mailed before the tokens were itsdangerous's
        if claim is None:
            raise invalid from None
    # a genuine signature over anything but our three integers was not made here
    if not (isinstance(claim, list) and len(claim) == 3
            and all(type(part) is int and part >= 0 for part in claim)):
        raise invalid
    task_id, person_id, expiry = claim
    expires_at = dt.datetime.fromtimestamp(expiry, dt.timezone.utc)
    if now >= expires_at:
        raise AckTokenError(
            f"签收链接已于 {expires_at.astimezone(zone()):%Y-%m-%d %H:%M} 过期。"
            "请使用最新一封通知中的链接，或联系领导小组办公室。", expired=True)
    return AckClaim(task_id, person_id, expires_at)


_LEGACY_DOMAIN = b"junheng-ack-v1:"


def legacy_claim(token: str, secret: str) -> list[int] | None:
    """``[task, person, expiry]`` of a genuine token in the earlier hand-made format
    (``b64(task:person:expiry).b64(HMAC-SHA256(domain + payload))``), else None. Links already
    mailed keep working until they expire (at most ``LINK_VALID_DAYS`` after the upgrade); no new
    token is made in this format."""
    try:
        payload_text, signature_text = token.split(".")
        payload = base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4))
        signature = base64.urlsafe_b64decode(signature_text + "=" * (-len(signature_text) % 4))
        expected = hmac.new(secret.encode("utf-8"), _LEGACY_DOMAIN + payload, hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            return None
        return [int(part) for part in payload.decode("ascii").split(":", 2)]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def ack_url(task_id: int, person_id: int, now: dt.datetime, *, valid_days: int = LINK_VALID_DAYS,
            base_url: str | None = None, secret: str | None = None) -> str:
    """The 签收 link for a notice sent at ``now``."""
    return link_until(task_id, person_id, now + dt.timedelta(days=valid_days), base_url=base_url, secret=secret)


def link_until(task_id: int, person_id: int, expires_at: dt.datetime, *, base_url: str | None = None,
               secret: str | None = None) -> str:
    base = (base_url or get_settings().base_url).rstrip("/")
    return f"{base}/ack/{make_ack_token(task_id, person_id, expires_at, secret)}"


def notice_ack_url(item: Any, base_url: str | None = None, secret: str | None = None) -> str | None:
    """The 签收 link a notice item carries (made now, when its message is composed), or None.

    A link is owed where the sweep put ``ack_until`` in the payload; it is made for the item's
    person when the item is in the To line (never for a copy, never for a bare address)."""
    payload = item.payload or {}
    until = payload.get(ACK_UNTIL)
    if not until or item.in_copy or item.recipient_person_id is None or item.task_id is None:
        return None
    expires_at = dt.datetime.fromisoformat(until)
    return link_until(item.task_id, item.recipient_person_id, expires_at, base_url=base_url, secret=secret)
