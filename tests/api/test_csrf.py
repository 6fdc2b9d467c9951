"""Every form the pages post is CSRF-checked: found from the app's routes, so a new form route
that forgets ``CsrfChecked`` fails here. Without the session's token the answer is 403 (logged)
and nothing changes; with it the same request goes through.

The one exemption is ``POST /ack/{token}``, the 签收 button behind a mailed link: it has no
session at all — the signed, expiring token in the path is the secret, and it can only sign the
one task for the one person it was made for (api/ack.py).
"""

from __future__ import annotations

import logging

from fastapi.routing import APIRoute
from sqlalchemy import func
from sqlmodel import select

from tests.api.conftest import PASSWORD, pending_school_submission
from tests.api.test_pages import CSRF, log_in
from tests.tracker.evidence import samples
from tracker.events.models import Event
from tracker.schooldata.models import DataSubmission
from tracker.tasks.models import Evidence, Task

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover — older FastAPI keeps app.routes flat
    def iter_route_contexts(routes):
        return routes

EXEMPT = {("POST", "/ack/{token}"), ("POST", "/s/{code}")}  # the survey code is the secret too (api/survey.py)
# streamed uploads read only multipart bodies (anything else: 400 before a byte is kept)
MULTIPART_ONLY = {"/tasks/{task_id}/evidence"}
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# forms of one role only, tried as that role (the office elsewhere): a 延期申请 is the lead unit's,
# a share's report the cooperating unit's, the data form a school's
AS_WHOM = {"/tasks/{task_id}/moves/extension": "dept_a", "/tasks/{task_id}/moves/share": "dept_b",
           "/data/form": "school"}


def page_form_routes(app) -> set[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(app.routes):
        route = getattr(context, "original_route", context)
        path = getattr(context, "path", None) or getattr(route, "path", "")
        if not isinstance(route, APIRoute) or path.startswith("/api/"):
            continue
        for method in set(getattr(context, "methods", None) or route.methods or ()) & CHANGING:
            found.add((method, path))
    return found


class Denials(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _state(session) -> tuple:
    session.expire_all()
    count = lambda model: session.exec(select(func.count()).select_from(model)).one()  # noqa: E731
    return (count(Event), count(DataSubmission), count(Evidence),
            tuple(session.exec(select(Task.id, Task.status, Task.progress).order_by(Task.id))))


def test_every_page_form_needs_the_sessions_token(client, api_world, engine, tmp_path, session):
    routes = page_form_routes(client.app)
    assert ("POST", "/logout") in routes and ("POST", "/tasks/{task_id}/evidence") in routes
    assert EXEMPT <= routes
    pending = pending_school_submission(engine, tmp_path)
    params = {"task_id": api_world.tasks["a"].id, "action": "accept", "submission_id": pending.id,
              # issue 12 (api/pages/task_moves.py): a 延期申请 (none yet: 404 with the token), 住建局
              # cooperating on task a
              "extension_id": 999_999, "decision": "refuse",
              "department_id": api_world.world.departments["住建局"].id,
              "section": "主要做法",  # issue 13: the 自评报告's text of one section
              "evidence_id": 999_999,  # issue 13 §4: tagging a file (none: 404 with the token)
              "objection_id": 999_999}  # issue 15 §1: resolving a 公示 objection (none: 404)
    fields = {"username": "office", "password": PASSWORD, "next": "/", "percent": "50", "note": "说明",
              "reason": "原因", "label": "批次"}

    def url_of(path: str) -> str:
        for name, value in params.items():
            path = path.replace("{" + name + "}", str(value))
        assert "{" not in path, f"a new page form with a path parameter this test cannot fill: {path}"
        return path

    denials = Denials()
    logging.getLogger("junheng.access").addHandler(denials)
    try:
        log_in(client, "office")
        before = _state(session)
        for method, path in sorted(routes - EXEMPT):
            url = url_of(path)
            for kind in ("multipart",) if path in MULTIPART_ONLY else ("urlencoded", "multipart"):
                body = ({"data": fields} if kind == "urlencoded"
                        else {"data": fields, "files": {"file": ("材料.pdf", samples.pdf(), "application/pdf")}})
                seen = len(denials.messages)
                r = client.request(method, url, follow_redirects=False, **body)
                assert r.status_code == 403, (method, path, kind, r.status_code, r.text[:300])
                assert "安全校验未通过" in r.text, (method, path)
                assert len(denials.messages) == seen + 1 and f"{method} {url} " in denials.messages[-1], (method, path)
        assert _state(session) == before  # nothing changed, nothing kept
    finally:
        logging.getLogger("junheng.access").removeHandler(denials)

    # with the token each of them goes through (so the 403 above was the missing token)
    for method, path in sorted(routes - EXEMPT):
        token = log_in(client, AS_WHOM.get(path, "office"))
        files = {"file": ("本校.csv", b"", "text/csv")} if path == "/data/upload" else (
            {"file": ("材料.pdf", samples.pdf(), "application/pdf")} if path.endswith("/evidence") else None)
        r = client.request(method, url_of(path), data={**fields, "csrf_token": token}, files=files,
                           follow_redirects=False)
        assert r.status_code != 403, (method, path, r.text[:300])


def test_the_ack_form_is_exempt_because_its_link_is_the_secret(client, api_world):
    # no session, no token: a made-up link is refused all the same, and changes nothing
    r = client.post("/ack/not-a-signed-token")
    assert r.status_code == 400 and "签收链接无效" in r.text
    assert CSRF.search(client.get("/login").text)  # pages (not the ack page) carry the token
