"""The server-rendered pages (Jinja2, Chinese, phone-friendly, forms without JavaScript):
总览, 指标, 任务, units, 学校数据, 通报 — and the static files they use (our CSS, the vendored
ECharts). ``install_pages(app)`` adds them to the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def install_pages(app: FastAPI) -> None:
    from api.errors import error_response
    from api.pages import assign, briefings, data, indicators, overview, tasks, units
    from tracker.briefings.service import BriefingNotFound
    from tracker.evidence.service import EvidenceNotFound
    from tracker.evidence.storage import EvidenceRejected
    from tracker.schooldata.approval import SubmissionError

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # assign before tasks: /tasks/template.xlsx is not a task id
    for module in (overview, indicators, assign, tasks, units, data, briefings):
        app.include_router(module.router)

    @app.exception_handler(EvidenceRejected)
    async def _evidence_rejected(request: Request, exc: EvidenceRejected) -> Response:
        return error_response(request, exc.status, exc.message)

    @app.exception_handler(EvidenceNotFound)
    @app.exception_handler(BriefingNotFound)
    async def _not_found(request: Request, exc: Exception) -> Response:
        return error_response(request, 404, getattr(exc, "message", str(exc)))

    @app.exception_handler(SubmissionError)
    async def _submission(request: Request, exc: SubmissionError) -> Response:
        return error_response(request, 409, exc.message)
