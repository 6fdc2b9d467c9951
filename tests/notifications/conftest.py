"""Real parts for the notification tests: an SMTP server (aiosmtpd) in this process on a free
localhost port, a self-signed certificate for its TLS modes, an HTTP server for robot webhooks,
and a helper that owes notice items the way the reminder sweep does (rows inserted directly)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import email
import email.policy
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlmodel import Session

from notifications.sink import free_port
from tests.factories_db import World, build_world
from tracker.db import session_scope
from tracker.notices.models import NoticeItem
from tracker.settings import get_settings

NOW = dt.datetime(2026, 12, 14, 1, 0, tzinfo=dt.timezone.utc)  # Monday 09:00 in China


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    session: object
    encrypted: bool = False  # came over TLS (implicit, or upgraded with STARTTLS)

    @property
    def message(self) -> email.message.EmailMessage:
        # aiosmtpd's own Message handler parses with compat32; read it the way a mail program does
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class RecordingHandler:
    """Keeps every message as raw bytes, and the SMTP session (= connection) it came on."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: set[str] = field(default_factory=set)  # answered 550
    defer_data: int = 0  # answer DATA with 451 this many times
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.defer_data > 0:
                self.defer_data -= 1
                return "451 4.3.0 try again later"
            tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content, session, tls))
        return "250 2.0.0 OK"

    @property
    def connections(self) -> int:
        """Distinct SMTP sessions that carried mail (aiosmtpd makes one session per connection)."""
        return len({id(r.session) for r in self.received})

    def by_message_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.received:
            mid = r.message["Message-ID"]
            counts[mid] = counts.get(mid, 0) + 1
        return counts


class SmtpServer:
    """An aiosmtpd server we can start, stop and start again on the same port."""

    def __init__(self, port: int, **controller_kwargs):
        self.host = "127.0.0.1"
        self.port = port
        self.handler = RecordingHandler()
        self.kwargs = controller_kwargs
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **self.kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_server(smtp_port):
    server = SmtpServer(smtp_port).start()
    yield server
    server.stop()


def mail_settings(port: int, **extra):
    """The process settings with the mail server pointed at a local port."""
    return get_settings().model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
        "mail_from": "均衡督办 <duban@jiaoyu.example.cn>", "smtp_timeout": 5.0,
        "base_url": "https://duban.example.cn", **extra})


@dataclass
class Certificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made here with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return Certificate(cert_file, key_file)


def password_check(user: str, password: str):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok)
    return authenticator


# -- webhooks ---------------------------------------------------------------------------------------

@dataclass
class Post:
    path: str
    body: dict


class WebhookServer:
    """http.server in a thread; answers {"errcode": 0} unless told otherwise (``reply``, or
    ``replies`` taken one per post first). With ``dingtalk_secrets`` (access_token → secret) it
    checks 钉钉's 加签 as 钉钉 does: a post to such a token without a good ``timestamp`` + ``sign``
    gets errcode 310000."""

    def __init__(self):
        self.posts: list[Post] = []
        self.reply = {"errcode": 0, "errmsg": "ok"}
        self.replies: list[dict] = []
        self.dingtalk_secrets: dict[str, str] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.posts.append(Post(self.path, json.loads(self.rfile.read(length).decode("utf-8"))))
                reply = outer.replies.pop(0) if outer.replies else outer.reply
                if not outer.signed(self.path):
                    reply = {"errcode": 310000, "errmsg": "sign not match"}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def signed(self, path: str) -> bool:
        query = parse_qs(urlsplit(path).query)  # parse_qs undoes the URL encoding of the sign
        secret = self.dingtalk_secrets.get((query.get("access_token") or [""])[0])
        if secret is None:
            return True
        timestamp, sign = (query.get("timestamp") or [""])[0], (query.get("sign") or [""])[0]
        expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        return timestamp.isdigit() and hmac.compare_digest(sign, expected)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook_server():
    with WebhookServer() as server:
        yield server


# -- the store --------------------------------------------------------------------------------------

@pytest.fixture
def world(engine) -> World:
    """The small test campaign (tests/factories_db.py): office 王主任, 财政局 李科长, 住建局 张局长."""
    with session_scope(engine) as session:
        world = build_world(session)
        world.campaign.name = "示例县优质均衡创建"
        session.add(world.campaign)
    return world


_counter = iter(range(1, 10**9))


def owe(session: Session, world: World, *, task_id: int | None, rung: str, person: str | None = None,
        address: str | None = None, name: str | None = None, copy: bool = False, urgent: bool = False,
        occurrence: int = 0, payload: dict | None = None, not_before: dt.datetime = NOW,
        created_at: dt.datetime | None = None) -> NoticeItem:
    """Insert a notice item as the reminder sweep would."""
    who = world.people[person] if person else None
    address = address or who.email
    item = NoticeItem(
        campaign_id=world.campaign.id, task_id=task_id, rung=rung, occurrence=occurrence,
        idempotency_key=f"{task_id}:{rung}:{occurrence}:{address}:{next(_counter)}",
        recipient_person_id=who.id if who else None, recipient_name=name if name is not None else (who.name if who else ""),
        recipient_address=address, in_copy=copy, urgent=urgent, payload=payload or {}, not_before=not_before)
    if created_at is not None:
        item.created_at = created_at
    session.add(item)
    session.flush()
    return item
