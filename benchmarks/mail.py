"""Mail throughput into a local SMTP server: one connection per batch versus one per message.

    uv run python benchmarks/mail.py [N] [--end-to-end-only]      (default N = 2000)

An aiosmtpd server runs in a separate process on 127.0.0.1 (`python -m aiosmtpd`, the Sink handler
that accepts and discards), so client and server do not share one interpreter lock. Every message is a realistic grouped reminder
(3 items, text + HTML, Chinese subject and names), built and sent by notifications.channels.email.

1. batch:       N messages, batches of JUNHENG_MAIL_BATCH_SIZE (100) per SMTP connection
2. per message: N messages, a new SMTP connection (connect, EHLO, MAIL, RCPT, DATA, QUIT) for each
3. both again over implicit TLS (a self-signed certificate made here), where every new connection
   also costs a TLS handshake — what a county's mail server on port 465 asks for
4. end to end:  deliver_due on a fresh SQLite store: compose N owed items into N messages, claim
                them, send in batches, commit the outcomes — what the scheduler does; and in the
                same run its yardstick, a plain loop over one reused aiosmtplib connection that
                builds each of N ready-rendered messages the ordinary way (the standard library's
                EmailMessage, email.policy.default: ``build_email``) and sends it, with no store
                at all; printed with the ratio of the two (issue 10 aim: at least 80%). For
                reference, the same loop building with the project's own byte writer
                (``email_bytes``, what deliver_due sends with), and the loop sending MIME messages
                built beforehand (the floor of the sending alone).

Client and server share one machine, so the figures are a floor for the sending side, not a
measure of a county's mail server. A message counts only when the server answered 250 for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import socket  # noqa: E402
import subprocess  # noqa: E402

from notifications.channels.email import SmtpConfig, build_email, email_bytes, send_batch  # noqa: E402
from notifications.render import ItemView, render_email  # noqa: E402
from notifications.sink import free_port  # noqa: E402
from tracker.notices.models import OutboundMessage  # noqa: E402

NOW = dt.datetime(2026, 12, 14, 1, 0, tzinfo=dt.timezone.utc)
BATCH = 100


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def start_server(port: int, tls: tuple[Path, Path] | None = None) -> subprocess.Popen:
    extra = ["--smtpscert", str(tls[0]), "--smtpskey", str(tls[1])] if tls else []
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "aiosmtpd.handlers.Sink", *extra],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("aiosmtpd did not start")


def sample_messages(n: int) -> list[OutboundMessage]:
    items = [ItemView(rung=rung, task_id=i, title=f"第{i}项整改任务：城关一小音乐教室面积不达标",
                      measures="改建音乐教室 1 间（≥96㎡）", unit="财政局", cooperators=["住建局"],
                      due_on=dt.date(2026, 12, 18), light="黄", days_left=4,
                      task_url=f"https://duban.example.cn/tasks/{i}")
             for i, rung in enumerate(["due_soon", "chase", "assigned"], start=1)]
    rendered = render_email(items, recipient_name="李科长", campaign_name="示例县优质均衡创建",
                            base_url="https://duban.example.cn")
    return [OutboundMessage(id=k, recipient_name=f"联系人{k}", recipient_address=f"contact{k}@example.cn",
                            subject=rendered.subject, body_text=rendered.body_text, body_html=rendered.body_html,
                            message_id_header=f"<junheng.bench{k}@example.cn>") for k in range(1, n + 1)]


async def batched(messages, config) -> None:
    for start in range(0, len(messages), BATCH):
        results = await send_batch(messages[start:start + BATCH], config, now=NOW)
        assert all(r.ok for r in results), results[0]


async def one_by_one(messages, config) -> None:
    for message in messages:
        [result] = await send_batch([message], config, now=NOW)
        assert result.ok, result


async def plain_loop(messages, config, prebuilt=None, fast=False) -> None:
    """The yardstick: one aiosmtplib connection, build each message the ordinary way (the
    standard library's EmailMessage with email.policy.default, as ``build_email`` does) and send
    it, nothing else (``prebuilt``: send MIME messages built beforehand, untimed; ``fast``: build
    with the project's own byte writer, ``email_bytes``, the stricter yardstick)."""
    import aiosmtplib

    smtp = aiosmtplib.SMTP(hostname=config.host, port=config.port, local_hostname="example.cn")
    await smtp.connect()
    try:
        if prebuilt is not None:
            for mail in prebuilt:
                await smtp.send_message(mail)
        elif fast:
            for message in messages:
                await smtp.sendmail(*email_bytes(message, config.mail_from, NOW))
        else:
            for message in messages:
                await smtp.send_message(build_email(message, config.mail_from, NOW))
    finally:
        await smtp.quit()


def timed(label: str, coro_factory, n: int) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    asyncio.run(coro_factory())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = n / seconds
    print(f"  {label:<24} {n} 封 {seconds:7.2f} s  {rate:6.0f} 封/秒  （发送方 CPU {1000 * cpu / n:.1f} ms/封）")
    return rate


def end_to_end(n: int, port: int) -> float:
    """deliver_due on a fresh SQLite store with n owed items to n recipients."""
    from sqlmodel import Session

    from tracker import db as tracker_db
    from tracker.settings import get_settings

    folder = Path(tempfile.mkdtemp(prefix="junheng-mail-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    os.environ["JUNHENG_DATABASE_URL"] = url
    os.environ["JUNHENG_DATA_DIR"] = str(folder)
    get_settings.cache_clear()
    tracker_db.migrate(url)
    engine = tracker_db.get_engine(url)

    from notifications.delivery import deliver_due
    from tests.factories_db import build_world
    from tracker.notices.models import NoticeItem

    with Session(engine) as session:
        world = build_world(session)
        task = world.task(session, "bench", title="城关一小音乐教室面积不达标")
        session.add_all([NoticeItem(campaign_id=world.campaign.id, task_id=task.id, rung="due_soon",
                                    idempotency_key=f"{task.id}:due_soon:3:c{k}@example.cn",
                                    recipient_name=f"联系人{k}", recipient_address=f"c{k}@example.cn",
                                    payload={"light": "黄"}, not_before=NOW) for k in range(n)])
        session.commit()
    settings = get_settings().model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
                                                 "mail_batch_size": BATCH, "mail_from": "均衡督办 <duban@example.cn>"})
    start, cpu = time.perf_counter(), time.process_time()
    report = asyncio.run(deliver_due(engine, NOW, settings=settings, limit=n))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(report.sent) == n, report
    rate = n / seconds
    print(f"  {'deliver_due 端到端（SQLite）':<24} {n} 封 {seconds:7.2f} s  {rate:6.0f} 封/秒  "
          f"（发送方 CPU {1000 * cpu / n:.1f} ms/封；含编排、分批认领、分批提交）")
    return rate


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    end_to_end_only = "--end-to-end-only" in sys.argv
    n = int(args[0]) if args else 2000
    port = free_port()
    server = start_server(port)
    try:
        config = SmtpConfig(host="127.0.0.1", port=port, mail_from="均衡督办 <duban@example.cn>")
        messages = sample_messages(n)
        size = len(messages[0].body_text.encode()) + len(messages[0].body_html.encode())
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"本机 {os.cpu_count()} 核，负载 {load:.1f}；本机 aiosmtpd 服务器（独立进程），{n} 封分组提醒邮件"
              f"（每封 3 项，正文约 {size / 1024:.1f} KB）：")
        asyncio.run(batched(messages[:BATCH], config))  # warm-up
        if not end_to_end_only:
            per_batch = timed(f"每批 {BATCH} 封共用一个连接", lambda: batched(messages, config), n)
            per_message = timed("每封邮件一个连接", lambda: one_by_one(messages, config), n)
            print(f"  共用连接是逐封连接的 {per_batch / per_message:.1f} 倍")
        yardstick = timed("基准：单连接循环构建并发送", lambda: plain_loop(messages, config), n)
        fast = timed("参考：同样循环，用本项目的字节构建", lambda: plain_loop(messages, config, fast=True), n)
        prebuilt = [build_email(m, config.mail_from, NOW) for m in messages]
        bare = timed("参考：单连接只发送（MIME 预先构建）", lambda: plain_loop(messages, config, prebuilt), n)
        rate = end_to_end(n, port)
        print(f"  端到端是基准的 {100 * rate / yardstick:.0f}%（是同样字节构建循环的 {100 * rate / fast:.0f}%，"
              f"是只发送参考的 {100 * rate / bare:.0f}%）")
    finally:
        server.terminate()
        server.wait(timeout=10)
    if end_to_end_only:
        return

    cert_file, key_file = self_signed(Path(tempfile.mkdtemp(prefix="junheng-mail-tls-")))
    tls_port = free_port()
    server = start_server(tls_port, (cert_file, key_file))
    try:
        config = SmtpConfig(host="127.0.0.1", port=tls_port, mail_from="均衡督办 <duban@example.cn>", tls="tls",
                            ca_file=cert_file)
        print("同样的邮件，隐式 TLS（465 端口方式，每个新连接一次 TLS 握手）：")
        asyncio.run(batched(messages[:BATCH], config))  # warm-up
        per_batch = timed(f"每批 {BATCH} 封共用一个连接", lambda: batched(messages, config), n)
        per_message = timed("每封邮件一个连接", lambda: one_by_one(messages, config), n)
        print(f"  共用连接是逐封连接的 {per_batch / per_message:.1f} 倍")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
