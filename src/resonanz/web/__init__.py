"""Server-rendered pages (Jinja2) over the same services as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from resonanz.web.security import SecurityHeadersMiddleware

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Mount static assets, the security headers and every page router on ``app``."""
    from resonanz.web import (
        admin,
        alerts,
        auth,
        care,
        care_admin,
        dashboards,
        inbox,
        listening,
        mentions,
        pages,
        reports,
        routing,
    )

    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(mentions.router)
    for area in (listening, dashboards, alerts, reports, inbox, care, routing, care_admin, admin):
        app.include_router(area.router)
