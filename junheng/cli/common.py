"""What every command group shares: the Chinese error exit, and finding the campaign."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from tracker.campaigns.models import Campaign
from tracker.campaigns.service import CampaignNotFound, resolve_campaign


def fail(message: str) -> NoReturn:
    """A user's error: the Chinese message on stderr, exit code 2, no traceback."""
    Console(stderr=True, soft_wrap=True).print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def campaign_or_exit(session: Session, code: str | None) -> Campaign:
    """The campaign named by --campaign (may be left out when there is only one), else exit 2."""
    try:
        return resolve_campaign(session, code)
    except CampaignNotFound as error:
        fail(error.message)
