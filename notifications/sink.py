"""A local mail sink for the demo: a real SMTP server (aiosmtpd) on 127.0.0.1 writing .eml files.

With no SMTP server configured, ``junheng demo`` (and ``junheng mail deliver`` when
``JUNHENG_MAIL_SINK_DIR`` is set) starts this sink and points the ordinary sender at it, so the demo
exercises exactly the code that talks to a county's mail server: the same connection, envelope,
MIME encoding and retry handling. Each message lands once per envelope recipient as

    <sink dir>/<recipient address>/<Message-ID>.eml

and a newcomer can open what each department would have received in any mail program. A resend
carries the same Message-ID and so overwrites its own file rather than adding a second one.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from email import policy
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller

from tracker.settings import Settings

_UNSAFE = re.compile(r"[^\w.@+-]+")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _safe(part: str, fallback: str) -> str:
    cleaned = _UNSAFE.sub("_", part).strip("._")
    return cleaned[:120] or fallback


class EmlWriter:
    """aiosmtpd handler: stores each accepted message as an .eml file per recipient."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        raw: bytes = envelope.original_content or envelope.content
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        message_id = _safe(str(headers.get("Message-ID", "")).strip("<> "), f"message-{self.accepted + 1}")
        for rcpt in envelope.rcpt_tos:
            folder = self.directory / _safe(rcpt, "recipient")
            folder.mkdir(parents=True, exist_ok=True)
            # written whole, then renamed: a reader never sees half a message
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
            os.replace(tmp, folder / f"{message_id}.eml")
        self.accepted += 1
        return "250 2.0.0 OK: written to the local mail sink"


class MailSink:
    """The sink server. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, directory: Path | str, host: str = "127.0.0.1", port: int | None = None):
        self.directory = Path(directory)
        self.host = host
        self.port = port or free_port(host)
        self.handler = EmlWriter(self.directory)
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def settings(self, base: Settings) -> Settings:
        """``base`` with its SMTP settings pointing at this sink (plain SMTP, no login)."""
        return base.model_copy(update={"smtp_host": self.host, "smtp_port": self.port, "smtp_tls": "none",
                                       "smtp_user": None, "smtp_password": None})

    def files(self) -> list[Path]:
        return sorted(self.directory.rglob("*.eml"))
