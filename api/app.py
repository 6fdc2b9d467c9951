"""The web application. Only the 签收 page for now; the web issue adds the rest."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    from api.ack import router as ack_router

    app = FastAPI(title="均衡督办", docs_url=None, redoc_url=None)
    app.include_router(ack_router)
    return app
