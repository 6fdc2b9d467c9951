"""Kept answers: the bytes of answers that are asked for again and again, kept per process under a
key that names everything they show, and sent by an ASGI middleware before FastAPI parses the
request (routing and solving the dependencies cost more than the rest of a kept answer).

Used by the task list API (``api.v1.task_list_cache``) and the 地区总览 page
(``api.pages.region``); each says what its key holds and how a change is seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from starlette.types import Scope, Send

MAX_BYTES = 32 * 1024 * 1024
MAX_ANSWER = 1024 * 1024


class AnswerCache:
    """Bytes by key, least recently used evicted first once they hold more than ``max_bytes``;
    an answer larger than ``max_answer`` is not kept."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_answer: int = MAX_ANSWER):
        self.max_bytes = max_bytes
        self.max_answer = max_answer
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
        if len(body) > self.max_answer:
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


def app_path(scope: Scope) -> str:
    """The request's path as the router matches it (without the app's root path)."""
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path


def bearer_token(scope: Scope) -> str | None:
    """The request's bearer token, read as ``fastapi.security.OAuth2PasswordBearer`` reads it."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, param = value.decode("latin-1").partition(" ")
            return param.strip() or None if scheme.lower() == "bearer" else None
    return None


async def send_kept(send: Send, body: bytes, content_type: bytes) -> None:
    """A 200 with ``body``: the headers a Starlette ``Response`` of that type sends, in its order."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": body})
