"""Every route of the app either declares the permission it needs or is public for a stated reason,
and every role without that permission is refused.

The test walks all routes of ``create_app`` (API and pages, whoever added them), finds the
``PermissionCheck`` in each route's dependency tree and then calls the route: signed out it must
answer 401 (API) or redirect to the sign-in page (pages); signed in with a role that lacks the
permission it must answer 403. A new route without ``require(...)`` / ``require_page(...)`` fails
here unless it is added to PUBLIC with a reason. Page forms (POST outside /api/) must also carry
the ``csrf_form`` guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from resonanz.accounts.permissions import Permission, Role, roles_without
from resonanz.api.app import create_app
from resonanz.api.deps import PermissionCheck
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.web.deps import PagePermissionCheck, csrf_form
from tests.support.accounts_factory import api_client, make_user, signed_in_client

#: (method, path) -> why anyone may call it.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "load balancers and monitors probe it without credentials; it says ok/error only",
    ("GET", "/status"): "the store's counts for operators (no mention content); kept from the first issue",
    ("POST", "/hooks/{source}"): "webhooks authenticate each request by its HMAC signature",
    ("GET", "/api/v1/openapi.json"): "the API's description is public, like any API reference",
    ("GET", "/api/v1/docs"): "the API reference page rendered from the public OpenAPI document",
    ("GET", "/api/v1/docs.css"): "the reference page's stylesheet",
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "signing in (CSRF by double-submit cookie, rate limited)",
    ("GET", "/setup"): "first admin: only while no user exists, and only with the one-time token",
    ("POST", "/setup"): "first admin: only while no user exists, and only with the one-time token",
    ("GET", "/csat/{token}"): "the customer's satisfaction question: the unguessable one-time token is the key",
    ("POST", "/csat/{token}"): "answering it: token-protected, CSRF by double-submit cookie, answered once",
}
PUBLIC_MOUNTS: dict[str, str] = {"/static": "CSS, JavaScript and icons; nothing private"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    checks: tuple[PermissionCheck, ...]
    has_csrf_form: bool

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def is_page(self) -> bool:
        """Answered to a browser (not the API, not a webhook sender)."""
        return not self.path.startswith(("/api/", "/hooks/"))

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def endpoints(app: FastAPI) -> tuple[list[Endpoint], list[str]]:
    """All (method, path) pairs with the checks they declare, and the mounted sub-apps."""
    found: list[Endpoint] = []
    mounts: list[str] = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, Mount):
            mounts.append(str(ctx.path))
            continue
        assert isinstance(route, APIRoute), f"unexpected route type {type(route).__name__} at {ctx.path}"
        calls = list(_calls(ctx.dependant))
        checks = tuple(c for c in calls if isinstance(c, PermissionCheck))
        for method in sorted(ctx.methods or ()):
            found.append(Endpoint(method, str(ctx.path), checks, csrf_form in calls))
    return found, mounts


APP_ENDPOINTS, APP_MOUNTS = endpoints(create_app(Settings(worker_threads=0)))
CHECKED = [e for e in APP_ENDPOINTS if e.checks]


def test_every_route_declares_a_permission_or_is_public_for_a_reason() -> None:
    missing = [e.id for e in APP_ENDPOINTS if not e.checks and (e.method, e.path) not in PUBLIC]
    assert not missing, f"routes without require(...)/require_page(...) and not in PUBLIC: {missing}"
    stale = [f"{m} {p}" for m, p in PUBLIC if not any(e.method == m and e.path == p for e in APP_ENDPOINTS)]
    assert not stale, f"PUBLIC names routes that do not exist: {stale}"
    guarded_but_public = [e.id for e in APP_ENDPOINTS if e.checks and (e.method, e.path) in PUBLIC]
    assert not guarded_but_public, f"routes in PUBLIC that do check a permission: {guarded_but_public}"
    assert sorted(APP_MOUNTS) == sorted(PUBLIC_MOUNTS), "a mounted app must be public on purpose or not mounted"
    assert len(CHECKED) >= 20, "the walk found too few routes; has the route structure changed?"


def test_pages_use_page_checks_and_api_uses_api_checks() -> None:
    for e in CHECKED:
        page_checks = [c for c in e.checks if isinstance(c, PagePermissionCheck)]
        if e.is_api:
            assert not page_checks, f"{e.id}: an API route must answer 401/403 problems, not redirects"
        else:
            assert len(page_checks) == len(e.checks), f"{e.id}: a page must use require_page(...)"


def test_every_page_form_is_csrf_guarded() -> None:
    unguarded = [
        e.id
        for e in APP_ENDPOINTS
        if e.is_page and e.method in {"POST", "PUT", "PATCH", "DELETE"} and not e.has_csrf_form
    ]
    assert not unguarded, f"page forms without the csrf_form dependency: {unguarded}"


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def call(client: TestClient, endpoint: Endpoint, csrf: str | None) -> object:
    kwargs: dict[str, object] = {}
    if endpoint.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if endpoint.is_api:
            kwargs["json"] = {}
        else:
            kwargs["data"] = {"csrf_token": csrf or ""}
    return client.request(endpoint.method, concrete(endpoint.path), **kwargs)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    with db.sessions() as session:
        make_user(session, role=Role.admin)  # a user exists, so signed-out pages go to /login, not /setup
    return create_app(settings, database=db)


def test_signed_out_is_refused_everywhere(app: FastAPI) -> None:
    with TestClient(app, follow_redirects=False) as client:
        for endpoint in CHECKED:
            response = call(client, endpoint, None)
            status = response.status_code  # type: ignore[attr-defined]
            if endpoint.is_api:
                assert status == 401, f"{endpoint.id}: {status}"
                assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
            else:
                assert status == 303, f"{endpoint.id}: {status}"
                assert response.headers["location"].startswith("/login?next="), endpoint.id  # type: ignore[attr-defined]


def _permission(endpoint: Endpoint) -> set[Permission]:
    return {c.permission for c in endpoint.checks}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_roles_without_the_permission_are_refused(app: FastAPI, db: Database, role: Role) -> None:
    relevant = [e for e in CHECKED if any(role in roles_without(p) for p in _permission(e))]
    if not relevant:
        pytest.skip(f"{role} holds every permission a route asks for")
    page = signed_in_client(app, db, role)
    page.follow_redirects = False
    token = api_client(app, db, role)
    csrf = page.headers["X-CSRF-Token"]
    for endpoint in relevant:
        client = token if endpoint.is_api else page
        response = call(client, endpoint, csrf)
        status = response.status_code  # type: ignore[attr-defined]
        assert status == 403, f"{role} on {endpoint.id}: {status}"
        if endpoint.is_api:
            assert response.json()["type"].endswith(":forbidden"), endpoint.id  # type: ignore[attr-defined]
        else:
            assert "Form expired" not in response.text, f"{endpoint.id}: refused for CSRF, not permission"  # type: ignore[attr-defined]
    # the same clients are let through where the role has the permission (the refusals above are
    # about the permission, not a broken client)
    assert page.get("/settings").status_code == 200
    assert token.get("/api/v1/me").status_code == 200


def test_the_walk_notices_an_unguarded_route() -> None:
    """The walk itself can fail: a route added without a check shows up as unguarded."""
    app = create_app(Settings(worker_threads=0))

    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    found, _ = endpoints(app)
    (entry,) = [e for e in found if e.path == "/api/v1/forgotten"]
    assert entry.checks == () and ("GET", entry.path) not in PUBLIC
