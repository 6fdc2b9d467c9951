"""Prefect inside CLI commands: its own log lines stay off the user's console.

Commands that run a flow in-process (`selfcheck`, `dispatch`, `demo`) report what happened in
Chinese themselves, including a failing step's error, so Prefect's English run logs and
tracebacks would only repeat it. The lines are dropped at the console only: flow-run logs still
reach the Prefect server (its API handler is untouched).
"""

from __future__ import annotations

import logging

_QUIET = ("prefect", "uvicorn", "fastapi", "junheng.dispatcher")


class _NotFromPrefect(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(_QUIET)


def quiet_prefect() -> None:
    from junheng.cli.logs import is_verbose

    import flows  # noqa: F401 — sets the project's Prefect defaults before Prefect loads
    import prefect.main  # noqa: F401 — configures Prefect's logging, which is adjusted below
    from prefect.logging.handlers import PrefectConsoleHandler

    if is_verbose():  # `junheng --verbose …`: Prefect's own lines too
        return
    for name in ("", "uvicorn", "fastapi"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler) and not any(
                    isinstance(f, _NotFromPrefect) for f in handler.filters):
                handler.addFilter(_NotFromPrefect())
