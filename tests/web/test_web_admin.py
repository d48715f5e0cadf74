"""/admin: source health (state, last success, last error, new items per hour over 24 h) and links."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from resonanz.accounts.permissions import Role
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.sources.health import source_health
from resonanz.sources.models import IngestRun, Source, SourceHealth


def add_source(db: Database, name: str, kind: str = "feed", **fields: object) -> int:
    with db.sessions() as session, session.begin():
        source = Source(name=name, kind=kind, config={}, cursor={}, created_at=now(), **fields)
        session.add(source)
        session.flush()
        return source.id


def add_run(db: Database, source_id: int, started_at: datetime, new: int, status: str = "ok") -> None:
    with db.sessions() as session, session.begin():
        session.add(IngestRun(source_id=source_id, kind="pull", status=status, started_at=started_at, new=new,
                              warnings=[]))  # fmt: skip


def test_items_are_bucketed_per_hour_over_the_last_24_hours(db: Database) -> None:
    at = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    source_id = add_source(db, "blog")
    add_run(db, source_id, at - timedelta(minutes=10), 5)  # this hour: the last bucket
    add_run(db, source_id, at - timedelta(minutes=20), 2)
    add_run(db, source_id, at - timedelta(hours=3), 7, status="failed")
    add_run(db, source_id, at - timedelta(hours=23, minutes=30), 1)  # 13:00 yesterday... still inside
    add_run(db, source_id, at - timedelta(hours=25), 100)  # older than the window
    with db.sessions() as session:
        (row,) = source_health(session, at=at)
    assert row.hourly[-1] == 7 and row.hourly[-4] == 7 and row.hourly[0] == 1
    assert (row.items_24h, row.runs_24h, row.failed_runs_24h) == (15, 4, 1)
    assert row.per_hour == 15 / 24


def test_the_admin_page_shows_each_sources_health(client_as: Callable[..., TestClient], db: Database) -> None:
    ok = add_source(db, "radwerk-mail", "email", health=SourceHealth.OK, last_success_at=now() - timedelta(minutes=5))
    add_run(db, ok, now() - timedelta(minutes=1), 12)
    add_source(
        db, "x-search", "feed", health=SourceHealth.DISABLED, enabled=False, consecutive_failures=3,
        last_error="HTTP 401 from <b>the API</b>: check the token", last_error_at=now() - timedelta(hours=1),
    )  # fmt: skip
    response = client_as(Role.admin).get("/admin")
    assert response.status_code == 200
    html = response.text
    row = html.split('data-source="radwerk-mail"', 1)[1].split("</tr>", 1)[0]
    assert 'data-health="ok"' in html and "working" in row and 'data-items-24h="12"' in row
    failing = html.split('data-source="x-search"', 1)[1].split("</tr>", 1)[0]
    assert "stopped" in failing and "switched off" in failing and "3 failures in a row" in failing
    assert "HTTP 401 from &lt;b&gt;the API&lt;/b&gt;" in failing and "<b>the API" not in failing  # escaped
    assert 'data-kind="email"' in html and 'data-kind="twilio"' in html  # the kinds one can add
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html  # CSP: no inline code
    assert "/static/admin.css" in html


def test_only_admins_see_it_and_german_works(client_as: Callable[..., TestClient], db: Database) -> None:
    add_source(db, "blog")
    assert client_as(Role.viewer).get("/admin").status_code == 403
    assert client_as(Role.agent).get("/admin").status_code == 403
    german = client_as(Role.admin, language="de").get("/admin").text
    assert "Zustand der Quellen" in german and "noch nicht abgerufen" in german


def test_links_to_the_admin_pages_that_exist(app: FastAPI, client_as: Callable[..., TestClient]) -> None:
    client = client_as(Role.admin)
    assert 'href="/quarantine"' not in client.get("/admin").text
    app.add_api_route("/quarantine", lambda: HTMLResponse("q"), methods=["GET"])
    html = client.get("/admin").text
    assert '<a href="/quarantine">Quarantine</a>' in html
