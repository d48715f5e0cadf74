"""The app factory: the web pages, the API, the inbound webhooks, ``/healthz`` and a minimal status
page in one ASGI app (:func:`create_app`); :func:`app_from_environment` builds it in each of
several server processes."""

from __future__ import annotations

import gc
import html
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

from resonanz import __version__, web
from resonanz.api import deps, hooks, openapi, problems
from resonanz.api import v1 as api_v1
from resonanz.config import Settings, load_settings
from resonanz.db.database import Database, open_database
from resonanz.mentions import cursor
from resonanz.mentions import service as mention_service
from resonanz.mentions.quarantine import count_items
from resonanz.secret_key import derived_key
from resonanz.sources.service import count_sources
from resonanz.web import auth as web_auth


def create_app(settings: Settings, *, database: Database | None = None, offer_setup: bool = True) -> FastAPI:
    """Build the ASGI app. ``database`` lets tests and ``resonanz serve`` share one engine;
    ``offer_setup``: print a one-time setup token while no user exists (the parent of several
    server processes does it once, not each of them)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = database is None
        app.state.db = database or open_database(settings)
        if offer_setup:
            web_auth.offer_setup(app.state.db)
        yield
        if own:
            app.state.db.dispose()

    app = FastAPI(
        title="Resonanz", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    # cursors from before a restart or from another web process stay valid (resonanz.secret_key)
    cursor.set_signing_key(derived_key(settings, "cursor"))
    if database is not None:
        app.state.db = database

    @app.get("/healthz")
    def healthz(request: Request) -> JSONResponse:
        db: Database = request.app.state.db
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the point of a health check is to report any failure
            return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
        # the process id tells an operator (or a load balancer's log) which server process answered
        return JSONResponse(
            {"status": "ok", "database": db.engine.dialect.name, "version": __version__, "process": os.getpid()}
        )

    @app.get("/status", response_class=HTMLResponse)
    def status_page(request: Request) -> str:
        db: Database = request.app.state.db
        with db.sessions() as session:
            counts = {
                "Mentions": mention_service.count_mentions(session),
                "Authors": mention_service.count_authors(session),
                "Sources": count_sources(session),
                "Quarantined": count_items(session),
            }
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:,}</td></tr>" for k, v in counts.items())
        # no inline style: the CSP (resonanz.web.security) allows only our own stylesheet
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Resonanz</title>"
            "<link rel='stylesheet' href='/static/resonanz.css'></head><body class='status-page'>"
            f"<main><h1>Resonanz</h1><p>Store status</p><table class='status-table'>{rows}</table>"
            "<p>Use the <code>resonanz</code> command to add sources, import files and search.</p>"
            "</main></body></html>"
        )

    app.include_router(hooks.router)
    app.include_router(api_v1.router, prefix="/api/v1")
    problems.install(app)
    deps.install(app)
    openapi.install(app)
    web.install(app)
    return app


def app_from_environment() -> FastAPI:
    """The app of one of several server processes (``resonanz serve --processes N``): settings from
    the environment, which the parent filled from its command line. The parent migrated the
    database and offered the setup token already."""
    app = create_app(load_settings(), offer_setup=False)
    gc.freeze()  # see resonanz.cli.serve.run_server
    return app
