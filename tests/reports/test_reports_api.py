"""``/api/v1/reports``: CRUD with field errors, generate now, runs and the PDF, permissions."""

from __future__ import annotations

import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader

from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening import rollups
from tests.reports.reports_data import Workspace, build
from tests.support.accounts_factory import api_client


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def ws(db: Database) -> Workspace:
    with db.sessions() as s, s.begin():
        ws = build(s, days=14)
        rollups.rebuild(s)
    return ws


def test_crud_generate_and_download(app: FastAPI, db: Database, ws: Workspace) -> None:
    client = api_client(app, db, "analyst")
    body = {
        "name": "Wochenbericht",
        "brand_ids": [ws.brands["Nordwelle"]],
        "period": "weekly",
        "recipient_emails": ["Chefin@Example.org"],
        "language": "de",
        "tz": "Europe/Berlin",
    }
    r = client.post("/api/v1/reports", json=body)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["recipient_emails"] == ["chefin@example.org"] and report["next_run_at"]
    assert r.headers["Location"] == f"/api/v1/reports/{report['id']}"
    assert client.post("/api/v1/reports", json=body).status_code == 409

    r = client.post("/api/v1/reports/generate", json={"report_id": report["id"], "at": "2026-03-11T12:00:00+01:00"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] == "generated" and run["trigger"] == "manual"
    assert run["period_start"].startswith("2026-03-08T23:00") and run["summary"]["total"] == 21
    pdf = client.get(run["pdf_url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="Wochenbericht-2026-03-09.pdf"'
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Wochenbericht" in text and "21" in text

    runs = client.get("/api/v1/reports/runs", params={"report_id": report["id"]}).json()
    assert [x["id"] for x in runs["items"]] == [run["id"]] and runs["next_before"] is None
    assert client.get(f"/api/v1/reports/runs/{run['id']}").json()["pdf_size"] == len(pdf.content)

    r = client.patch(f"/api/v1/reports/{report['id']}", json={"period": "monthly", "enabled": False})
    assert r.status_code == 200 and r.json()["period"] == "monthly" and r.json()["next_run_at"] is None
    assert client.get("/api/v1/reports").json()[0]["name"] == "Wochenbericht"
    assert client.delete(f"/api/v1/reports/{report['id']}").status_code == 204
    assert client.get(f"/api/v1/reports/{report['id']}").status_code == 404
    assert client.get(run["pdf_url"]).status_code == 404  # the runs went with it


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"tz": "Mars/Base"}, ["body", "tz"]),
        ({"period": "hourly"}, ["body", "period"]),
        ({"language": "fr"}, ["body", "language"]),
        ({"recipient_emails": ["not an address"]}, ["body", "recipient_emails"]),
        ({"brand_ids": [999]}, ["brand_ids"]),
        ({"name": "  "}, ["body", "name"]),
        ({"extra": 1}, ["body", "extra"]),
    ],
)
def test_bad_input_names_the_field(app: FastAPI, db: Database, change: dict[str, object], loc: list[str]) -> None:
    client = api_client(app, db, "analyst")
    r = client.post("/api/v1/reports", json={"name": "R", **change})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e["loc"][: len(loc)] == loc for e in problem["errors"]), problem


def test_permissions(app: FastAPI, db: Database, ws: Workspace) -> None:
    analyst = api_client(app, db, "analyst")
    report = analyst.post("/api/v1/reports", json={"name": "R", "period": "daily"}).json()
    viewer = api_client(app, db, "viewer")
    assert viewer.get("/api/v1/reports").status_code == 200
    assert viewer.get("/api/v1/reports/runs").status_code == 200
    assert viewer.post("/api/v1/reports", json={"name": "V"}).status_code == 403
    assert viewer.post("/api/v1/reports/generate", json={"report_id": report["id"]}).status_code == 403
    assert viewer.delete(f"/api/v1/reports/{report['id']}").status_code == 403
    assert api_client(app, db, "agent").get("/api/v1/reports").status_code == 200
    assert TestClient(app).get("/api/v1/reports").status_code == 401
    assert analyst.post("/api/v1/reports/generate", json={"report_id": 9999}).status_code == 404
    assert (
        analyst.post(
            "/api/v1/reports/generate", json={"report_id": report["id"], "at": "2026-03-11T12:00:00"}
        ).status_code
        == 422
    )
