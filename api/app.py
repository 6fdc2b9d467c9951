"""The web application: the REST API under /api/v1 (bearer tokens), the pages (session cookie,
CSRF-checked forms), the login pages and the 签收 page behind mailed links.

``create_app()`` is what uvicorn's workers import (``api.app:create_app``, factory); all state
is in the database, so any number of processes can serve one address. ``junheng serve`` as a
single process passes ``background=`` the scheduler, which then runs in this process's event
loop for as long as the app does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tracker.settings import get_settings

log = logging.getLogger("junheng.web")

SESSION_COOKIE = "junheng_session"
OPENAPI_URL = "/api/v1/openapi.json"

Background = Callable[[asyncio.Event], Awaitable[None]]


def _lifespan(background: Background | None):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if background is None:
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(background(stop), name="junheng-background")

        def report(done: asyncio.Task) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.error("后台任务（调度）异常退出：%s", done.exception(), exc_info=done.exception())

        task.add_done_callback(report)
        app.state.background = task
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=10)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 — shutting down regardless
                task.cancel()

    return lifespan


def create_app(*, background: Background | None = None) -> FastAPI:
    from api.ack import router as ack_router
    from api.errors import install_error_handlers
    from api.login import router as login_router
    from api.survey import router as survey_router
    from api.v1 import router as api_router

    settings = get_settings()
    app = FastAPI(
        title="均衡督办",
        description="县域义务教育优质均衡发展创建工作督办系统的接口。令牌由 POST /api/v1/auth/token 取得。",
        version="1",
        docs_url=None,  # Swagger UI would load its scripts from a CDN
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        lifespan=_lifespan(background),
    )
    from api.pages.overview import KeptOverviews
    from api.pages.region import KeptRollups

    # inside the session cookie's middleware (which reads and writes the cookie alike for both):
    # the 地区总览 page's and the roll-up API's kept answers go out before routing (issue 15), and
    # the 总览's (issue 10)
    app.add_middleware(KeptRollups)
    app.add_middleware(KeptOverviews)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        # the cookie lives as long as a session may (the store row decides: tracker.accounts.sessions)
        max_age=int(settings.session_max_days * 24 * 3600),
        same_site="lax",  # HttpOnly is always set by the middleware
        https_only=settings.base_url.startswith("https://"),
    )
    from api.upload_guard import MultipartGuard

    app.add_middleware(MultipartGuard)  # a cut-off multipart body or an over-long file name: 400
    # the client's address (login throttling) and scheme from X-Forwarded-For/-Proto, believed
    # only when the peer is a trusted proxy; `junheng serve` leaves this to the app (issue 11)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    # outermost: the task list API's kept answers go out before the rest is run (issue 10)
    from api.v1.task_list_cache import KeptTaskLists

    app.add_middleware(KeptTaskLists)
    install_error_handlers(app)
    from api.pages.region import router as region_page_router

    # routes are matched in order, one by one: the region roll-up (the page a province's 督导
    # keeps open, issue 15) first, rather than after the API's hundreds (its paths clash with none)
    app.include_router(region_page_router)
    app.include_router(ack_router, include_in_schema=False)
    app.include_router(survey_router, include_in_schema=False)  # /s/{code}: the survey's answer page
    app.include_router(login_router)
    app.include_router(api_router)
    from api.pages import install_pages

    install_pages(app)  # the pages and /static (issue 5 §3)
    return app
