"""`junheng mail test ADDRESS` against a real local SMTP server (aiosmtpd), and against a port where
nothing listens."""

from __future__ import annotations

import pytest
from aiosmtpd.smtp import AuthResult
from typer.testing import CliRunner

from junheng.cli import app
from notifications.sink import free_port
from tests.notifications.conftest import SmtpServer, certificate, smtp_port  # noqa: F401
from tracker.settings import get_settings

runner = CliRunner()


def password_check(user: str, password: str):
    """aiosmtpd answers a failed login with 535 only when the authenticator leaves it unhandled."""
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)
    return authenticator


@pytest.fixture
def mail_env(monkeypatch, tmp_path):
    def point(port: int, **extra: str) -> None:
        env = {"JUNHENG_SMTP_HOST": "127.0.0.1", "JUNHENG_SMTP_PORT": str(port), "JUNHENG_SMTP_TLS": "none",
               "JUNHENG_MAIL_FROM": "均衡督办 <duban@jiaoyu.example.cn>", "JUNHENG_SMTP_TIMEOUT": "5",
               "JUNHENG_DATA_DIR": str(tmp_path / "data"), **extra}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
    yield point
    get_settings.cache_clear()


def test_sends_one_message_and_prints_the_servers_answers(mail_env, smtp_port):
    mail_env(smtp_port)
    server = SmtpServer(smtp_port).start()
    try:
        result = runner.invoke(app, ["mail", "test", "it@jiaoyu.example.cn"])
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert "连接：220" in result.output
    assert "收件人：250" in result.output
    assert "正文：250 2.0.0 OK" in result.output
    assert "发送成功" in result.output and "250 2.0.0 OK" in result.output
    [received] = server.handler.received
    assert received.rcpt_tos == ["it@jiaoyu.example.cn"]
    assert received.mail_from == "duban@jiaoyu.example.cn"
    assert received.message["Subject"] == "【均衡督办】测试邮件"
    assert "这是均衡督办系统发出的测试邮件" in received.message.get_body(("plain",)).get_content()


def test_logs_in_over_starttls_and_reports_a_wrong_password(mail_env, smtp_port, certificate):  # noqa: F811
    auth = dict(authenticator=password_check("duban", "口令-secret"), auth_required=True, auth_require_tls=True)
    server = SmtpServer(smtp_port, tls_context=certificate.server_context(), require_starttls=True, **auth).start()
    try:
        mail_env(smtp_port, JUNHENG_SMTP_TLS="starttls", JUNHENG_SMTP_USER="duban",
                 JUNHENG_SMTP_PASSWORD="口令-secret", JUNHENG_SMTP_CA_FILE=str(certificate.cert_file))
        good = runner.invoke(app, ["mail", "test", "it@jiaoyu.example.cn"])
        mail_env(smtp_port, JUNHENG_SMTP_TLS="starttls", JUNHENG_SMTP_USER="duban",
                 JUNHENG_SMTP_PASSWORD="wrong-password", JUNHENG_SMTP_CA_FILE=str(certificate.cert_file))
        bad = runner.invoke(app, ["mail", "test", "it@jiaoyu.example.cn"])
    finally:
        server.stop()
    assert good.exit_code == 0, good.output
    assert "登录：235" in good.output and "账号 duban" in good.output
    assert bad.exit_code == 1, bad.output
    assert "登录邮件服务器失败：服务器答复 535" in bad.output and "JUNHENG_SMTP_PASSWORD" in bad.output
    assert len(server.handler.received) == 1
    assert server.handler.received[0].encrypted


def test_an_untrusted_certificate_is_named(mail_env, smtp_port, certificate):  # noqa: F811
    server = SmtpServer(smtp_port, ssl_context=certificate.server_context()).start()
    try:
        mail_env(smtp_port, JUNHENG_SMTP_TLS="tls")  # no JUNHENG_SMTP_CA_FILE: the self-signed cert fails
        result = runner.invoke(app, ["mail", "test", "it@jiaoyu.example.cn"])
    finally:
        server.stop()
    assert result.exit_code == 1, result.output
    assert "证书不受信任" in result.output and "JUNHENG_SMTP_CA_FILE" in result.output
    assert server.handler.received == []


def test_a_refused_recipient_is_reported(mail_env, smtp_port):
    server = SmtpServer(smtp_port)
    server.handler.refuse_rcpt.add("nobody@jiaoyu.example.cn")
    server.start()
    try:
        mail_env(smtp_port)
        result = runner.invoke(app, ["mail", "test", "nobody@jiaoyu.example.cn"])
    finally:
        server.stop()
    assert result.exit_code == 1, result.output
    assert "邮件服务器拒绝了收件人（nobody@jiaoyu.example.cn：550 5.1.1 mailbox unavailable）" in result.output
    assert server.handler.received == []


def test_a_refused_port_fails_in_chinese(mail_env):
    port = free_port()  # nothing listens there
    mail_env(port)
    result = runner.invoke(app, ["mail", "test", "it@jiaoyu.example.cn"])
    assert result.exit_code == 1, result.output
    assert f"无法连接邮件服务器 127.0.0.1:{port}：连接被拒绝" in result.output
    assert "Traceback" not in result.output


def test_without_a_server_or_with_a_bad_address_nothing_is_tried(mail_env, monkeypatch):
    mail_env(25)
    bad = runner.invoke(app, ["mail", "test", "not-an-address"])
    assert bad.exit_code == 2
    assert "收件地址：邮箱格式不正确：「not-an-address」" in bad.output
    monkeypatch.delenv("JUNHENG_SMTP_HOST")
    get_settings.cache_clear()
    unset = runner.invoke(app, ["mail", "test", "it@jiaoyu.example.cn"])
    assert unset.exit_code == 2
    assert "未设置邮件服务器（JUNHENG_SMTP_HOST）" in unset.output
    mail_env(25, JUNHENG_SMTP_TLS="ssl")
    wrong_tls = runner.invoke(app, ["mail", "test", "it@jiaoyu.example.cn"])
    assert wrong_tls.exit_code == 2
    assert "JUNHENG_SMTP_TLS 的值「ssl」无效" in wrong_tls.output
