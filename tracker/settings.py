"""Settings from the environment (prefix JUNHENG_), one object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_data_dir
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracker.errors import JunhengError


def _default_data_dir() -> Path:
    return Path(user_data_dir("junheng", appauthor=False))


_KIND_WORDS = {"wecom": "wecom", "企业微信": "wecom", "dingtalk": "dingtalk", "钉钉": "dingtalk"}


class WebhookRobot(BaseModel):
    """A 企业微信 or 钉钉 group robot: its webhook URL (with key/access_token) and 钉钉's signing secret.

    ``kind`` (wecom / dingtalk, or 企业微信 / 钉钉) says which API it speaks; left out, it is read from
    the URL's host (qyapi.weixin.qq.com, oapi.dingtalk.com). A plan names the robot, never its kind."""

    url: str
    secret: str | None = None
    kind: str | None = None

    @model_validator(mode="after")
    def _known_kind(self) -> "WebhookRobot":
        if self.kind is not None:
            kind = _KIND_WORDS.get(self.kind.strip())
            if kind is None:
                raise ValueError(f"群机器人的 kind「{self.kind}」无效：应为 wecom（企业微信）或 dingtalk（钉钉）")
            self.kind = kind
            return self
        host = (urlsplit(self.url).hostname or "").lower()
        if host.endswith("dingtalk.com"):
            self.kind = "dingtalk"
        elif host.endswith("weixin.qq.com"):
            self.kind = "wecom"
        else:
            raise ValueError(f"无法从地址 {host or self.url} 判断群机器人是企业微信还是钉钉："
                             "请在 JUNHENG_WEBHOOKS 中为它加上 \"kind\": \"wecom\" 或 \"dingtalk\"")
        return self

    def address(self, name: str) -> str:
        """The notice address of this robot under ``name``: ``wecom:NAME`` or ``dingtalk:NAME``."""
        return f"{self.kind}:{name}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JUNHENG_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    # None means a SQLite file in data_dir (see database_url_resolved)
    database_url: str | None = None
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = "change-me-junheng-dev-secret"
    kindergarten_weight: float = 1.0  # 附设幼儿班 per-pupil weight when splitting shared facilities
    # 佐证材料 uploads (issue 5): refused with 413 once a file passes this many bytes
    evidence_max_bytes: int = 50 * 1024 * 1024
    # 资料清单 (issue 13 §4): a review held within this many working days brings the units the
    # reminders of their missing required materials, and the briefing lists them
    materials_review_window_days: int = Field(default=10, ge=0, le=60)
    # security (issue 11): page sessions end after this long without a request, and this long
    # after the login; X-Forwarded-For/-Proto are believed only from these peers (IPs or CIDRs,
    # comma-separated; nginx on the same machine is 127.0.0.1)
    session_idle_hours: float = 8.0
    session_max_days: float = 7.0
    trusted_proxies: str = "127.0.0.1"

    # mail (issue 4)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"  # none | starttls | tls
    smtp_timeout: float = 30.0
    mail_from: str = "均衡督办 <junheng@localhost>"
    smtp_ca_file: Path | None = None  # trust this CA (a private or self-signed server certificate)
    # with no smtp_host: deliver through a local aiosmtpd sink writing .eml files here (demo)
    mail_sink_dir: Path | None = None
    mail_max_attempts: int = 8  # then the message is dead and the office is told
    mail_retry_base_minutes: float = 1.0  # backoff 1, 2, 4, 8 … minutes
    mail_retry_max_minutes: float = 60.0
    mail_batch_size: int = 100  # messages per SMTP connection (and per lease)
    # a batch is leased for smtp_timeout + this per message: a deliverer killed mid-batch holds its
    # messages back that long at most; one that is still sending when the lease ends stops and
    # hands the rest back (no second deliverer sends them meanwhile)
    mail_lease_seconds_per_message: float = 3.0
    # one recipient's notices of a sweep go in one e-mail up to these caps, else in several, each with
    # a summary and a link to the full list (servers refuse large mail: 552, often at 10 MB)
    mail_max_items_per_message: int = 200
    mail_max_message_bytes: int = 2_000_000  # text + HTML as sent (base64), estimated
    # group robots by name, JSON: {"财政局群": {"url": "https://oapi.dingtalk.com/robot/send?access_token=…",
    # "secret": "SEC…"}}; a notice addressed "dingtalk:财政局群" or "wecom:NAME" goes to that robot
    webhooks: dict[str, WebhookRobot] = Field(default_factory=dict)
    webhook_timeout: float = 10.0
    # each robot takes this many messages a minute (企业微信 and 钉钉: 20; 钉钉 blocks a robot for
    # 10 minutes past it): more wait, queued, for the next free minute — never dropped
    webhook_per_minute: int = Field(default=20, ge=1)

    # scheduler leadership (issue 11): a lease in the database, renewed every heartbeat; a leader
    # frozen or cut off for longer than the lease is replaced. The heartbeat must be well under
    # the lease (at most a third of it), so one late heartbeat does not lose it.
    scheduler_lease_seconds: float = Field(default=40.0, ge=1.0, le=600.0)
    scheduler_heartbeat_seconds: float = Field(default=10.0, ge=0.1, le=200.0)

    @field_validator("kindergarten_weight", mode="before")
    @classmethod
    def _kindergarten_weight(cls, value: object) -> object:
        # JUNHENG_KINDERGARTEN_WEIGHT= (set but empty) means unset: the default, not a crash
        if value is None or (isinstance(value, str) and not value.strip()):
            return 1.0
        try:
            weight = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"JUNHENG_KINDERGARTEN_WEIGHT「{value}」应为正数（附设幼儿班每生折算权重，小学生为 1）") from None
        if not weight > 0 or weight == float("inf"):
            raise ValueError(f"JUNHENG_KINDERGARTEN_WEIGHT「{value}」应为正数（附设幼儿班每生折算权重，小学生为 1）")
        return weight

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> "Settings":
        if self.scheduler_heartbeat_seconds * 3 > self.scheduler_lease_seconds:
            raise ValueError("JUNHENG_SCHEDULER_HEARTBEAT_SECONDS 不得超过 JUNHENG_SCHEDULER_LEASE_SECONDS 的三分之一")
        return self

    @property
    def database_url_resolved(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'junheng.db'}"


class SettingsError(JunhengError):
    """An environment setting (JUNHENG_…) that cannot be used; the message names it, in Chinese."""


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "JUNHENG_" + "_".join(str(p) for p in error["loc"]).upper() if error["loc"] else "设置"
            message = str(error.get("ctx", {}).get("error", "")) or error["msg"]
            problems.append(message if message.startswith("JUNHENG_") else f"{name}：{message}")
        raise SettingsError("环境设置有误：" + "；".join(problems)) from None
