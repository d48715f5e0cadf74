"""``/api/v1/audit-events`` (filters, cursor pages, refusals) and ``/api/v1/care-settings``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from resonanz.accounts.models import Team
from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.support.accounts_factory import api_client


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


def test_care_settings_round_trip_and_refusals(app: FastAPI, db: Database) -> None:
    with db.sessions() as session:
        team = Team(name="IT")
        session.add(team)
        session.commit()
        team_id = team.id
    manager = api_client(app, db, Role.manager)
    agent = api_client(app, db, Role.agent)
    assert agent.get("/api/v1/care-settings/csat").json()["enabled"] is False
    assert agent.put("/api/v1/care-settings/csat", json={"enabled": True}).status_code == 403
    assert manager.put("/api/v1/care-settings/csat", json={"enabled": True}).json()["enabled"] is True
    body = manager.put(f"/api/v1/care-settings/csat/teams/{team_id}", json={"enabled": False}).json()
    assert body["teams"] == [{"team_id": team_id, "team_name": "IT", "override": False, "effective": False}]
    assert manager.put("/api/v1/care-settings/csat/teams/999", json={"enabled": True}).status_code == 404
    added = manager.post("/api/v1/care-settings/profanity", json={"term": "Idiot"})
    assert added.status_code == 201
    assert manager.post("/api/v1/care-settings/profanity", json={"term": "Idiot"}).status_code == 409
    assert manager.post("/api/v1/care-settings/profanity", json={"term": ""}).status_code == 422
    assert [t["term"] for t in agent.get("/api/v1/care-settings/profanity").json()] == ["Idiot"]
    assert manager.delete(f"/api/v1/care-settings/profanity/{added.json()['id']}").status_code == 204
    limits = {row["platform"]: row for row in agent.get("/api/v1/care-settings/channel-limits").json()}
    assert limits["x"] == {"platform": "x", "limit": 280, "unit": "characters"}
    rule = manager.put("/api/v1/approval-rules", json={"name": "Krise", "kind": "crisis"}).json()
    assert manager.delete(f"/api/v1/care-settings/approval-rules/{rule['id']}").status_code == 204
    assert manager.delete(f"/api/v1/care-settings/approval-rules/{rule['id']}").status_code == 404


def test_audit_events_filters_pages_and_permission(app: FastAPI, db: Database) -> None:
    manager = api_client(app, db, Role.manager)
    for term in ("a1", "a2", "a3"):
        assert manager.post("/api/v1/care-settings/profanity", json={"term": term}).status_code == 201
    manager.put("/api/v1/care-settings/csat", json={"enabled": True})
    assert api_client(app, db, Role.agent).get("/api/v1/audit-events").status_code == 403
    first = manager.get("/api/v1/audit-events", params={"action": "care.profanity.", "limit": 2})
    page = first.json()
    assert first.status_code == 200 and page["total"] == 3 and page["total_capped"] is False
    assert [e["after"]["term"] for e in page["items"]] == ["a3", "a2"]
    assert 'rel="next"' in first.headers["link"]
    rest = manager.get("/api/v1/audit-events", params={"action": "care.profanity.", "cursor": page["next_cursor"]})
    assert [e["after"]["term"] for e in rest.json()["items"]] == ["a1"] and rest.json()["next_cursor"] is None
    mine = manager.get("/api/v1/audit-events", params={"object_type": "care_setting", "object_id": "csat_on_resolve"})
    (event,) = mine.json()["items"]
    assert event["before"] == {"value": None} and event["after"] == {"value": True}
    assert event["actor_user_id"] is not None
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert manager.get("/api/v1/audit-events", params={"since": future}).json()["items"] == []
    now_ = datetime.now(UTC).isoformat()
    empty = manager.get("/api/v1/audit-events", params={"since": now_, "until": now_})
    assert empty.status_code == 422 and "until" in empty.text
    assert manager.get("/api/v1/audit-events", params={"cursor": "nonsense"}).status_code == 422
    assert manager.get("/api/v1/audit-events", params={"offset": "5"}).status_code == 422
