"""What every command group shares: the Chinese error exit, finding the campaign, and naming the
database a command looked at. The tracker's own errors are reported by the root group
(junheng.cli, ``report_error``); ``fail`` is for what the CLI itself finds wrong."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from tracker.org.models import Campaign
from tracker.org.service import CampaignNotFound, resolve_campaign


def fail(message: str) -> NoReturn:
    """A user's error: the Chinese message on stderr, exit code 2, no traceback."""
    Console(stderr=True, soft_wrap=True).print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def database_shown(url: str | None = None) -> str:
    """The database's URL as a user may see it: any password masked."""
    from sqlalchemy.engine import make_url

    from tracker.settings import get_settings

    url = url or get_settings().database_url_resolved
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 — not a URL SQLAlchemy reads; never show what may hold a password
        return "（JUNHENG_DATABASE_URL 的值无法解析）"


def user_message(error: Exception) -> str:
    """An error's Chinese message; when no campaign was found, also the database looked at (a
    user who ran the demo in another shell is otherwise told nothing about why)."""
    message = getattr(error, "message", None) or str(error)
    if isinstance(error, CampaignNotFound):
        message += f"（查看的数据库：{database_shown()}；可用环境变量 JUNHENG_DATABASE_URL 指定）"
    return message


def existing_database_or_exit() -> None:
    """For commands that only read: a SQLite file that is not there is reported, not created
    empty (a command run in a shell without the demo's JUNHENG_DATABASE_URL would otherwise
    leave an empty database in the user data directory and say there is no campaign)."""
    from sqlalchemy.engine import make_url

    from tracker.settings import get_settings

    url = get_settings().database_url_resolved
    parsed = make_url(url)
    if (parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:"
            and not parsed.database.startswith("file:") and not Path(parsed.database).exists()):
        fail(f"数据库 {database_shown(url)} 不存在，还没有任何创建工作。先运行 junheng campaign init PLAN.yaml；"
             "或用环境变量 JUNHENG_DATABASE_URL 指向已有的数据库，例如 junheng demo 最后显示的那一行 export 命令。")


def campaign_or_exit(session: Session, code: str | None) -> Campaign:
    """The campaign named by --campaign (may be left out when there is only one); else
    ``CampaignNotFound``, which the root of the CLI reports (exit 3)."""
    return resolve_campaign(session, code)
