"""/reports pages: list, create with CSRF and field errors, generate now, download, permissions,
escaping of names and errors."""

from __future__ import annotations

import io
import re

import pytest
from fastapi import FastAPI
from pypdf import PdfReader

from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening import rollups
from resonanz.reports.models import ReportRun
from tests.reports.reports_data import Workspace, build
from tests.support.accounts_factory import signed_in_client


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def ws(db: Database) -> Workspace:
    with db.sessions() as s, s.begin():
        ws = build(s, days=14)
        rollups.rebuild(s)
    return ws


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_create_generate_and_download(app: FastAPI, db: Database, ws: Workspace) -> None:
    client = signed_in_client(app, db, "analyst", language="de")
    page = client.get("/reports")
    assert page.status_code == 200 and "Berichte" in page.text and "Noch keine Berichte" in page.text
    form = client.get("/reports/new")
    assert form.status_code == 200 and "Nordwelle" in form.text
    data = {
        "csrf_token": _csrf(form.text),
        "name": "<b>Woche</b>",
        "brand_ids": [str(ws.brands["Nordwelle"])],
        "period": "weekly",
        "recipient_emails": "a@example.org, b@example.org",
        "language": "de",
        "tz": "Europe/Berlin",
        "enabled": "on",
    }
    r = client.post("/reports/new", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/reports?saved=1"
    page = client.get("/reports")
    assert "&lt;b&gt;Woche&lt;/b&gt;" in page.text and "<b>Woche</b>" not in page.text
    report_id = int(re.search(r'data-report-id="(\d+)"', page.text).group(1))  # type: ignore[union-attr]

    r = client.post(f"/reports/{report_id}/generate", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    run_id = int(re.search(r'data-generated="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    pdf = client.get(f"/reports/runs/{run_id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Wochenbericht" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    edit = client.get(f"/reports/{report_id}")
    assert 'value="&lt;b&gt;Woche&lt;/b&gt;"' in edit.text and "a@example.org, b@example.org" in edit.text
    bad = {**data, "csrf_token": _csrf(edit.text), "tz": "Nowhere/<script>", "name": "Woche"}
    r = client.post(f"/reports/{report_id}", data=bad)
    assert r.status_code == 400 and 'data-error="tz"' in r.text and "<script>" not in r.text
    assert 'value="Woche"' in r.text  # the values are kept

    r = client.post(f"/reports/runs/{run_id}/send", data={"csrf_token": _csrf(edit.text)}, follow_redirects=False)
    assert r.status_code == 303
    with db.sessions() as s:
        assert s.get_one(ReportRun, run_id).status == "pending"

    r = client.post(f"/reports/{report_id}/delete", data={"csrf_token": _csrf(edit.text)}, follow_redirects=False)
    assert r.status_code == 303 and client.get(f"/reports/runs/{run_id}.pdf").status_code == 404


def test_form_needs_csrf_and_manage_permission(app: FastAPI, db: Database) -> None:
    analyst = signed_in_client(app, db, "analyst")
    r = analyst.post("/reports/new", data={"name": "x"}, follow_redirects=False)
    assert r.status_code == 403
    viewer = signed_in_client(app, db, "viewer")
    assert viewer.get("/reports").status_code == 200
    assert "/reports/new" not in viewer.get("/reports").text
    assert viewer.get("/reports/new").status_code == 403
    assert viewer.get("/reports/99999").status_code == 403
    assert analyst.get("/reports/99999").status_code == 404
    assert analyst.get("/reports/runs/99999.pdf").status_code == 404


def test_bad_addresses_are_shown_beside_the_field(app: FastAPI, db: Database) -> None:
    client = signed_in_client(app, db, "analyst", language="en")
    form = client.get("/reports/new")
    r = client.post(
        "/reports/new",
        data={"csrf_token": _csrf(form.text), "name": "R", "period": "daily", "recipient_emails": "nope", "tz": "UTC"},
    )
    assert r.status_code == 400 and 'data-error="recipient_emails"' in r.text and "nope" in r.text
