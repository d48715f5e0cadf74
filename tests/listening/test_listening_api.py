"""``/api/v1/brands`` and ``/api/v1/queries``: CRUD with versions, restore and re-apply, the draft
test (count, volume, samples, and a positioned problem for bad syntax), ETags and permissions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.audit.models import AuditEvent
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.query import Doc
from resonanz.worker.models import Job
from tests.listening.factories import store_docs
from tests.support.accounts_factory import api_client, signed_in_client


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


def test_brands_crud_with_etags(analyst: TestClient, viewer: TestClient) -> None:
    created = analyst.post("/api/v1/brands", json={"name": "Nordwelle", "kind": "own", "aliases": ["NW", "nw "]})
    assert created.status_code == 201, created.text
    brand = created.json()
    assert brand["aliases"] == ["NW"]  # trimmed, case-insensitive duplicates dropped
    assert analyst.post("/api/v1/brands", json={"name": "nordwelle"}).status_code == 409
    assert analyst.post("/api/v1/brands", json={"name": "X", "kind": "enemy"}).status_code == 422
    assert viewer.post("/api/v1/brands", json={"name": "Y"}).status_code == 403
    assert [b["name"] for b in viewer.get("/api/v1/brands").json()["items"]] == ["Nordwelle"]
    stale = created.headers["etag"]
    changed = analyst.patch(f"/api/v1/brands/{brand['id']}", json={"kind": "product"}, headers={"If-Match": stale})
    assert changed.status_code == 200 and changed.json()["kind"] == "product"
    refused = analyst.delete(f"/api/v1/brands/{brand['id']}", headers={"If-Match": stale})
    assert refused.status_code == 412
    assert analyst.delete(f"/api/v1/brands/{brand['id']}").status_code == 204
    assert analyst.get(f"/api/v1/brands/{brand['id']}").status_code == 404


def test_queries_versions_restore_reapply(analyst: TestClient, viewer: TestClient, db: Database) -> None:
    brand = analyst.post("/api/v1/brands", json={"name": "Nordwelle"}).json()
    created = analyst.post(
        "/api/v1/queries", json={"name": "nw app", "text": "nordwelle app", "brand_id": brand["id"], "note": "first"}
    )
    assert created.status_code == 201, created.text
    query = created.json()
    assert query["version"] == 1 and query["applied"] is False and query["matches"] == 0
    qid = query["id"]
    bad = analyst.patch(f"/api/v1/queries/{qid}", json={"text": "nordwelle AND (app"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["column"] == 15 and bad.json()["errors"][0]["loc"] == ["body", "text"]
    changed = analyst.patch(f"/api/v1/queries/{qid}", json={"text": "nordwelle NEAR/3 app", "note": "closer"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    renamed = analyst.patch(f"/api/v1/queries/{qid}", json={"name": "Nordwelle App"})
    assert renamed.json()["version"] == 2 and renamed.json()["brand_id"] == brand["id"]
    detached = analyst.patch(f"/api/v1/queries/{qid}", json={"brand_id": None})
    assert detached.json()["brand_id"] is None
    versions = viewer.get(f"/api/v1/queries/{qid}/versions").json()
    assert [(v["version"], v["note"]) for v in versions] == [(2, "closer"), (1, "first")]
    restored = analyst.post(f"/api/v1/queries/{qid}/restore", json={"version": 1})
    assert restored.status_code == 200 and restored.json()["version"] == 3
    assert restored.json()["text"] == "nordwelle app"
    assert analyst.post(f"/api/v1/queries/{qid}/restore", json={"version": 1}).status_code == 409
    assert analyst.post(f"/api/v1/queries/{qid}/restore", json={"version": 9}).status_code == 404
    assert analyst.post(f"/api/v1/queries/{qid}/reapply").status_code == 202
    assert viewer.post(f"/api/v1/queries/{qid}/reapply").status_code == 403
    assert viewer.patch(f"/api/v1/queries/{qid}", json={"text": "x"}).status_code == 403
    listed = viewer.get("/api/v1/queries", params={"active": "true"}).json()["items"]
    assert [q["id"] for q in listed] == [qid]
    with db.sessions() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "query")))
        assert actions.count("query.new_version") == 2 and "query.create" in actions and "query.reapply" in actions
        assert s.scalar(select(Job.id).where(Job.kind == "listening.reapply")) is not None
    assert analyst.delete(f"/api/v1/queries/{qid}").status_code == 204
    assert viewer.get(f"/api/v1/queries/{qid}").status_code == 404


def test_draft_test_endpoint(analyst: TestClient, viewer: TestClient, db: Database) -> None:
    with db.sessions() as s:
        store_docs(s, [Doc(text="Nordwelle App stürzt ab"), Doc(text="Wetter"), Doc(text="nordwelle tarif")])
        s.commit()
    got = viewer.post("/api/v1/queries/test", json={"text": "nordwelle", "samples": 1})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["count"] == 2 and sum(p["count"] for p in body["volume"]) == 2
    assert len(body["samples"]) == 1 and body["samples"][0]["text"] == "nordwelle tarif"
    assert body["partial"] is False
    bad = viewer.post("/api/v1/queries/test", json={"text": "bahn NEAR/ zug"})
    assert bad.status_code == 422
    problem = bad.json()
    assert problem["type"].endswith("query-syntax") and problem["column"] == 10
    assert problem["caret"].splitlines()[1] == " " * 9 + "^" and problem["hint"]
    assert viewer.post("/api/v1/queries/test", json={"text": ""}).status_code == 422


def test_cookie_clients_need_the_csrf_header(app: FastAPI, db: Database) -> None:
    client = signed_in_client(app, db, Role.analyst)
    assert client.post("/api/v1/queries/test", json={"text": "bahn"}).status_code == 200
    del client.headers["X-CSRF-Token"]
    assert client.post("/api/v1/queries/test", json={"text": "bahn"}).status_code == 403
