"""The layout and the dashboard/coming pages: rendered per role, refused without permission."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from resonanz import __version__
from resonanz.accounts.permissions import Permission, Role, has_permission
from resonanz.web.templating import NAV
from tests.web.html_checks import check
from tests.web.web_data import PAGINATION_COUNT, Seeded


@pytest.mark.parametrize("role", list(Role))
def test_dashboard_renders_for_every_role_with_the_nav_it_may_use(
    client_as: Callable[..., TestClient], seeded: Seeded, role: Role
) -> None:
    client = client_as(role)
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en">' in html
    total = 3 + PAGINATION_COUNT + len(seeded.xss_ids)
    assert f'data-stat="total">{total}<' in html
    for item in NAV:
        shown = f'data-nav="{item.key}"' in html
        assert shown == has_permission(role, item.permission), item.key
    assert 'data-nav="dashboard"' in html and 'aria-current="page" data-nav="dashboard"' in html
    # sign-out is a POST form carrying the session's CSRF token
    assert f'name="csrf_token" value="{client.principal.csrf_token}"' in html  # type: ignore[attr-defined]
    assert ('data-stat="quarantine"' in html) == has_permission(role, Permission.system_manage)


def test_dashboard_counts_negative_share(client_as: Callable[..., TestClient], seeded: Seeded) -> None:
    html = client_as(Role.viewer).get("/").text
    assert 'data-stat="negative-share">' in html
    assert 'data-stat="sources">1<' in html


def test_signed_out_visitor_is_sent_to_sign_in(app: FastAPI, client_as: Callable[..., TestClient]) -> None:
    client_as(Role.admin)  # a user exists, so the answer is sign-in, not first-run setup
    response = TestClient(app, follow_redirects=False).get("/mentions?q=bahn")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fmentions%3Fq%3Dbahn"


def test_security_headers_on_pages_and_static_files(app: FastAPI, client_as: Callable[..., TestClient]) -> None:
    for response in (client_as(Role.viewer).get("/"), TestClient(app).get("/static/resonanz.css")):
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style_and_no_external_assets(
    client_as: Callable[..., TestClient], seeded: Seeded
) -> None:
    client = client_as(Role.admin)
    for path in ("/", "/mentions", f"/mentions/{seeded.root_id}", "/inbox"):
        html = client.get(path).text
        found = check(html)
        assert found.problems == [], path
        # the shared script first; an area may add its own, from /static only (the inbox: inbox.js)
        assert found.scripts[0] == "/static/resonanz.js?v=" + __version__, path
        assert all((src or "").startswith("/static/") for src in found.scripts), path
        assert "http://" not in html.split("<body", 1)[0] and "https://" not in html.split("<body", 1)[0], path
        assert 'class="skip-link" href="#main"' in html and 'id="main"' in html


def test_static_assets_ship_in_the_package(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/static/resonanz.js").status_code == 200
    assert client.get("/static/favicon.svg").status_code == 200
    assert client.get("/static/../templating.py").status_code == 404


def test_the_sign_out_form_in_the_user_menu_signs_out(client_as: Callable[..., TestClient]) -> None:
    client = client_as(Role.viewer)
    html = client.get("/").text
    form = re.search(
        r'<form method="post" action="(/logout)"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', html
    )
    assert form
    del client.headers["X-CSRF-Token"]  # the form's field alone must do, as in a browser
    response = client.post(form.group(1), data={"csrf_token": form.group(2)})
    assert response.status_code == 303
    assert client.get("/").status_code == 303  # signed out: back to sign-in
