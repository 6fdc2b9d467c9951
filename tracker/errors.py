"""The one base of every error Junheng reports to people (issue 10: one source for each concept).

A ``JunhengError`` carries a Chinese ``message`` (shown as it is), a ``kind`` that says what went
wrong in words every front end understands, and optional ``details`` (the row or field of each
problem). The API answers a kind with its HTTP status (``api.errors.STATUS_OF_KIND``), the CLI with
its exit code (``junheng.cli.EXIT_CODE_OF_KIND``); neither needs to know the class. A room declares
its error's kind on the class line::

    class TaskNotFound(JunhengError, LookupError, kind=ErrorKind.not_found): ...

and a single raise may say otherwise with ``kind=``. This module imports nothing from tracker: it is
on the bottom floor, so every room can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """What went wrong, as the API (status) and the CLI (exit code) answer it."""

    invalid = "invalid"  # bad input: a value, a sheet, a plan, a setting (422; exit 2)
    bad_request = "bad_request"  # a request the server cannot read at all: no file, not a form (400; exit 2)
    not_found = "not_found"  # no such campaign, task, unit, briefing … (404; exit 3)
    conflict = "conflict"  # the state does not allow it now: already signed, already approved (409; exit 4)
    forbidden = "forbidden"  # this user or person may not do it (403; exit 5)
    unsupported = "unsupported"  # a file type or database we do not handle (415; exit 6)
    too_large = "too_large"  # a file over the limit (413; exit 7)
    unavailable = "unavailable"  # a service it needs cannot be reached now (503; exit 8)


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One problem of an error: its Chinese message and, where known, where it is."""

    message: str
    row: int | None = None  # a sheet's row
    column: str | None = None  # a sheet's column
    location: str | None = None  # a field path, e.g. ``分工.3.牵头单位`` or ``body.percent``


class JunhengError(Exception):
    """An error meant for people: ``message`` is Chinese and complete, ``kind`` says what it is.

    ``summary`` is the one line to show when the ``details`` are listed beside it (a sheet's
    "有 3 处问题" above its rows); it defaults to the message.
    """

    kind: ErrorKind = ErrorKind.invalid  # the class's kind; a raise may give its own

    def __init_subclass__(cls, kind: ErrorKind | None = None, **rest: Any) -> None:
        super().__init_subclass__(**rest)
        if kind is not None:
            cls.kind = kind

    def __init__(self, message: str = "", *, kind: ErrorKind | None = None,
                 details: Sequence[ErrorDetail] = (), summary: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind  # this raise only; the class keeps its own
        self.details: list[ErrorDetail] = list(details)
        self.summary = summary or message

    def __str__(self) -> str:
        return self.message or super().__str__()


__all__ = ["ErrorDetail", "ErrorKind", "JunhengError"]
