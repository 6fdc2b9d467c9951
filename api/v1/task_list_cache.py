"""The task list API's kept answers (issue 10): the JSON bytes of ``GET /api/v1/campaigns/{c}/tasks``
kept per process, so that asking again for a list that has not changed costs one statement (the
token's, which reads the campaign's task-list revision with the user and the campaign) and no
serialising.

A kept answer is served only under the key it was made with:

- the campaign and its task-list revision (``tracker.tasks.queries.list_stamp``): database
  triggers move it in the same transaction as every write to what the list shows (tasks,
  cooperators, 延期申请, unit names, phases, the campaign, the working-day calendar; migration
  0020), so a write is seen by the next request, whichever process or code path made it;
- the user's view: campaign, role, department, school (what ``task_clause`` and the moves a user
  may make depend on; two users with the same view see the same list);
- the Beijing date (lights and days overdue count from it) and the plan's light rule;
- the query's parameters, normalised (the filters and the page).

The revision is read per request, never kept across requests, so with several workers each
keeps its own answers and none can serve a stale one. Bounded in bytes (least recently used go
first); a revision is random, not a counter, so a backup restored cannot bring back a number that
named other data.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

MAX_BYTES = 32 * 1024 * 1024  # some 800 pages of 50 tasks
MAX_ANSWER = 1024 * 1024  # a page larger than this (500 long tasks) is not kept


class AnswerCache:
    """Bytes by key, least recently used evicted first once they hold more than ``max_bytes``."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self._answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # the routes run in the thread pool

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > MAX_ANSWER:
            return
        with self._lock:
            old = self._answers.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._answers[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._answers)


answers = AnswerCache()
