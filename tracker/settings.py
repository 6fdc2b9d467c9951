"""Settings from the environment (prefix JUNHENG_), one object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(user_data_dir("junheng", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JUNHENG_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    # None means a SQLite file in data_dir (see database_url_resolved)
    database_url: str | None = None
    timezone: str = "Asia/Shanghai"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = "change-me-junheng-dev-secret"
    kindergarten_weight: float = 1.0  # 附设幼儿班 per-pupil weight when splitting shared facilities

    # mail (issue 4)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"  # none | starttls | tls
    smtp_timeout: float = 30.0
    mail_from: str = "均衡督办 <junheng@localhost>"

    @property
    def database_url_resolved(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'junheng.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
