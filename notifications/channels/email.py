"""E-mail through aiosmtplib: one SMTP connection carries a whole batch of messages.

Each stored ``OutboundMessage`` becomes a MIME ``multipart/alternative`` (plain text + HTML)
built with ``email.policy.default``, so the Chinese subject and display names go out RFC 2047
encoded and the bodies in UTF-8. The ``Message-ID`` header is the one stored when the message was
composed: a resend after a crash is the same message to the recipient's mail system.

``send_batch`` reports each message's outcome through ``on_result`` the moment the server has
answered for it, so the caller can commit "sent" right away (the shorter that gap, the smaller the
at-least-once window).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import inspect
import re
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path

import aiosmtplib

from tracker.clock import zone as local_zone
from tracker.notices.models import OutboundMessage
from tracker.settings import Settings
from tracker.errors import JunhengError

TLS_MODES = ("none", "starttls", "tls")


def clock() -> float:
    """Seconds on a monotonic clock: what a lease's end (``send_batch(stop_at=…)``) is measured on."""
    return time.monotonic()


class MailConfigError(JunhengError, ValueError):
    """A mail setting that cannot work (Chinese message naming the variable)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    mail_from: str
    username: str | None = None
    password: str | None = None
    tls: str = "none"  # none | starttls | tls (implicit TLS, usually port 465)
    timeout: float = 30.0
    ca_file: Path | None = None
    local_hostname: str = "localhost"

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The configured server, or None when JUNHENG_SMTP_HOST is not set."""
        if not settings.smtp_host:
            return None
        tls = (settings.smtp_tls or "none").strip().lower()
        if tls not in TLS_MODES:
            raise MailConfigError(f"JUNHENG_SMTP_TLS 的值「{settings.smtp_tls}」无效：应为 none、starttls 或 tls")
        if bool(settings.smtp_user) != bool(settings.smtp_password):
            raise MailConfigError("JUNHENG_SMTP_USER 和 JUNHENG_SMTP_PASSWORD 须同时设置（或都不设置）")
        sender = parseaddr(settings.mail_from)[1]
        if "@" not in sender:
            raise MailConfigError(f"JUNHENG_MAIL_FROM 的值「{settings.mail_from}」不是有效的发件地址")
        return cls(host=settings.smtp_host, port=settings.smtp_port, mail_from=settings.mail_from,
                   username=settings.smtp_user or None, password=settings.smtp_password or None, tls=tls,
                   timeout=settings.smtp_timeout, ca_file=settings.smtp_ca_file,
                   local_hostname=sender.rpartition("@")[2] or "localhost")

    def tls_context(self) -> ssl.SSLContext | None:
        if self.tls == "none":
            return None
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


