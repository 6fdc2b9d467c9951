"""Group robots: 企业微信 and 钉钉 webhooks, markdown messages, over one HTTP client per batch.

A message addressed ``wecom:NAME`` or ``dingtalk:NAME`` goes to the robot configured under NAME in
``JUNHENG_WEBHOOKS`` (JSON: ``{"NAME": {"url": "…", "secret": "…"}}``). The URLs carry the robot's
key or access token and the 钉钉 secret signs every call, so they live in the environment with the
other credentials, not in the plan file (which is stored in the database and shown to users).

- 企业微信: ``{"msgtype": "markdown", "markdown": {"content": …}}`` (content ≤ 4096 bytes).
- 钉钉: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; with a secret ("加签"),
  the URL gets ``&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256(secret, "<ms>\\n<secret>")>``.

Both answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success; any other errcode is a
failure to retry. Robots have no Message-ID: a resend after a crash posts the message again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Mapping, Sequence

import httpx

from tracker.notices.models import OutboundMessage
from tracker.settings import WebhookRobot

from notifications.channels.email import ResultCallback, SendResult, report_result


def robot_name(address: str) -> str:
    return address.partition(":")[2].strip()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉's 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def _with_query(url: str, extra: str) -> str:
    return url + ("&" if "?" in url else "?") + extra


def dingtalk_request(robot: WebhookRobot, title: str, text: str, timestamp_ms: int | None = None) -> tuple[str, dict]:
    url = robot.url
    if robot.secret:
        # 钉钉 rejects a timestamp more than an hour off the real clock, so this is always real time
        timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        url = _with_query(url, f"timestamp={timestamp_ms}&sign={dingtalk_sign(robot.secret, timestamp_ms)}")
    return url, {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def wecom_request(robot: WebhookRobot, content: str) -> tuple[str, dict]:
    return robot.url, {"msgtype": "markdown", "markdown": {"content": content}}


def request_for(message: OutboundMessage, robot: WebhookRobot) -> tuple[str, dict]:
    if message.channel == "dingtalk":
        return dingtalk_request(robot, message.subject, message.body_text)
    if message.channel == "wecom":
        return wecom_request(robot, message.body_text)
    raise ValueError(f"消息 #{message.id} 的渠道「{message.channel}」不是群机器人")


async def send_batch(
    messages: Sequence[OutboundMessage],
    robots: Mapping[str, WebhookRobot],
    *,
    timeout: float = 10.0,
    on_result: ResultCallback | None = None,
    client: httpx.AsyncClient | None = None,
) -> list[SendResult]:
    """Post each message to its robot, reusing one HTTP client (and its connections)."""
    results: list[SendResult] = []
    if not messages:
        return results
    own_client = client is None
    client = client or httpx.AsyncClient(timeout=timeout)
    try:
        for message in messages:
            name = robot_name(message.recipient_address)
            robot = robots.get(name)
            if robot is None:
                await report_result(on_result, SendResult(message.id, False,
                                                    f"未配置群机器人「{name}」（JUNHENG_WEBHOOKS）"), results)
                continue
            try:
                url, body = request_for(message, robot)
                response = await client.post(url, json=body)
            except (httpx.HTTPError, ValueError) as exc:
                await report_result(on_result, SendResult(message.id, False, f"无法连接群机器人「{name}」：{exc}",
                                                                     channel_down=True), results)
                continue
            await report_result(on_result, _outcome(message, name, response), results)
    finally:
        if own_client:
            await client.aclose()
    return results


def _outcome(message: OutboundMessage, name: str, response: httpx.Response) -> SendResult:
    if response.status_code != 200:
        return SendResult(message.id, False, f"群机器人「{name}」返回 HTTP {response.status_code}",
                          channel_down=response.status_code >= 500)
    try:
        data = response.json()
    except ValueError:
        return SendResult(message.id, False, f"群机器人「{name}」的应答不是 JSON")
    if data.get("errcode", -1) != 0:
        return SendResult(message.id, False, f"群机器人「{name}」拒绝：{data.get('errcode')} {data.get('errmsg', '')}")
    return SendResult(message.id, True)
