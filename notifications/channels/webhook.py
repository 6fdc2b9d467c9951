"""Group robots: 企业微信 and 钉钉 webhooks, markdown messages, over one HTTP client per batch.

A message addressed ``wecom:NAME`` or ``dingtalk:NAME`` goes to the robot configured under NAME in
``JUNHENG_WEBHOOKS`` (JSON: ``{"NAME": {"url": "…", "secret": "…"}}``). The URLs carry the robot's
key or access token and the 钉钉 secret signs every call, so they live in the environment with the
other credentials, not in the plan file (which is stored in the database and shown to users).

- 企业微信: ``{"msgtype": "markdown", "markdown": {"content": …}}`` (content ≤ 4096 bytes). Its
  markdown cannot @ anyone by mobile number, so a message that @-mentions people
  (``OutboundMessage.mentions``) goes as ``{"msgtype": "text", "text": {"content": …,
  "mentioned_mobile_list": [...]}}`` (content ≤ 2048 bytes; composed as plain text).
- 钉钉: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``, and with mentions
  ``"at": {"atMobiles": [...], "isAtAll": false}`` (the text carries ``@<mobile>`` too, or 钉钉 does
  not highlight them); with a secret ("加签"), the URL gets
  ``&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256(secret, "<ms>\\n<secret>")>``.

Both answer HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success; any other errcode is a
failure to retry, except "too many messages" (企业微信 45009, 钉钉 130101 / 410100): the message
is put off a minute (``throttled``), and so is the rest of the batch, unposted. Robots have no
Message-ID: a resend after a crash posts the message again.
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


# "too many messages": 企业微信 45009 (api freq out of limit), 钉钉 130101 (send too fast) and 410100
THROTTLED = frozenset({45009, 130101, 410100})


def mentions_of(message: OutboundMessage) -> list[str]:
    return [m for m in (message.mentions or "").split(",") if m]


def dingtalk_request(robot: WebhookRobot, title: str, text: str, timestamp_ms: int | None = None,
                     mentions: list[str] | None = None) -> tuple[str, dict]:
    url = robot.url
    if robot.secret:
        # 钉钉 rejects a timestamp more than an hour off the real clock, so this is always real time
        timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        url = _with_query(url, f"timestamp={timestamp_ms}&sign={dingtalk_sign(robot.secret, timestamp_ms)}")
    body: dict = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if mentions:
        body["at"] = {"atMobiles": list(mentions), "isAtAll": False}
    return url, body


def wecom_request(robot: WebhookRobot, content: str, mentions: list[str] | None = None) -> tuple[str, dict]:
    if mentions:
        return robot.url, {"msgtype": "text", "text": {"content": content, "mentioned_mobile_list": list(mentions)}}
    return robot.url, {"msgtype": "markdown", "markdown": {"content": content}}


def request_for(message: OutboundMessage, robot: WebhookRobot) -> tuple[str, dict]:
    if message.channel == "dingtalk":
        return dingtalk_request(robot, message.subject, message.body_text, mentions=mentions_of(message))
    if message.channel == "wecom":
        return wecom_request(robot, message.body_text, mentions_of(message))
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
    throttled: set[str] = set()  # robots that said "too many" in this batch: the rest waits, unposted
    try:
        for message in messages:
            name = robot_name(message.recipient_address)
            if name in throttled:
                await report_result(on_result, SendResult(message.id, False, f"群机器人「{name}」限流，稍后再发",
                                                          throttled=True), results)
                continue
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
            outcome = _outcome(message, name, response)
            if outcome.throttled:
                throttled.add(name)
            await report_result(on_result, outcome, results)
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
    if data.get("errcode") in THROTTLED:
        return SendResult(message.id, False, f"群机器人「{name}」限流：{data.get('errcode')} {data.get('errmsg', '')}",
                          throttled=True)
    if data.get("errcode", -1) != 0:
        return SendResult(message.id, False, f"群机器人「{name}」拒绝：{data.get('errcode')} {data.get('errmsg', '')}")
    return SendResult(message.id, True)
