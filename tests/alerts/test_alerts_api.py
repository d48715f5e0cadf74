"""``/api/v1/alert-rules``, ``/alerts``, ``/notification-channels``: CRUD, field-path errors,
backtest, acknowledge/resolve, permissions (viewer reads, cannot manage)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.alerts.actions import evaluate_rule
from resonanz.listening.alerts.models import AlertRule
from tests.support.accounts_factory import api_client

from .alerts_factory import SPIKE, make_query, spike_history


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def analyst(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.analyst) as client:
        yield client


@pytest.fixture
def viewer(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.viewer) as client:
        yield client


def test_rules_crud_backtest_and_alerts(
    analyst: TestClient, viewer: TestClient, session: Session, settings: Settings
) -> None:
    query = spike_history(session)
    session.commit()
    hook = analyst.post(
        "/api/v1/notification-channels",
        json={"name": "ops", "kind": "slack", "config": {"url": "https://hooks.slack.example/services/T0/B0/secret"}},
    )
    assert hook.status_code == 201, hook.text
    assert hook.json()["config"]["url"] == "https://hooks.slack.example/…"  # the URL is a credential
    body = {
        "name": "Spikes",
        "kind": "volume_spike",
        "query_id": query.id,
        "params": {"sensitivity": "high"},
        "channel_ids": [hook.json()["id"]],
        "recipient_emails": ["ops@example.test"],
    }
    created = analyst.post("/api/v1/alert-rules", json=body)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["params"] == {"sensitivity": "high", "min_count": 10, "weeks": 4, "recent_hours": 24}
    assert analyst.post("/api/v1/alert-rules", json=body).status_code == 409
    assert viewer.get("/api/v1/alert-rules").json()[0]["id"] == rule["id"]
    assert viewer.post("/api/v1/alert-rules", json={**body, "name": "x"}).status_code == 403

    changed = analyst.patch(f"/api/v1/alert-rules/{rule['id']}", json={"cooldown_minutes": 60})
    assert changed.status_code == 200 and changed.json()["cooldown_minutes"] == 60

    bt = viewer.post(f"/api/v1/alert-rules/{rule['id']}/backtest", json={"days": 30})
    assert bt.status_code == 200  # "now" is long after the data: an empty but valid answer
    assert bt.json()["fired"] == 0 and len(bt.json()["daily"]) >= 30

    row = session.get(AlertRule, rule["id"])
    assert row is not None
    row.evaluated_until = SPIKE
    (alert_id,) = evaluate_rule(session, rule=row, at=SPIKE + timedelta(hours=1), settings=settings).fired
    session.commit()
    listed = viewer.get("/api/v1/alerts", params={"status": "open"}).json()
    assert [a["id"] for a in listed["items"]] == [alert_id]
    assert listed["items"][0]["explanation"]["top_terms"]
    assert listed["items"][0]["title"] == "Nordwelle"  # the facts are stored; the words come per caller
    assert listed["items"][0]["headline"] == "Volume spike: Nordwelle"
    german = viewer.get(f"/api/v1/alerts/{alert_id}", headers={"Accept-Language": "de-DE,de;q=0.9"}).json()
    assert german["headline"] == "Volumenspitze: Nordwelle" and "Erwähnungen in einer Stunde" in german["summary"]
    assert viewer.post(f"/api/v1/alerts/{alert_id}/ack").status_code == 403
    acked = analyst.post(f"/api/v1/alerts/{alert_id}/ack")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    resolved = analyst.post(f"/api/v1/alerts/{alert_id}/resolve", json={"note": "ok"})
    assert resolved.json()["status"] == "resolved"
    assert analyst.post(f"/api/v1/alerts/{alert_id}/ack").status_code == 409
    assert analyst.delete(f"/api/v1/alert-rules/{rule['id']}").status_code == 204
    assert analyst.get(f"/api/v1/alerts/{alert_id}").status_code == 404


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"params": {"sensitivity": "extreme"}}, ["params", "sensitivity"]),
        ({"params": {"min_count": 0}}, ["params", "min_count"]),
        ({"kind": "keyword", "params": {"text": "(bahn"}}, ["params", "text"]),
        ({"query_id": None}, ["query_id"]),
        ({"recipient_emails": ["nope"]}, ["recipient_emails", "0"]),
        ({"channel_ids": [999]}, ["channel_ids", "0"]),
    ],
)
def test_bad_rules_name_the_field(
    analyst: TestClient, session: Session, patch: dict[str, object], loc: list[str]
) -> None:
    q = make_query(session)
    session.commit()
    body = {"name": "r", "kind": "volume_spike", "query_id": q.id, **patch}
    answer = analyst.post("/api/v1/alert-rules", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == loc, answer.json()
