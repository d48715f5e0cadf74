"""Server-rendered pages (Jinja2) over the same services as the API."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount static assets and every page router on ``app``."""
