"""One test message through the configured mail server, step by step, for `junheng mail test`.

The county's IT staff run it once when they set the JUNHENG_SMTP_* variables: it goes through the
same settings (``SmtpConfig.from_settings``) and TLS context the delivery uses, and it keeps every
answer the server gave (greeting, login, recipient, end of data) so the console can show the
server's own words — the thing to quote when asking the mail administrator. It writes nothing to
the database: a test message is not a notice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib

from tracker.clock import zone as local_zone

from notifications.channels.email import SmtpConfig, address_of, close_connection, mailbox_of


@dataclass
class ServerReply:
    step: str  # 连接 / 登录 / 发件人 / 收件人 / 正文
    code: int
    message: str


@dataclass
class ProbeResult:
    ok: bool
    replies: list[ServerReply] = field(default_factory=list)
    error: str = ""  # Chinese: what went wrong and what to check

    @property
    def final(self) -> ServerReply | None:
        return self.replies[-1] if self.replies else None


def build_test_message(config: SmtpConfig, to: str, now: dt.datetime, base_url: str,
                       zone: str | None = None) -> EmailMessage:
    local = now.astimezone(local_zone(zone))
    mail = EmailMessage()
    mail["Subject"] = "【均衡督办】测试邮件"
    mail["From"] = address_of(config.mail_from)
    mail["To"] = mailbox_of("", to)
    mail["Date"] = format_datetime(local)
    mail["Message-ID"] = make_msgid(domain=config.local_hostname)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(
        "这是均衡督办系统发出的测试邮件。\n\n"
        f"发送时间：{local:%Y-%m-%d %H:%M:%S}（北京时间）\n"
        f"邮件服务器：{config.host}:{config.port}（加密方式 {config.tls}）\n"
        f"系统地址：{base_url}\n\n"
        "收到这封邮件，说明系统可以通过这台邮件服务器给各单位发送通知。无需回复。\n")
    return mail


def _hint(exc: BaseException, config: SmtpConfig) -> str:
    where = f"{config.host}:{config.port}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return (f"登录邮件服务器失败：服务器答复 {exc.code} {exc.message}。"
                "请核对 JUNHENG_SMTP_USER 和 JUNHENG_SMTP_PASSWORD（有的邮箱要用“授权码”而不是登录密码）。")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = "；".join(f"{r.recipient}：{r.code} {r.message}" for r in exc.recipients)
        return f"邮件服务器拒绝了收件人（{refused}）。请核对收件地址，或询问邮件管理员是否允许向该地址转发。"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return (f"邮件服务器拒绝了发件人「{exc.sender}」：{exc.code} {exc.message}。"
                "请核对 JUNHENG_MAIL_FROM（很多服务器要求发件地址与登录账号一致）。")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"邮件服务器拒绝：{exc.code} {exc.message}"
    cause = exc.__cause__ if exc.__cause__ is not None else exc  # aiosmtplib wraps the socket's error
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (f"邮件服务器 {where} 的证书不受信任：{cause.verify_message or cause}。若服务器使用单位自签的证书，"
                "请把签发它的 CA 证书文件写入 JUNHENG_SMTP_CA_FILE。")
    if isinstance(cause, ssl.SSLError):
        return (f"与邮件服务器 {where} 的加密握手失败：{cause}。请核对 JUNHENG_SMTP_TLS："
                "端口 465 一般用 tls，端口 587 一般用 starttls，端口 25 一般用 none 或 starttls。")
    if isinstance(cause, ConnectionRefusedError):
        return (f"无法连接邮件服务器 {where}：连接被拒绝（该端口没有邮件服务在监听，或被防火墙拦截）。"
                "请核对 JUNHENG_SMTP_HOST 和 JUNHENG_SMTP_PORT。")
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, asyncio.TimeoutError, TimeoutError)) or isinstance(
            cause, (asyncio.TimeoutError, TimeoutError)):
        return (f"连接邮件服务器 {where} 超时（{config.timeout:.0f} 秒内无应答）。"
                "请检查网络、防火墙，以及地址和端口是否正确。")
    if isinstance(cause, socket.gaierror):
        return f"找不到邮件服务器「{config.host}」（域名无法解析：{cause}）。请核对 JUNHENG_SMTP_HOST 和本机的 DNS 设置。"
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return f"邮件服务器 {where} 中途断开了连接：{exc}。加密方式（JUNHENG_SMTP_TLS）与端口不匹配时常见。"
    if isinstance(exc, (aiosmtplib.SMTPConnectError, OSError)):
        return f"无法连接邮件服务器 {where}：{cause}"
    if isinstance(exc, aiosmtplib.SMTPException):  # e.g. STARTTLS asked for but not offered
        return f"与邮件服务器 {where} 通信失败：{exc}"
    return f"{type(exc).__name__}: {exc}"


async def send_test_message(config: SmtpConfig, to: str, *, now: dt.datetime, base_url: str) -> ProbeResult:
    """Send one test message to ``to``; the result keeps each answer of the server, or the failure."""
    result = ProbeResult(ok=False)
    mail = build_test_message(config, to, now, base_url)
    smtp = aiosmtplib.SMTP(hostname=config.host, port=config.port, use_tls=config.tls == "tls",
                           start_tls=config.tls == "starttls", tls_context=config.tls_context(),
                           timeout=config.timeout, local_hostname=config.local_hostname)
    try:
        greeting = await smtp.connect()
        result.replies.append(ServerReply("连接", greeting.code, greeting.message))
        if config.username:
            login = await smtp.login(config.username, config.password or "")
            result.replies.append(ServerReply("登录", login.code, login.message))
        sender = parseaddr(config.mail_from)[1]
        reply = await smtp.mail(sender)
        result.replies.append(ServerReply("发件人", reply.code, reply.message))
        reply = await smtp.rcpt(to)
        result.replies.append(ServerReply("收件人", reply.code, reply.message))
        reply = await smtp.data(mail.as_bytes())
        result.replies.append(ServerReply("正文", reply.code, reply.message))
        result.ok = True
    except aiosmtplib.SMTPRecipientRefused as exc:
        result.error = _hint(aiosmtplib.SMTPRecipientsRefused([exc]), config)
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        result.error = _hint(exc, config)
    finally:
        await close_connection(smtp)
    return result
