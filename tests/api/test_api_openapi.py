"""The API's description: the spec holds only /api/v1, declares both sign-in schemes and the problem
shape; the reference page is rendered here from it, loads nothing from elsewhere and escapes."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from resonanz.api.app import create_app
from resonanz.api.openapi import render_reference
from resonanz.config import Settings
from resonanz.db.database import Database


@pytest.fixture
def client(settings: Settings, db: Database) -> TestClient:
    return TestClient(create_app(settings, database=db))


def test_spec_lists_only_the_api_with_security_and_problems(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.") and spec["info"]["title"] == "Resonanz API"
    paths = spec["paths"]
    assert all(p.startswith("/api/v1/") for p in paths)
    for expected in ("/api/v1/sources", "/api/v1/users", "/api/v1/me", "/api/v1/me/tokens"):
        assert expected in paths
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "cookie"}
    assert spec["components"]["securitySchemes"]["cookie"]["name"] == "rz_session"
    assert {"type", "title", "status", "detail", "errors"} <= set(
        spec["components"]["schemas"]["Problem"]["properties"]
    )
    # every operation documents its refusals as problem documents and has a summary
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            for code in ("401", "403"):
                assert "application/problem+json" in op["responses"][code]["content"], (method, path, code)
            assert "HTTPValidationError" not in str(op["responses"])
    assert paths["/api/v1/sources"]["post"]["x-permission"] == "sources.manage"
    assert all("x-permission" in op for ops in paths.values() for op in ops.values())
    # the whole-app FastAPI spec and Swagger UI are off
    assert client.get("/openapi.json").status_code == 404 and client.get("/docs").status_code == 404


def test_reference_page_is_self_contained(client: TestClient) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page
    external = re.findall(r'(?:src|href)="(https?:)?//', page)
    assert not external, "the docs page must not load anything from another host"
    assert "/api/v1/sources/{source_id}" in page and "Authorization: Bearer" in page
    css = client.get("/api/v1/docs.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_reference_page_escapes_what_the_spec_says() -> None:
    spec = {
        "info": {"title": "<script>alert(1)</script>", "version": "1", "description": "a <b>bold</b> claim"},
        "paths": {"/api/v1/x": {"get": {"summary": "<img src=x onerror=alert(1)>", "responses": {}}}},
        "components": {"schemas": {}},
        "tags": [],
    }
    page = render_reference(spec)
    assert "<script>alert" not in page and "<img src=x" not in page and "&lt;b&gt;bold" in page


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.put("/api/v1/me")
    assert response.status_code == 405 and response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, PATCH"


def test_openapi_and_docs_need_no_sign_in(settings: Settings, db: Database) -> None:
    app: FastAPI = create_app(settings, database=db)
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/openapi.json").status_code == 200
        assert anonymous.get("/api/v1/docs").status_code == 200
