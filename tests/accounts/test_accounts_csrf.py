"""CSRF refusals (API header, page forms, signed-out forms), no open redirect after sign-in, and
bad input to the sign-in pages: each gets a clear 4xx, never a 500."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Role
from resonanz.db.database import Database
from resonanz.web.deps import safe_next
from tests.support.accounts_factory import DEFAULT_PASSWORD, api_client, make_user, signed_in_client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_api_with_cookie_needs_the_csrf_header_on_unsafe_methods(app: FastAPI, db: Database) -> None:
    client = signed_in_client(app, db, Role.agent)
    good = client.headers["X-CSRF-Token"]
    assert client.post("/api/v1/me/tokens", json={"name": "with header"}).status_code in (200, 201)
    del client.headers["X-CSRF-Token"]
    assert client.get("/api/v1/me").status_code == 200  # safe methods need none
    missing = client.post("/api/v1/me/tokens", json={"name": "no header"})
    assert missing.status_code == 403 and missing.headers["content-type"] == "application/problem+json"
    assert "X-CSRF-Token" in missing.json()["detail"]
    wrong = client.post(
        "/api/v1/me/tokens",
        json={"name": "x"},
        headers={"X-CSRF-Token": good[:-1] + ("B" if good.endswith("A") else "A")},
    )
    assert wrong.status_code == 403
    # a CSRF token of another session does not work either
    other = signed_in_client(app, db, Role.agent)
    cross = client.post(
        "/api/v1/me/tokens", json={"name": "x"}, headers={"X-CSRF-Token": other.headers["X-CSRF-Token"]}
    )
    assert cross.status_code == 403


def test_page_forms_refuse_a_missing_or_wrong_token(app: FastAPI, db: Database) -> None:
    client = signed_in_client(app, db, Role.viewer)
    client.follow_redirects = False
    for data in (
        {},
        {"csrf_token": ""},
        {"csrf_token": "forged"},
        {"csrf_token": client.headers["X-CSRF-Token"] + "x"},
    ):
        response = client.post("/settings", data={**data, "language": "de", "time_zone": "UTC"})
        assert response.status_code == 403, data
        assert "text/html" in response.headers["content-type"] and "Reload the page" in response.text
    # the header alone is no substitute for the form field on pages
    assert client.post("/logout").status_code == 403
    ok = client.post(
        "/settings", data={"csrf_token": client.headers["X-CSRF-Token"], "language": "de", "time_zone": "UTC"}
    )
    assert ok.status_code == 303


def test_sign_in_form_uses_a_double_submit_cookie(app: FastAPI, session: Session) -> None:
    user = make_user(session)
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/login")
        token = csrf_of(form.text)
        assert "rz_csrf=" in form.headers["set-cookie"] and "HttpOnly" in form.headers["set-cookie"]
        data = {"email": user.email, "password": DEFAULT_PASSWORD}
        assert client.post("/login", data={**data, "csrf_token": "guess"}).status_code == 403
        assert client.post("/login", data=data).status_code == 403
        client.cookies.clear()
        assert client.post("/login", data={**data, "csrf_token": token}).status_code == 403  # no cookie
        again = client.get("/login")
        assert client.post("/login", data={**data, "csrf_token": csrf_of(again.text)}).status_code == 303


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/mentions?q=bahn", "/mentions?q=bahn"),
        ("/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("mentions", "/"),
        ("", "/"),
        (None, "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_no_open_redirect_after_sign_in(app: FastAPI, session: Session) -> None:
    user = make_user(session)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/login", params={"next": "https://evil.example/phish"})
        assert "evil.example" not in page.text
        response = client.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": user.email,
                "password": DEFAULT_PASSWORD,
                "next": "//evil.example/phish",
            },
        )
        assert response.status_code == 303 and response.headers["location"] == "/"
        # signed in already, /login?next=… goes on, but only to a local path
        assert client.get("/login", params={"next": "https://evil.example"}).headers["location"] == "/"
        assert client.get("/login", params={"next": "/mentions"}).headers["location"] == "/mentions"


def test_invalid_utf8_in_a_form_is_a_4xx(app: FastAPI, session: Session) -> None:
    user = make_user(session)
    with TestClient(app, follow_redirects=False) as client:
        token = csrf_of(client.get("/login").text)
        body = f"csrf_token={token}&email=".encode() + b"%ff%fe\xff\xfe" + b"&password=" + b"\xc3\x28"
        response = client.post("/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 400 and "UTF-8" in response.text
        percent = f"csrf_token={token}&email=%ff%fe&password=x".encode()
        response = client.post("/login", content=percent, headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 400
        multipart = (
            b"--B\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode()
            + b"\r\n--B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n\xff\xfe"
            + b"\r\n--B\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n--B--\r\n"
        )  # fmt: skip
        response = client.post("/login", content=multipart, headers={"content-type": "multipart/form-data; boundary=B"})
        assert response.status_code == 400
        broken = client.post(
            "/login", content=b"--B\r\ngarbage", headers={"content-type": "multipart/form-data; boundary=B"}
        )
        assert broken.status_code in (400, 403)  # unreadable, or read as an empty form without its token
        upload = client.post("/login", data={"csrf_token": token}, files={"f": ("a.txt", b"text", "text/plain")})
        assert upload.status_code == 400  # forms take no files
        many = client.post("/login", data={"csrf_token": token, **{f"k{i}": "v" for i in range(60)}})
        assert many.status_code == 400
        huge = client.post("/login", data={"csrf_token": token, "email": "x" * 300_000})
        assert huge.status_code == 413
        # and the account is not harmed: the right password still works
        token = csrf_of(client.get("/login").text)
        ok = client.post("/login", data={"csrf_token": token, "email": user.email, "password": DEFAULT_PASSWORD})
        assert ok.status_code == 303


def test_viewer_calling_an_admin_endpoint(app: FastAPI, db: Database) -> None:
    viewer = api_client(app, db, Role.viewer)
    response = viewer.get("/api/v1/users")
    assert response.status_code == 403 and "users" in response.json()["detail"]
    page = signed_in_client(app, db, Role.viewer)
    assert page.get("/admin").status_code == 403


def test_signed_out_api_call_is_401_problem(app: FastAPI, session: Session) -> None:
    make_user(session)
    with TestClient(app) as client:
        response = client.get("/api/v1/users", headers={"Authorization": "Bearer rz_nonsense"})
        assert response.status_code == 401 and response.json()["status"] == 401
        assert client.get("/api/v1/users", headers={"Authorization": "Basic abc"}).status_code == 401
