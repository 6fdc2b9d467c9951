"""Signed 签收 links: whoever holds the link may sign that task as that person, until it expires.

A token is ``<payload>.<signature>``, both URL-safe base64 without padding: the payload is
``task_id:person_id:expiry`` (expiry in Unix seconds) and the signature HMAC-SHA256 of it under
the secret key (JUNHENG_SECRET_KEY). Nothing is stored: the link proves itself. Opening it (GET)
only shows the task; signing needs the page's button (POST), since mail scanners open links.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from tracker.calendar import CHINA
from tracker.settings import get_settings
from tracker.errors import JunhengError

LINK_VALID_DAYS = 30
_DOMAIN = b"junheng-ack-v1:"  # keeps these signatures apart from any other use of the key


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=8)
def _keyed(secret: str):
    """The HMAC state after the key and the domain prefix; copied for each token (a sweep signs
    thousands of links under one key)."""
    return hmac.new(secret.encode("utf-8"), _DOMAIN, hashlib.sha256)


def _sign(payload: bytes, secret: str) -> bytes:
    mac = _keyed(secret).copy()
    mac.update(payload)
    return mac.digest()


def make_ack_token(task_id: int, person_id: int, expires_at: dt.datetime, secret: str | None = None) -> str:
    if expires_at.tzinfo is None:
        raise ValueError(f"naive datetime {expires_at!r}: pass an aware datetime")
    payload = f"{int(task_id)}:{int(person_id)}:{int(expires_at.timestamp())}".encode("ascii")
    return f"{_b64(payload)}.{_b64(_sign(payload, secret or get_settings().secret_key))}"


def read_ack_token(token: str, now: dt.datetime, secret: str | None = None) -> AckClaim:
    """The claim of a genuine, unexpired token; ``AckTokenError`` otherwise."""
    invalid = AckTokenError("签收链接无效：链接不完整或已被改动。请使用通知中的原始链接，或联系领导小组办公室。")
    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (ValueError, binascii.Error):
        raise invalid from None
    if not hmac.compare_digest(signature, _sign(payload, secret or get_settings().secret_key)):
        raise invalid
    try:
        task_id, person_id, expiry = (int(part) for part in payload.decode("ascii").split(":"))
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    expires_at = dt.datetime.fromtimestamp(expiry, dt.timezone.utc)
    if now >= expires_at:
        raise AckTokenError(
            f"签收链接已于 {expires_at.astimezone(CHINA):%Y-%m-%d %H:%M} 过期。"
            "请使用最新一封通知中的链接，或联系领导小组办公室。", expired=True)
    return AckClaim(task_id, person_id, expires_at)


def ack_url(task_id: int, person_id: int, now: dt.datetime, *, valid_days: int = LINK_VALID_DAYS,
            base_url: str | None = None, secret: str | None = None) -> str:
    """The 签收 link for a notice sent at ``now``."""
    base = (base_url or get_settings().base_url).rstrip("/")
    token = make_ack_token(task_id, person_id, now + dt.timedelta(days=valid_days), secret)
    return f"{base}/ack/{token}"
