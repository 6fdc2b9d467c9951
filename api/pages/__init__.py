"""The server-rendered pages (Jinja2, Chinese, phone-friendly, forms without JavaScript):
总览, 指标, 任务, units, 学校数据, 通报, 考核, 申报材料, 修改密码 — and the static files they use (our CSS, the vendored
ECharts). ``install_pages(app)`` adds them to the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def install_pages(app: FastAPI) -> None:
    """The pages' errors (evidence refused, a briefing not found …) are answered by the one
    handler of ``tracker.errors.JunhengError`` in api.errors."""
    from api.pages import (
        account, appraisal, assign, briefings, data, indicators, materials, overview, programme, reports, survey,
        task_moves, tasks, units,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # assign before tasks: /tasks/template.xlsx is not a task id; region's router is added first,
    # by api.app.create_app (the page most often asked for)
    for module in (overview, indicators, assign, tasks, task_moves, units, data, briefings, appraisal, reports, survey,
                   materials, account, programme):
        app.include_router(module.router)
