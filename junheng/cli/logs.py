"""Log lines on the console: ours stamped in Beijing time, third-party ones only with `--verbose`.

Prefect, uvicorn, APScheduler, Alembic and the HTTP and SMTP libraries log in English (Prefect's
EventsWorker warnings, uvicorn's start lines and access log …). What they say that matters, the
commands report in Chinese themselves, so by default those loggers stay quiet; `--verbose`
(a global option, `junheng --verbose serve`) lets them through for troubleshooting.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys

OURS = ("junheng", "tracker", "notifications", "flows", "api")
# Prefect's own loggers are left alone (their level also decides what flow runs send to the
# Prefect server); Prefect's console handler is quietened instead, through these settings of its
# logging.yml, read when Prefect is first imported.
THIRD_PARTY = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "fastapi", "apscheduler",
               "alembic", "httpx", "httpcore", "aiosmtplib", "aiosmtpd", "mail.log", "docket", "watchfiles")
PREFECT_QUIET = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
                 "PREFECT_LOGGING_HANDLERS_DEBUG_LEVEL": "CRITICAL"}

_verbose = False


class BeijingFormatter(logging.Formatter):
    """Times in local (Beijing) time, the one clock's (tracker.clock), whatever zone the machine
    runs in (servers often run in UTC)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        from tracker.clock import local_time  # imported when a line is logged: the CLI starts light

        moment = local_time(dt.datetime.fromtimestamp(record.created, dt.UTC))
        return moment.strftime(datefmt or "%Y-%m-%d %H:%M:%S")


def is_verbose() -> bool:
    return _verbose


def configure_logging(verbose: bool = False) -> None:
    """Called once per command (the app's callback)."""
    global _verbose
    _verbose = verbose
    if not verbose:
        for key, value in PREFECT_QUIET.items():
            os.environ.setdefault(key, value)
    level = logging.INFO if verbose else logging.CRITICAL
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(level)


def log_to_console() -> None:
    """Long-running processes (`scheduler`, `serve`): our own log lines on stderr, Beijing time."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(BeijingFormatter("%(asctime)s %(message)s"))
    handler.set_name("junheng-console")
    for name in OURS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == "junheng-console"]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
