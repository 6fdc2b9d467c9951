"""The task list API's kept answers (issue 10): the JSON bytes of ``GET /api/v1/campaigns/{c}/tasks``
kept per process, so that asking again for a list that has not changed costs one statement (the
token's user, the campaign and its task-list revision) and no serialising.

The route (api/v1/tasks.py) keeps what it answers. ``KeptTaskLists``, an ASGI middleware in front
of the app, answers a request whose key has a kept answer before FastAPI sees it (parsing a dozen
query parameters and solving the dependencies cost more than the rest); anything else, including
every error, it passes on to the app untouched. Both make the key with ``answer_key``.

A kept answer is served only under the key it was made with:

- the campaign and its task-list revision (``tracker.tasks.queries.list_stamp``): database
  triggers move it in the same transaction as every write to what the list shows (tasks,
  cooperators, 延期申请, unit names, phases, the campaign, the working-day calendar; migration
  0020), so a write is seen by the next request, whichever process or code path made it;
- the user's view: campaign, role, department, school (what ``task_clause`` and the moves a user
  may make depend on; two users with the same view see the same list);
- the Beijing date (lights and days overdue count from it) and the plan's light rule;
- the query string exactly as sent (the same string is parsed to the same filters and page).

The revision is read per request, never kept across requests, so with several workers each
keeps its own answers and none can serve a stale one. Bounded in bytes (least recently used go
first); a revision is random, not a counter, so a backup restored cannot bring back a number that
named other data.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Hashable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from api.kept_answers import AnswerCache, app_path, bearer_token, send_kept
from tracker.accounts.task_list import ListView, list_view_of_token
from tracker.clock import local_date
from tracker.db import get_engine, utcnow

log = logging.getLogger(__name__)

MAX_BYTES = 32 * 1024 * 1024  # some 800 pages of 50 tasks
MAX_ANSWER = 1024 * 1024  # a page larger than this (500 long tasks) is not kept

answers = AnswerCache(MAX_BYTES, MAX_ANSWER)


def answer_key(view: ListView, today: dt.date, query: bytes) -> Hashable | None:
    """The key of an answer; None when the campaign's revision is not known (nothing is kept)."""
    if view.stamp is None:
        return None
    return view, today, query


# the list's path as the router matches it ({campaign}: anything but a slash)
_LIST_PATH = re.compile(r"/api/v1/campaigns/([^/]+)/tasks")


class KeptTaskLists:
    """ASGI middleware: a GET of a campaign's task list with a valid bearer token whose answer is
    kept (same view, Beijing date, query string and revision) is answered with the kept bytes;
    every other request goes on to the app. Any failure here also sends the request on."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and len(answers):
            body = await self._kept(scope)
            if body is not None:
                await send_kept(send, body, b"application/json")
                return
        await self.app(scope, receive, send)

    async def _kept(self, scope: Scope) -> bytes | None:
        found = _LIST_PATH.fullmatch(app_path(scope))
        if found is None:
            return None
        token = bearer_token(scope)
        if not token:
            return None
        try:
            return await run_in_threadpool(_kept_answer, found.group(1), token, scope.get("query_string", b""))
        except Exception:  # the app answers instead (and reports what is wrong)
            log.exception("kept task list: lookup failed")
            return None


def _kept_answer(code: str, token: str, query: bytes) -> bytes | None:
    view = list_view_of_token(get_engine(), token, code)
    if view is None:
        return None
    key = answer_key(view, local_date(utcnow()), query)
    return None if key is None else answers.get(key)
