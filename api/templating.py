"""The Jinja2 environment of the pages (api/templates/).

Templates get ``csrf_input(request)`` (the hidden ``csrf_token`` field every form POST needs),
``csrf_token(request)``, ``current_user`` (from the request, set by the auth dependencies) and the
``local_time`` filter (a stored UTC time shown in local, Beijing, time: tracker.clock).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from api.deps import CSRF_FIELD, csrf_token
from tracker.clock import local_time

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)


def csrf_input(request: Request) -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request))}">')


def _local_time(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local_time(moment).strftime(fmt) if moment else ""


templates.env.globals.update(csrf_input=csrf_input, csrf_token=csrf_token, CSRF_FIELD=CSRF_FIELD)
templates.env.filters["local_time"] = _local_time
