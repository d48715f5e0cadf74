"""The one error mapping: domain errors, validation errors and framework errors all leave as
problem+json with field paths; oversized or undecodable input gets a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from resonanz import errors
from resonanz.api import problems
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database


class Thing(BaseModel):
    name: str = Field(min_length=1)
    tags: list[int] = []


def _toy_app() -> FastAPI:
    """A small app with the mapping installed, raising each kind of error on demand."""
    app = FastAPI()
    problems.install(app)

    @app.get("/api/raise/{kind}")
    def raise_it(kind: str) -> dict[str, str]:
        table: dict[str, Exception] = {
            "not-found": errors.NotFoundError("no mention with id 9"),
            "conflict": errors.ConflictError("a source named 'x' exists already"),
            "input": errors.InputError("unbalanced double quote", location="query.q"),
            "config": errors.ConfigError("invalid feed config"),
            "auth": errors.AuthenticationError("not signed in"),
            "denied": errors.PermissionDeniedError("needs users.manage"),
            "rate": errors.RateLimitedError("too many sign-in attempts", retry_after=30),
            "connector": errors.ConnectorTransientError("feed answered 503"),
            "bug": RuntimeError("secret internal detail /etc/passwd"),
        }
        raise table[kind]

    @app.post("/api/things")
    def create(thing: Thing, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Thing:
        return thing

    return app


@pytest.mark.parametrize(
    ("kind", "status", "slug"),
    [
        ("not-found", 404, "not-found"),
        ("conflict", 409, "conflict"),
        ("input", 422, "invalid-input"),
        ("config", 422, "invalid-config"),
        ("auth", 401, "not-signed-in"),
        ("denied", 403, "forbidden"),
        ("rate", 429, "rate-limited"),
        ("connector", 502, "connector"),
    ],
)
def test_domain_errors_become_problems(kind: str, status: int, slug: str) -> None:
    response = TestClient(_toy_app()).get(f"/api/raise/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:resonanz:problem:{slug}" and body["status"] == status
    assert body["title"] and body["detail"] and body["instance"] == f"/api/raise/{kind}"


def test_input_error_location_becomes_a_field_path() -> None:
    body = TestClient(_toy_app()).get("/api/raise/input").json()
    assert body["errors"] == [{"loc": ["query", "q"], "msg": "unbalanced double quote"}]


def test_rate_limit_says_when_to_retry() -> None:
    response = TestClient(_toy_app()).get("/api/raise/rate")
    assert response.headers["retry-after"] == "30"


def test_unexpected_error_is_a_500_problem_with_an_id_and_no_trace(caplog: pytest.LogCaptureFixture) -> None:
    response = TestClient(_toy_app(), raise_server_exceptions=False).get("/api/raise/bug")
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "urn:resonanz:problem:internal" and len(body["id"]) == 12
    assert "passwd" not in response.text and "Traceback" not in response.text
    assert body["id"] in caplog.text


def test_validation_errors_list_every_field_with_its_path() -> None:
    response = TestClient(_toy_app()).post("/api/things?limit=1000000000", json={"name": "", "tags": [1, "x"]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    locs = {tuple(e["loc"]) for e in response.json()["errors"]}
    assert locs == {("query", "limit"), ("body", "name"), ("body", "tags", 1)}
    assert "input" not in response.json()["errors"][0]  # the offending value is not echoed


def test_malformed_json_is_a_422_with_the_position() -> None:
    response = TestClient(_toy_app()).post(
        "/api/things", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][0] == "body"


def test_invalid_utf8_body_is_a_400() -> None:
    response = TestClient(_toy_app()).post(
        "/api/things", content=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert "UTF-8" in response.json()["detail"] or response.status_code == 422


def test_unknown_route_and_wrong_method_are_problems() -> None:
    client = TestClient(_toy_app())
    assert client.get("/api/nothing-here").json()["status"] == 404
    response = client.delete("/api/things")
    assert response.status_code == 405 and response.headers["content-type"] == "application/problem+json"


def test_pages_keep_plain_framework_errors() -> None:
    response = TestClient(_toy_app()).get("/no-such-page")
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"


async def _asgi_get(app: FastAPI, path: str, query: bytes) -> tuple[int, dict[str, str], bytes]:
    """One GET straight through the ASGI interface (HTTP clients refuse URLs this long)."""
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "", "headers": [],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }  # fmt: skip
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}  # type: ignore[attr-defined]
    return int(start["status"]), headers, b"".join(m.get("body", b"") for m in sent[1:])  # type: ignore[misc]


def test_one_megabyte_query_string_is_a_414(settings: Settings, db: Database) -> None:
    import asyncio
    import json

    app = create_app(settings, database=db)
    query = b"q=" + b"a" * 1_000_000
    status, headers, body = asyncio.run(_asgi_get(app, "/api/v1/mentions", query))
    assert status == 414 and headers["content-type"] == "application/problem+json"
    assert "8,192" in json.loads(body)["detail"]
    status, headers, _ = asyncio.run(_asgi_get(app, "/healthz", query))
    assert status == 414 and headers["content-type"].startswith("text/plain")


def test_query_string_that_is_not_utf8_is_a_400(settings: Settings, db: Database) -> None:
    with TestClient(create_app(settings, database=db)) as client:
        response = client.get("/api/v1/mentions?q=%ff%fe")
    assert response.status_code == 400
    assert response.json()["detail"] == "the query string is not valid UTF-8"


def test_pages_can_render_their_own_error_pages() -> None:
    app = _toy_app()

    @app.get("/page/{n}")
    def page(n: int) -> dict[str, int]:
        raise errors.NotFoundError(f"no mention with id {n}")

    def render(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
        return HTMLResponse(f"<h1>{title}</h1><p>{detail}</p>", status_code=status)

    app.state.page_error_renderer = render
    client = TestClient(app)
    missing = client.get("/page/7")
    assert missing.status_code == 404 and "<p>no mention with id 7</p>" in missing.text
    invalid = client.get("/page/seven")
    assert invalid.status_code == 422 and "<h1>Invalid request</h1>" in invalid.text
    unknown = client.get("/no-such-page")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    api = client.get("/api/raise/not-found")  # the API keeps its problem documents
    assert api.headers["content-type"] == "application/problem+json"