@dataclass(frozen=True)
class MailPart:
    """A file sent with a message: an image of its HTML (``content_id`` set; the HTML refers to it
    as ``cid:<content_id>``) or an attachment (a briefing's .docx)."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


@dataclass
class SendResult:
    """What the server said about one message."""

    message_id: int  # OutboundMessage.id
    ok: bool
    error: str = ""
    permanent: bool = False  # a 5xx refusal: retrying the same message cannot help
    refused: dict[str, str] = field(default_factory=dict)  # some recipients refused, others accepted
    channel_down: bool = False  # the connection failed (refused, timed out, dropped, 421): not this message's fault
    recipient_refused: bool = False  # the server refused this message's recipient (e.g. 452 mailbox full)
    released: bool = False  # never tried: the lease ran short, the message is handed back
    throttled: bool = False  # a group robot's rate limit: not taken now, put off a minute (not a failure)


ResultCallback = Callable[[SendResult], "Awaitable[None] | None"]


async def report_result(on_result: ResultCallback | None, result: SendResult, results: list[SendResult]) -> None:
    results.append(result)
    if on_result is not None:
        outcome = on_result(result)
        if inspect.isawaitable(outcome):
            await outcome


def address_of(text: str) -> Address:
    name, addr = parseaddr(text)
    return mailbox_of(name, addr)


def mailbox_of(name: str, addr: str) -> Address:
    addr = addr.strip()
    if addr.count("@") != 1 or not all(addr.split("@")):
        raise ValueError(f"收件地址「{addr}」不是有效的电子邮件地址")
    local, domain = addr.split("@")
    return Address(display_name=name or "", username=local, domain=domain)


def build_email(message: OutboundMessage, mail_from: str, now: dt.datetime, zone: str | None = None,
                parts: Sequence[MailPart] = ()) -> EmailMessage:
    """The MIME message for a stored message (Date in China time; Message-ID as stored).

    With ``parts``: inline images go into a ``multipart/related`` beside the HTML (so the HTML's
    ``cid:`` references resolve), other files are attached (``multipart/mixed``)."""
    mail = EmailMessage()  # policy.default: headers are encoded on the way out, bodies UTF-8
    mail["Subject"] = message.subject
    mail["From"] = address_of(mail_from)
    mail["To"] = mailbox_of(message.recipient_name, message.recipient_address)
    cc = [mailbox_of(name, addr) for name, addr in getaddresses([message.cc]) if addr] if message.cc else []
    if cc:
        mail["Cc"] = cc
    mail["Date"] = format_datetime(now.astimezone(local_zone(zone)))
    mail["Message-ID"] = message.message_id_header
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to reminders
    mail["X-Junheng-Message"] = str(message.id)
    mail.set_content(message.body_text or message.subject)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    inline = [p for p in parts if p.content_id and message.body_html]
    if inline:
        html = mail.get_body(("html",))
        for part in inline:
            maintype, _, subtype = part.content_type.partition("/")
            html.add_related(part.data, maintype=maintype, subtype=subtype or "octet-stream",
                             cid=f"<{part.content_id}>", filename=part.filename, disposition="inline")
    for part in parts:
        if part.content_id and message.body_html:
            continue  # inline, above
        maintype, _, subtype = part.content_type.partition("/")
        mail.add_attachment(part.data, maintype=maintype, subtype=subtype or "octet-stream", filename=part.filename)
    return mail


# -- the fast path: a reminder (text + HTML, no files) written straight as bytes ----------------------
#
# email.policy.default parses every header it is given and folds it again on the way out; for a
# plain reminder that was half the sender's CPU (issue 10). The bytes below are what it produced,
# less the work: RFC 2047 encoded words for the subject and display names, both bodies UTF-8 in
# base64 (7-bit clean: no server needs 8BITMIME), CRLF line ends. Messages with files, copies or
# an address that is not plain ASCII still go through EmailMessage (``build_email``).

_CRLF = b"\r\n"
_WORD_BYTES = 45  # raw bytes per encoded word: 60 base64 characters, the word within 75


def _encoded_words(text: str) -> list[bytes]:
    """``=?utf-8?b?…?=`` words of at most 75 characters, never splitting a character."""
    words, chunk, size = [], [], 0
    for char in text:
        raw = char.encode("utf-8")
        if size + len(raw) > _WORD_BYTES and chunk:
            words.append(b"".join(chunk))
            chunk, size = [], 0
        chunk.append(raw)
        size += len(raw)
    if chunk:
        words.append(b"".join(chunk))
    return [b"=?utf-8?b?" + base64.b64encode(word) + b"?=" for word in words]


_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ .-]*")


def _header_text(name: str, text: str) -> bytes:
    """An unstructured header (Subject): plain when short ASCII, else encoded words, folded."""
    text = " ".join(text.split())  # never a line break inside a header
    if text.isascii() and len(name) + 2 + len(text) <= 78:
        return f"{name}: {text}".encode("ascii")
    return name.encode("ascii") + b": " + b"\r\n ".join(_encoded_words(text))


@functools.lru_cache(maxsize=4096)
def _mailbox_bytes(name: str, addr: str) -> bytes | None:
    """``"名字" <addr>`` as header bytes (encoded word for a non-ASCII name); None when the address
    is not plain ASCII (EmailMessage then decides, SMTPUTF8 and all). Cached: the same sender and
    recipients come back every sweep."""
    mailbox = mailbox_of(name, addr)  # the same check as the slow path: a bad address raises
    addr = mailbox.addr_spec
    if not addr.isascii() or any(c in addr for c in '"\\ \r\n'):
        return None
    name = " ".join((name or "").split())
    if not name:
        return addr.encode("ascii")
    if name.isascii() and _ATOM.fullmatch(name):
        shown = name if re.fullmatch(r"[A-Za-z0-9 ]+", name) else '"' + name + '"'
        return shown.encode("ascii") + b" <" + addr.encode("ascii") + b">"
    return b" ".join(_encoded_words(name)) + b" <" + addr.encode("ascii") + b">"


def _base64_body(text: str) -> bytes:
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", _CRLF)


def email_bytes(message: OutboundMessage, mail_from: str, now: dt.datetime, zone: str | None = None,
                parts: Sequence[MailPart] = ()) -> tuple[str, list[str], bytes] | None:
    """(envelope sender, recipients, the message as bytes) for a plain reminder; None for anything
    else (files, copies, an address that is not plain ASCII): ``build_email`` then builds it."""
    if parts or message.cc or not message.message_id_header.isascii():
        return None
    sender_name, sender_addr = parseaddr(mail_from)
    sender = _mailbox_bytes(sender_name, sender_addr)
    recipient = _mailbox_bytes(message.recipient_name, message.recipient_address)
    if sender is None or recipient is None:
        return None
    boundary = f"==junheng{uuid.uuid4().hex}==".encode("ascii")
    head = [
        _header_text("Subject", message.subject),
        b"From: " + sender,
        b"To: " + recipient,
        b"Date: " + _date_header(now, local_zone(zone).key),
        b"Message-ID: " + " ".join(message.message_id_header.split()).encode("ascii"),
        b"Auto-Submitted: auto-generated",  # RFC 3834: no out-of-office replies to reminders
        b"X-Junheng-Message: " + str(message.id).encode("ascii"),
        b"MIME-Version: 1.0",
    ]
    text_part = (b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
                 + _base64_body(message.body_text or message.subject))
    if not message.body_html:
        data = _CRLF.join(head) + _CRLF + text_part
    else:
        html_part = (b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
                     + _base64_body(message.body_html))
        data = (_CRLF.join(head) + b'\r\nContent-Type: multipart/alternative; boundary="' + boundary + b'"\r\n\r\n'
                + b"--" + boundary + _CRLF + text_part + b"--" + boundary + _CRLF + html_part
                + b"--" + boundary + b"--" + _CRLF)
    return sender_addr.strip(), [message.recipient_address.strip()], data


@functools.lru_cache(maxsize=64)
def _date_header(now: dt.datetime, zone: str) -> bytes:
    return format_datetime(now.astimezone(local_zone(zone))).encode("ascii")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "收件人被拒绝：" + "；".join(f"{r.recipient} {r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"邮件服务器拒绝：{exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPConnectError):  # also covers the connect timeout
        return f"无法连接邮件服务器：{exc}"
    if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError)):
        return f"与邮件服务器的连接中断：{exc}"
    if isinstance(exc, OSError):
        return f"无法连接邮件服务器：{exc}"
    return f"{type(exc).__name__}: {exc}"


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False  # a wrong password is fixed in the settings, then the retry succeeds
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False


async def send_batch(
    messages: Sequence[OutboundMessage],
    config: SmtpConfig,
    *,
    now: dt.datetime,
    on_result: ResultCallback | None = None,
    parts: Mapping[int, Sequence[MailPart]] | None = None,
    stop_at: float | None = None,
) -> list[SendResult]:
    """Send ``messages`` over one SMTP connection; one ``SendResult`` per message, in order.

    ``stop_at`` (on ``clock()``): no message is started after it; the rest come back
    ``released`` (the caller's lease on them ends then, and another deliverer may take them).

    Connection refused (or login/TLS failing) fails every message of the batch; a connection lost
    midway fails the message in flight and those not yet sent. A refusal of one message (4xx/5xx)
    does not stop the others. ``parts``: files carried by a message, by ``OutboundMessage.id``.
    """
    results: list[SendResult] = []
    if not messages:
        return results
    smtp = aiosmtplib.SMTP(
        hostname=config.host, port=config.port, username=config.username, password=config.password,
        use_tls=config.tls == "tls", start_tls=config.tls == "starttls", tls_context=config.tls_context(),
        timeout=config.timeout, local_hostname=config.local_hostname,
    )
    try:
        await smtp.connect()
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        for message in messages:
            await report_result(on_result, SendResult(message.id, False, _describe(exc), channel_down=True), results)
        return results
    try:
        for index, message in enumerate(messages):
            if stop_at is not None and clock() >= stop_at:
                for left in messages[index:]:
                    await report_result(on_result, SendResult(left.id, False, "", released=True), results)
                return results
            try:
                files = (parts or {}).get(message.id, ())
                fast = email_bytes(message, config.mail_from, now, parts=files)
                mail = build_email(message, config.mail_from, now, parts=files) if fast is None else None
            except (ValueError, TypeError) as exc:  # an address that cannot be a mailbox: no retry helps
                await report_result(on_result, SendResult(message.id, False, str(exc), permanent=True), results)
                continue
            try:
                if fast is not None:
                    refused, _reply = await smtp.sendmail(*fast)
                else:
                    refused, _reply = await smtp.send_message(mail)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                for lost in messages[index:]:
                    await report_result(on_result, SendResult(lost.id, False, _describe(exc), channel_down=True),
                                        results)
                return results
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                await report_result(on_result, SendResult(
                    message.id, False, _describe(exc), permanent=_is_permanent(exc),
                    channel_down=getattr(exc, "code", 0) == 421 or not smtp.is_connected,
                    recipient_refused=isinstance(exc, aiosmtplib.SMTPRecipientsRefused)), results)
                if not smtp.is_connected:
                    for lost in messages[index + 1:]:
                        await report_result(on_result, SendResult(lost.id, False, "与邮件服务器的连接中断",
                                                                  channel_down=True), results)
                    return results
                continue
            except (aiosmtplib.SMTPException, ValueError) as exc:  # e.g. SMTPUTF8 needed but not offered
                await report_result(on_result, SendResult(message.id, False, _describe(exc), permanent=True), results)
                continue
            error = "；".join(f"{addr} 被拒绝：{resp.code} {resp.message}" for addr, resp in refused.items())
            await report_result(on_result, SendResult(message.id, True, error,
                                                refused={a: f"{r.code} {r.message}" for a, r in refused.items()}),
                          results)
    finally:
        await close_connection(smtp)
    return results


async def close_connection(smtp: aiosmtplib.SMTP) -> None:
    """Say QUIT if the connection is still up; drop it if the server does not answer."""
    if smtp.is_connected:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            smtp.close()
