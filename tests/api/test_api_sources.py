"""``/api/v1/sources``: CRUD over the sources actions, config checked by the connector with field
paths, secrets masked, ETags, permission refusals, cursor pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.support.accounts_factory import api_client, signed_in_client

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database

FEED = {"name": "bahn-blog", "kind": "feed", "config": {"url": "https://example.org/feed.xml"}}


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def admin(app: FastAPI, db: Database) -> Iterator[TestClient]:
    with api_client(app, db, Role.admin) as client:
        yield client


def test_create_get_list_update_delete(admin: TestClient) -> None:
    created = admin.post("/api/v1/sources", json=FEED)
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["name"] == "bahn-blog" and source["config"]["url"] == "https://example.org/feed.xml"
    assert created.headers["location"] == f"/api/v1/sources/{source['id']}"
    assert created.headers["etag"].startswith('W/"source-')

    got = admin.get(f"/api/v1/sources/{source['id']}")
    assert got.status_code == 200 and got.json() == source
    assert got.headers["etag"] == created.headers["etag"]

    listed = admin.get("/api/v1/sources")
    assert [s["id"] for s in listed.json()["items"]] == [source["id"]]
    assert listed.json()["next_cursor"] is None and "link" not in listed.headers

    changed = admin.patch(f"/api/v1/sources/{source['id']}", json={"interval_s": 60, "enabled": False})
    assert changed.status_code == 200
    assert changed.json()["interval_s"] == 60 and changed.json()["enabled"] is False
    assert changed.headers["etag"] != got.headers["etag"]

    assert admin.delete(f"/api/v1/sources/{source['id']}").status_code == 204
    gone = admin.get(f"/api/v1/sources/{source['id']}")
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"


def test_config_is_checked_by_the_connector_with_field_paths(admin: TestClient) -> None:
    bad = {"name": "x", "kind": "feed", "config": {"url": "ftp://example.org", "max_items": 0, "extra": 1}}
    response = admin.post("/api/v1/sources", json=bad)
    assert response.status_code == 422
    locs = {tuple(e["loc"]) for e in response.json()["errors"]}
    assert locs == {("body", "config", "url"), ("body", "config", "max_items"), ("body", "config", "extra")}
    unknown = admin.post("/api/v1/sources", json={**FEED, "kind": "carrier-pigeon"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["body", "kind"]
    assert "feed" in unknown.json()["errors"][0]["msg"]
    assert admin.get("/api/v1/sources").json()["items"] == []


def test_patch_config_is_merged_and_checked(admin: TestClient) -> None:
    sid = admin.post("/api/v1/sources", json=FEED).json()["id"]
    response = admin.patch(f"/api/v1/sources/{sid}", json={"config": {"max_items": -5}})
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "config", "max_items"]
    ok = admin.patch(f"/api/v1/sources/{sid}", json={"config": {"max_items": 5}})
    assert ok.json()["config"] == {"url": "https://example.org/feed.xml", "max_items": 5}


def test_duplicate_name_is_a_409(admin: TestClient) -> None:
    assert admin.post("/api/v1/sources", json=FEED).status_code == 201
    response = admin.post("/api/v1/sources", json=FEED)
    assert response.status_code == 409 and "exists already" in response.json()["detail"]


def test_credentials_in_a_config_are_never_echoed(admin: TestClient) -> None:
    feed = {**FEED, "config": {"url": "https://bot:s3cret-pass@example.org/feed.xml"}}
    response = admin.post("/api/v1/sources", json=feed)
    assert response.status_code == 201
    assert "s3cret-pass" not in response.text
    assert response.json()["config"]["url"] == "https://bot:********@example.org/feed.xml"
    sid = response.json()["id"]
    assert "s3cret-pass" not in admin.get(f"/api/v1/sources/{sid}").text
    assert "s3cret-pass" not in admin.get("/api/v1/sources").text
    # sending the masked value back keeps the stored one
    again = admin.patch(f"/api/v1/sources/{sid}", json={"config": response.json()["config"]})
    assert again.status_code == 200 and again.json()["config"]["url"] == "https://bot:********@example.org/feed.xml"


def test_etag_304_and_412(admin: TestClient) -> None:
    sid = admin.post("/api/v1/sources", json=FEED).json()["id"]
    etag = admin.get(f"/api/v1/sources/{sid}").headers["etag"]
    cached = admin.get(f"/api/v1/sources/{sid}", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    assert admin.get(f"/api/v1/sources/{sid}", headers={"If-None-Match": 'W/"other"'}).status_code == 200

    first = admin.patch(f"/api/v1/sources/{sid}", json={"interval_s": 60}, headers={"If-Match": etag})
    assert first.status_code == 200
    stale = admin.patch(f"/api/v1/sources/{sid}", json={"interval_s": 120}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    assert stale.headers["etag"] == first.headers["etag"]
    assert admin.get(f"/api/v1/sources/{sid}").json()["interval_s"] == 60
    assert admin.delete(f"/api/v1/sources/{sid}", headers={"If-Match": etag}).status_code == 412
    assert admin.delete(f"/api/v1/sources/{sid}", headers={"If-Match": first.headers["etag"]}).status_code == 204


def test_pages_follow_the_cursor_and_link_header(admin: TestClient) -> None:
    for i in range(5):
        assert admin.post("/api/v1/sources", json={**FEED, "name": f"feed-{i}"}).status_code == 201
    seen: list[str] = []
    url: str | None = "/api/v1/sources?limit=2"
    pages = 0
    while url:
        response = admin.get(url)
        body = response.json()
        seen += [s["name"] for s in body["items"]]
        pages += 1
        link = response.headers.get("link")
        assert (link is None) == (body["next_cursor"] is None)
        url = link.split(">")[0].lstrip("<") if link else None
    assert seen == [f"feed-{i}" for i in range(5)] and pages == 3


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("limit=1000000000", ["query", "limit"]),
        ("limit=0", ["query", "limit"]),
        ("page=-1", ["query", "page"]),
        ("offset=20", ["query", "offset"]),
        ("cursor=garbage!!", ["query", "cursor"]),
        ("cursor=eyJ2IjoxLCJpZCI6IngifQ", ["query", "cursor"]),  # {"v":1,"id":"x"}
        ("cursor=eyJ2IjoxLCJpZCI6MTAwMDAwMDAwMDAwMDAwMDAwMDAwMDB9", ["query", "cursor"]),  # id 10^24
    ],
)
def test_bad_paging_is_a_422_with_the_parameter(admin: TestClient, query: str, loc: list[str]) -> None:
    response = admin.get(f"/api/v1/sources?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == loc
    assert response.json()["errors"][0]["msg"]


def test_too_large_body_is_a_413(admin: TestClient) -> None:
    response = admin.post("/api/v1/sources", content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
                          headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"


def test_huge_ids_are_422_not_500(admin: TestClient) -> None:
    response = admin.get("/api/v1/sources/99999999999999999999999")
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["path", "source_id"]


def test_kinds_list_their_config_schema(admin: TestClient) -> None:
    kinds = {k["kind"]: k for k in admin.get("/api/v1/source-kinds").json()}
    assert "url" in kinds["feed"]["config_schema"]["properties"] and kinds["webhook"]["pulls"] is False


@pytest.mark.parametrize("role", [Role.viewer, Role.agent])
def test_roles_without_sources_read_are_refused(app: FastAPI, db: Database, role: Role) -> None:
    with api_client(app, db, role) as client:
        response = client.get("/api/v1/sources")
    assert response.status_code == 403 and "sources.read" in response.json()["detail"]


def test_analyst_reads_but_cannot_manage(app: FastAPI, db: Database, admin: TestClient) -> None:
    sid = admin.post("/api/v1/sources", json=FEED).json()["id"]
    with api_client(app, db, Role.analyst) as analyst:
        assert analyst.get(f"/api/v1/sources/{sid}").status_code == 200
        assert analyst.post("/api/v1/sources", json={**FEED, "name": "other"}).status_code == 403
        assert analyst.patch(f"/api/v1/sources/{sid}", json={"enabled": False}).status_code == 403
        assert analyst.delete(f"/api/v1/sources/{sid}").status_code == 403


def test_signed_out_is_a_401(app: FastAPI) -> None:
    with TestClient(app) as client:
        response = client.get("/api/v1/sources")
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"


def test_cookie_session_needs_the_csrf_header_to_change_things(app: FastAPI, db: Database) -> None:
    with signed_in_client(app, db, Role.admin) as client:
        assert client.get("/api/v1/sources").status_code == 200
        assert client.post("/api/v1/sources", json=FEED).status_code == 201
        del client.headers["X-CSRF-Token"]
        refused = client.post("/api/v1/sources", json={**FEED, "name": "other"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["title"]


def test_too_large_streamed_body_is_a_413(admin: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = admin.post("/api/v1/sources", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"
