"""The app factory: health check and the status page escape what they show."""

from __future__ import annotations

from fastapi.testclient import TestClient

from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database


def test_healthz_reports_database(settings: Settings, db: Database) -> None:
    with TestClient(create_app(settings, database=db)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == db.engine.dialect.name


def test_status_page_counts(settings: Settings, db: Database) -> None:
    with TestClient(create_app(settings, database=db)) as client:
        response = client.get("/status")
    assert response.status_code == 200 and "<h1>Resonanz</h1>" in response.text
    assert "Mentions" in response.text and "text/html" in response.headers["content-type"]


def test_healthz_fails_loudly_when_database_is_gone(settings: Settings, db: Database) -> None:
    app = create_app(settings, database=db)
    with TestClient(app) as client:
        db.engine.dispose()
        app.state.db = Database(
            settings=settings,
            engine=__import__("sqlalchemy").create_engine("sqlite:////nonexistent/dir/x.db"),
            sessions=db.sessions,
        )
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"
