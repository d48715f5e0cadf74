"""The settings pages: language and time zone, password change, one session signed out; the
sign-in page speaks the browser's language."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from resonanz.accounts import service
from resonanz.accounts.actions import do_sign_in
from resonanz.accounts.permissions import Role
from resonanz.db.database import Database
from tests.support.accounts_factory import DEFAULT_PASSWORD, make_user, signed_in_client


def test_sign_in_page_in_german(app: FastAPI, session: Session) -> None:
    user = make_user(session)
    with TestClient(app, headers={"Accept-Language": "de-DE,de;q=0.9"}) as client:
        page = client.get("/login")
        assert page.headers["content-language"] == "de" and "Anmelden" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        wrong = client.post("/login", data={"csrf_token": token, "email": user.email, "password": "falsch falsch"})
        assert wrong.status_code == 401 and "Falsche E-Mail-Adresse oder falsches Passwort." in wrong.text


def test_language_and_time_zone(app: FastAPI, db: Database) -> None:
    client = signed_in_client(app, db, Role.analyst)
    client.follow_redirects = False
    csrf = client.headers["X-CSRF-Token"]
    assert client.get("/settings").headers["content-language"] == "en"
    saved = client.post(
        "/settings",
        data={"csrf_token": csrf, "display_name": "Ana Lyst", "language": "de", "time_zone": "Europe/Berlin"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/settings?done=saved"
    page = client.get("/settings?done=saved")
    assert page.headers["content-language"] == "de" and 'value="Europe/Berlin" selected' in page.text
    bad = client.post("/settings", data={"csrf_token": csrf, "language": "de", "time_zone": "Europe/Atlantis"})
    assert bad.status_code == 422
    with db.sessions() as s:
        user = service.get_user(s, id=client.user.id)  # type: ignore[attr-defined]
        assert (user.display_name, user.language, user.time_zone) == ("Ana Lyst", "de", "Europe/Berlin")
    # back to the browser's language
    client.post("/settings", data={"csrf_token": csrf, "language": "", "time_zone": "UTC"})
    assert client.get("/settings", headers={"Accept-Language": "en"}).headers["content-language"] == "en"


def test_password_change_signs_out_the_other_sessions(app: FastAPI, db: Database) -> None:
    client = signed_in_client(app, db, Role.agent)
    client.follow_redirects = False
    csrf = client.headers["X-CSRF-Token"]
    email = client.user.email  # type: ignore[attr-defined]
    with db.sessions() as s:
        other_raw, _ = do_sign_in(s, email=email, password=DEFAULT_PASSWORD, ip="7.7.7.7", user_agent="tablet")
        s.commit()
    differ = {"current_password": DEFAULT_PASSWORD, "new_password": "new secret 123", "new_password_confirm": "x"}
    assert client.post("/settings/password", data={"csrf_token": csrf, **differ}).status_code == 422
    wrong = {
        "current_password": "not it at all",
        "new_password": "new secret 123",
        "new_password_confirm": "new secret 123",
    }
    response = client.post("/settings/password", data={"csrf_token": csrf, **wrong})
    assert response.status_code == 422 and "current password is wrong" in response.text
    ok = {**wrong, "current_password": DEFAULT_PASSWORD}
    assert client.post("/settings/password", data={"csrf_token": csrf, **ok}).status_code == 303
    assert client.get("/settings").status_code == 200  # this browser stays signed in
    other = TestClient(app, follow_redirects=False)
    other.cookies.set("rz_session", other_raw)
    assert other.get("/settings").status_code == 303  # the tablet is signed out


def test_sign_out_one_session_from_the_list(app: FastAPI, db: Database) -> None:
    client = signed_in_client(app, db, Role.viewer)
    client.follow_redirects = False
    csrf = client.headers["X-CSRF-Token"]
    with db.sessions() as s:
        _other_raw, other = do_sign_in(
            s,
            email=client.user.email,
            password=DEFAULT_PASSWORD,
            ip="8.8.8.8",
            user_agent="old laptop",  # type: ignore[attr-defined]
        )
        s.commit()
    listing = client.get("/settings/sessions")
    assert f'data-session-id="{other.session_id}"' in listing.text and "old laptop" in listing.text
    done = client.post(f"/settings/sessions/{other.session_id}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/settings/sessions"
    assert "old laptop" not in client.get("/settings/sessions").text
    stranger = signed_in_client(app, db, Role.viewer)
    theirs = stranger.principal.session_id  # type: ignore[attr-defined]
    assert client.post(f"/settings/sessions/{theirs}/revoke", data={"csrf_token": csrf}).status_code == 303
    assert stranger.get("/settings").status_code == 200  # someone else's session is untouched
    own = client.principal.session_id  # type: ignore[attr-defined]
    last = client.post(f"/settings/sessions/{own}/revoke", data={"csrf_token": csrf})
    assert last.headers["location"] == "/login" and client.get("/settings").status_code == 303
