"""Seed a fresh database for .ci/schemathesis: the API tests' world (tests/api/conftest.py: a
campaign with a user per role, three tasks, data, an assessment, evidence) and a token for the
office and for a department. Writes ``office.token``, ``department.token`` and ``ids.env`` (the
campaign code and row ids the fuzzer's path parameters are pinned to) into the given folder.

The database and data folder are the process's (JUNHENG_DATABASE_URL, JUNHENG_DATA_DIR)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.api.conftest import build_api_world
from tracker import db as tracker_db
from tracker.accounts.models import User
from tracker.accounts.service import issue_token
from tracker.db import session_scope
from tracker.settings import get_settings


def main(out: Path) -> None:
    url = get_settings().database_url_resolved
    tracker_db.migrate(url)
    engine = tracker_db.get_engine(url)
    world = build_api_world(engine)
    with session_scope(engine) as session:
        for role, username in (("office", "office"), ("department", "dept_a")):
            token, _ = issue_token(session, session.get(User, world.users[username].id))
            (out / f"{role}.token").write_text(token, encoding="utf-8")
    (out / "ids.env").write_text(
        f"JH_CAMPAIGN={world.code}\nJH_TASK={world.tasks['a'].id}\n"
        f"JH_SUBMISSION={world.submissions['own'].id}\nJH_ASSESSMENT={world.assessment.id}\n"
        f"JH_EVIDENCE={world.evidence['a'].id}\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
