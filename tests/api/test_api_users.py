"""``/api/v1/users`` (admin), ``/me`` and ``/me/tokens``: the accounts actions over HTTP, ETags,
refusals, a deactivated user's token, a token shown once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.support.accounts_factory import DEFAULT_PASSWORD, api_client, signed_in_client

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database

NEW_USER = {"email": "Erika@Example.org", "display_name": "Erika Muster", "password": DEFAULT_PASSWORD}


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def admin(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.admin) as client:
        yield client


def test_admin_creates_lists_gets_and_changes_a_user(admin: TestClient) -> None:
    created = admin.post("/api/v1/users", json={**NEW_USER, "role": "analyst", "time_zone": "Europe/Berlin"})
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "erika@example.org" and user["role"] == "analyst" and "password" not in created.text
    assert DEFAULT_PASSWORD not in created.text and "password_hash" not in user
    uid = user["id"]
    listed = admin.get("/api/v1/users", params={"q": "erika"}).json()["items"]
    assert [u["id"] for u in listed] == [uid]
    got = admin.get(f"/api/v1/users/{uid}")
    assert got.json() == user and got.headers["etag"] == created.headers["etag"]

    changed = admin.patch(
        f"/api/v1/users/{uid}",
        json={"role": "manager", "language": "de", "display_name": "Erika M."},
        headers={"If-Match": got.headers["etag"]},
    )
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["language"], changed.json()["display_name"]) == (
        "manager",
        "de",
        "Erika M.",
    )
    stale = admin.patch(f"/api/v1/users/{uid}", json={"role": "viewer"}, headers={"If-Match": got.headers["etag"]})
    assert stale.status_code == 412


def test_create_user_field_errors(admin: TestClient) -> None:
    response = admin.post("/api/v1/users", json={"email": "not-an-address", "display_name": "", "password": "short"})
    assert response.status_code == 422
    locs = {tuple(e["loc"]) for e in response.json()["errors"]}
    assert {("body", "email"), ("body", "display_name"), ("body", "password")} <= locs
    tz = admin.post("/api/v1/users", json={**NEW_USER, "time_zone": "Mars/Olympus"})
    assert tz.status_code == 422 and tz.json()["errors"][0]["loc"] == ["body", "time_zone"]
    assert admin.post("/api/v1/users", json=NEW_USER).status_code == 201
    taken = admin.post("/api/v1/users", json=NEW_USER)
    assert taken.status_code == 409


def test_the_last_admin_cannot_be_demoted(admin: TestClient) -> None:
    me = admin.get("/api/v1/me").json()
    response = admin.patch(f"/api/v1/users/{me['id']}", json={"role": "viewer"})
    assert response.status_code == 409 and "last active admin" in response.json()["detail"]


def test_a_deactivated_users_token_stops_working(app: FastAPI, db: Database, admin: TestClient) -> None:
    with api_client(app, db, Role.agent) as agent:
        assert agent.get("/api/v1/me").status_code == 200
        uid = agent.user.id  # type: ignore[attr-defined]
        off = admin.patch(f"/api/v1/users/{uid}", json={"active": False})
        assert off.status_code == 200 and off.json()["active"] is False
        refused = agent.get("/api/v1/me")
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert "deactivated" in refused.json()["detail"]


@pytest.mark.parametrize("role", [Role.viewer, Role.agent, Role.analyst, Role.manager])
def test_only_admins_manage_users(app: FastAPI, db: Database, role: Role) -> None:
    with api_client(app, db, role) as client:
        me = client.get("/api/v1/me").json()
        created = client.post("/api/v1/users", json=NEW_USER)
        changed = client.patch(f"/api/v1/users/{me['id']}", json={"role": "admin"})
        listed = client.get("/api/v1/users")
    assert created.status_code == 403 and "users.manage" in created.json()["detail"]
    assert changed.status_code == 403
    assert listed.status_code == (403 if role == Role.viewer else 200)


def test_me_profile_and_etag(app: FastAPI, db: Database) -> None:
    with api_client(app, db, Role.viewer) as client:
        me = client.get("/api/v1/me")
        etag = me.headers["etag"]
        assert client.get("/api/v1/me", headers={"If-None-Match": etag}).status_code == 304
        changed = client.patch("/api/v1/me", json={"language": "de", "time_zone": "Europe/Berlin"})
        assert changed.status_code == 200 and changed.json()["time_zone"] == "Europe/Berlin"
        assert client.patch("/api/v1/me", json={"language": "en"}, headers={"If-Match": etag}).status_code == 412
        bad = client.patch("/api/v1/me", json={"language": "fr", "time_zone": "Nowhere"})
        role = client.patch("/api/v1/me", json={"role": "admin"})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["errors"]} == {("body", "language"), ("body", "time_zone")}
    assert role.status_code == 200 and role.json()["role"] == "viewer"  # unknown fields are ignored


def test_tokens_are_shown_once_listed_by_prefix_and_revocable(app: FastAPI, db: Database) -> None:
    with signed_in_client(app, db, Role.analyst) as browser:
        created = browser.post("/api/v1/me/tokens", json={"name": "BI export"})
        assert created.status_code == 201, created.text
        raw = created.json()["token"]
        assert raw.startswith(created.json()["prefix"])
        listed = browser.get("/api/v1/me/tokens")
        assert [t["name"] for t in listed.json()] == ["BI export"] and raw not in listed.text
        with TestClient(app, headers={"Authorization": f"Bearer {raw}"}) as bearer:
            assert bearer.get("/api/v1/me").json()["email"] == browser.user.email  # type: ignore[attr-defined]
            token_id = created.json()["id"]
            assert browser.delete(f"/api/v1/me/tokens/{token_id}").status_code == 204
            assert bearer.get("/api/v1/me").status_code == 401
        assert browser.get("/api/v1/me/tokens").json() == []
        assert browser.delete("/api/v1/me/tokens/999999").status_code == 404
        past = browser.post("/api/v1/me/tokens", json={"name": "old", "expires_at": "2001-01-01T00:00:00Z"})
        edge = browser.post("/api/v1/me/tokens", json={"name": "edge", "expires_at": "9999-12-31T23:59:59-05:00"})
    assert past.status_code == 422 and past.json()["errors"][0]["loc"] == ["body", "expires_at"]
    assert edge.status_code == 422


def test_someone_elses_token_is_not_found(app: FastAPI, db: Database) -> None:
    with api_client(app, db, Role.agent) as first, api_client(app, db, Role.agent) as second:
        token_id = first.post("/api/v1/me/tokens", json={"name": "mine"}).json()["id"]
        assert second.delete(f"/api/v1/me/tokens/{token_id}").status_code == 404
        assert [t["id"] for t in first.get("/api/v1/me/tokens").json()].count(token_id) == 1


def test_signed_out_is_401_everywhere(app: FastAPI) -> None:
    with TestClient(app) as client:
        for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/users"), ("POST", "/api/v1/me/tokens")]:
            response = client.request(method, path, json={"name": "x"} if method == "POST" else None)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_teams_skills_and_languages(app: FastAPI, db: Database, admin: TestClient) -> None:
    uid = admin.post("/api/v1/users", json=NEW_USER).json()["id"]
    team = admin.post("/api/v1/teams", json={"name": "Social Care", "kind": "department"})
    assert team.status_code == 201 and team.json()["member_ids"] == []
    tid = team.json()["id"]
    assert admin.post("/api/v1/teams", json={"name": "Social Care"}).status_code == 409
    assert admin.put(f"/api/v1/teams/{tid}/members/{uid}").status_code == 204
    assert admin.get(f"/api/v1/teams/{tid}").json()["member_ids"] == [uid]
    changed = admin.patch(f"/api/v1/users/{uid}", json={"skills": ["Billing", "returns"], "languages": ["de", "EN"]})
    assert changed.status_code == 200, changed.text
    detail = changed.json()
    assert detail["teams"] == [{"id": tid, "name": "Social Care", "kind": "department"}]
    assert (detail["skills"], detail["languages"]) == (["billing", "returns"], ["de", "en"])
    bad = admin.patch(f"/api/v1/users/{uid}", json={"languages": ["deutsch"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "languages"]
    assert admin.delete(f"/api/v1/teams/{tid}/members/{uid}").status_code == 204
    assert admin.get(f"/api/v1/users/{uid}").json()["teams"] == []
    assert admin.put(f"/api/v1/teams/{tid}/members/999999").status_code == 404
    with api_client(app, db, Role.agent) as agent:
        assert [t["name"] for t in agent.get("/api/v1/teams").json()] == ["Social Care"]
        assert agent.post("/api/v1/teams", json={"name": "Mine"}).status_code == 403
        assert agent.put(f"/api/v1/teams/{tid}/members/{uid}").status_code == 403
