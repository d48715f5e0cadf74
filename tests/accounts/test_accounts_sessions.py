"""Web sessions: cookie flags, idle and absolute expiry, last-seen throttling, sign-out (one,
everywhere), deactivation, login rate limiting and the generic wrong-credentials answer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts import passwords, service
from resonanz.accounts.actions import (
    LOGIN_WINDOW,
    MAX_FAILURES_PER_EMAIL_IP,
    do_deactivate_user,
    do_sign_in,
    do_sign_out_everywhere,
)
from resonanz.accounts.models import WebSession
from resonanz.accounts.permissions import Role
from resonanz.accounts.tokens import digest
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.errors import AuthenticationError, RateLimitedError
from tests.accounts.conftest import FrozenClock
from tests.support.accounts_factory import DEFAULT_PASSWORD, make_user, signed_in_client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def alive(db: Database, raw: str) -> bool:
    """Whether the session still works, looked up in a short transaction of its own (on SQLite an
    open transaction would hold the write lock the app needs)."""
    with db.sessions() as s:
        found = service.resolve_session(s, raw_token=raw) is not None
        s.commit()
    return found


def login(client: TestClient, email: str, password: str, next_url: str = "/") -> object:
    page = client.get("/login")
    return client.post(
        "/login", data={"csrf_token": csrf_of(page.text), "email": email, "password": password, "next": next_url}
    )


def test_sign_in_sets_a_safe_cookie_and_stores_only_a_hash(app: FastAPI, db: Database, session: Session) -> None:
    user = make_user(session, role=Role.viewer)
    with TestClient(app, follow_redirects=False) as client:
        response = login(client, user.email.upper(), DEFAULT_PASSWORD, "/mentions?q=bahn")
        assert response.status_code == 303 and response.headers["location"] == "/mentions?q=bahn"  # type: ignore[attr-defined]
        cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
        assert cookie.startswith("rz_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Path=/" in cookie and "Secure" not in cookie  # plain http in tests
        raw = client.cookies["rz_session"]
        assert client.get("/settings").status_code == 200
    stored = session.scalars(select(WebSession)).one()
    assert stored.token_hash == digest(raw) and raw not in (stored.token_hash, stored.csrf_secret)


def test_cookie_is_secure_over_https(app: FastAPI, session: Session) -> None:
    user = make_user(session)
    with TestClient(app, base_url="https://resonanz.example", follow_redirects=False) as client:
        response = login(client, user.email, DEFAULT_PASSWORD)
        assert "Secure" in response.headers["set-cookie"]  # type: ignore[attr-defined]


def test_wrong_password_and_unknown_email_get_the_same_answer(
    app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(session)
    burned: list[str] = []
    real_burn = passwords.burn_time
    monkeypatch.setattr(passwords, "burn_time", lambda pw: (burned.append(pw), real_burn(pw)))
    with TestClient(app, follow_redirects=False) as client:
        wrong = login(client, user.email, "not the password")
        unknown = login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401  # type: ignore[attr-defined]
    assert "Wrong e-mail or password." in wrong.text and "Wrong e-mail or password." in unknown.text  # type: ignore[attr-defined]
    assert burned == ["not the password"]  # the unknown address spent a hash verification too
    with pytest.raises(AuthenticationError, match=r"^wrong e-mail or password$"):
        do_sign_in(session, email="nobody@example.com", password="x", ip="1.1.1.1", user_agent=None)


def test_idle_and_absolute_expiry(session: Session, frozen: FrozenClock) -> None:
    user = make_user(session)
    raw, _ = do_sign_in(
        session, email=user.email, password=DEFAULT_PASSWORD, ip="1.1.1.1", user_agent=None, lifetime=timedelta(days=2)
    )
    session.commit()
    idle = timedelta(hours=12)
    frozen.advance(hours=11)
    assert service.resolve_session(session, raw_token=raw, idle=idle) is not None  # and touches last_seen
    frozen.advance(hours=11)
    assert service.resolve_session(session, raw_token=raw, idle=idle) is not None  # 11 h since the last use
    frozen.advance(hours=12, seconds=1)
    assert service.resolve_session(session, raw_token=raw, idle=idle) is None  # idle too long

    raw2, _ = do_sign_in(
        session, email=user.email, password=DEFAULT_PASSWORD, ip="1.1.1.1", user_agent=None, lifetime=timedelta(days=2)
    )
    for _ in range(4):  # busy all the time (40 h), but the absolute end (48 h) still comes
        frozen.advance(hours=10)
        assert service.resolve_session(session, raw_token=raw2, idle=idle) is not None
    frozen.advance(hours=10)
    assert service.resolve_session(session, raw_token=raw2, idle=idle) is None


def test_last_seen_written_at_most_once_a_minute(session: Session, frozen: FrozenClock) -> None:
    user = make_user(session)
    raw, principal = do_sign_in(session, email=user.email, password=DEFAULT_PASSWORD, ip="1.1.1.1", user_agent=None)
    session.commit()
    row = session.get(WebSession, principal.session_id)
    assert row is not None
    start = row.last_seen_at
    frozen.advance(seconds=30)
    service.resolve_session(session, raw_token=raw)
    assert row.last_seen_at == start and not session.dirty
    frozen.advance(seconds=31)
    service.resolve_session(session, raw_token=raw)
    assert row.last_seen_at == frozen.current


def test_expired_session_redirects_pages_and_401s_the_api(app: FastAPI, db: Database, frozen: FrozenClock) -> None:
    client = signed_in_client(app, db, Role.admin)
    client.follow_redirects = False
    assert client.get("/settings").status_code == 200
    frozen.advance(days=30)
    page = client.get("/settings")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsettings"
    assert 'rz_session=""' in page.headers["set-cookie"]  # the dead cookie is cleared
    api = client.get("/api/v1/me")
    assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"
    assert "expired" in api.json()["detail"]


def test_sign_out_and_sign_out_everywhere(app: FastAPI, db: Database) -> None:
    first = signed_in_client(app, db, Role.agent, email="agent@example.com")
    first.follow_redirects = False
    with db.sessions() as s:
        raw2, _p2 = do_sign_in(
            s, email="agent@example.com", password=DEFAULT_PASSWORD, ip="2.2.2.2", user_agent="phone"
        )
        s.commit()
    csrf = first.principal.csrf_token  # type: ignore[attr-defined]
    # the sessions page lists both; revoke happens through a POST form
    listing = first.get("/settings/sessions")
    assert listing.status_code == 200 and "phone" in listing.text and "this browser" in listing.text
    out = first.post("/logout-everywhere", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert not alive(db, raw2)
    assert first.get("/settings").status_code == 303
    # a single sign-out ends only that session
    with db.sessions() as s:
        raw3, p3 = do_sign_in(s, email="agent@example.com", password=DEFAULT_PASSWORD, ip="3.3.3.3", user_agent=None)
        raw4, _ = do_sign_in(s, email="agent@example.com", password=DEFAULT_PASSWORD, ip="4.4.4.4", user_agent=None)
        s.commit()
    third = TestClient(app, follow_redirects=False)
    third.cookies.set("rz_session", raw3)
    assert third.post("/logout", data={"csrf_token": p3.csrf_token}).status_code == 303
    assert not alive(db, raw3)
    assert alive(db, raw4)
    with db.sessions() as s:
        assert do_sign_out_everywhere(s, user_id=p3.user_id, actor=p3) == 1


def test_deactivated_users_session_stops_at_once(app: FastAPI, db: Database, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    client = signed_in_client(app, db, Role.analyst)
    client.follow_redirects = False
    assert client.get("/settings").status_code == 200
    target = service.get_user(session, id=client.user.id)  # type: ignore[attr-defined]
    do_deactivate_user(session, user=target, actor=service.principal_for(admin))
    session.commit()
    assert client.get("/settings").status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    with TestClient(app, follow_redirects=False) as other:
        response = login(other, target.email, DEFAULT_PASSWORD)
        assert response.status_code == 401 and "deactivated" in response.text  # type: ignore[attr-defined]


def test_rate_limit_after_five_failures(app: FastAPI, session: Session, frozen: FrozenClock) -> None:
    user = make_user(session)
    with TestClient(app, follow_redirects=False) as client:
        for _ in range(MAX_FAILURES_PER_EMAIL_IP):
            assert login(client, user.email, "wrong password").status_code == 401  # type: ignore[attr-defined]
        limited = login(client, user.email, DEFAULT_PASSWORD)  # even the right password waits
        assert limited.status_code == 429  # type: ignore[attr-defined]
        retry = int(limited.headers["retry-after"])  # type: ignore[attr-defined]
        assert 0 < retry <= LOGIN_WINDOW.total_seconds()
        assert "Too many failed attempts" in limited.text  # type: ignore[attr-defined]
        # another address is not blocked by this one's failures (counted per e-mail and ip)
        with pytest.raises(AuthenticationError):
            do_sign_in(session, email=user.email, password="wrong", ip="9.9.9.9", user_agent=None)
        frozen.advance(seconds=LOGIN_WINDOW.total_seconds() + 1)
        assert login(client, user.email, DEFAULT_PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_rate_limit_is_shared_through_the_database(db: Database, session: Session) -> None:
    """Two web processes share one count: the failures are rows, not process memory."""
    user = make_user(session)
    for _ in range(MAX_FAILURES_PER_EMAIL_IP):
        with db.sessions() as other_process, pytest.raises(AuthenticationError):
            do_sign_in(other_process, email=user.email, password="bad", ip="5.5.5.5", user_agent=None)
    with pytest.raises(RateLimitedError) as info:
        do_sign_in(session, email=user.email, password=DEFAULT_PASSWORD, ip="5.5.5.5", user_agent=None)
    assert info.value.retry_after > 0


def test_success_clears_the_failure_count(session: Session) -> None:
    user = make_user(session)
    for _ in range(MAX_FAILURES_PER_EMAIL_IP - 1):
        with pytest.raises(AuthenticationError):
            do_sign_in(session, email=user.email, password="bad", ip="6.6.6.6", user_agent=None)
    do_sign_in(session, email=user.email, password=DEFAULT_PASSWORD, ip="6.6.6.6", user_agent=None)
    session.commit()
    with pytest.raises(AuthenticationError):  # a fresh budget, not a 429
        do_sign_in(session, email=user.email, password="bad", ip="6.6.6.6", user_agent=None)


def test_one_address_trying_many_emails_is_limited_too(session: Session) -> None:
    """Password spraying: one failure each for many e-mails from one address still hits a limit."""
    from resonanz.accounts.actions import MAX_FAILURES_PER_IP

    for n in range(MAX_FAILURES_PER_IP):
        with pytest.raises(AuthenticationError):
            do_sign_in(session, email=f"guess{n}@example.com", password="x", ip="6.6.6.7", user_agent=None)
    with pytest.raises(RateLimitedError):
        do_sign_in(session, email="another@example.com", password="x", ip="6.6.6.7", user_agent=None)
    with pytest.raises(AuthenticationError):  # other addresses are unaffected
        do_sign_in(session, email="another@example.com", password="x", ip="6.6.6.8", user_agent=None)


def test_cookie_is_secure_when_settings_say_so(settings: Settings, db: Database, session: Session) -> None:
    """Behind a TLS-terminating proxy that does not forward the scheme, the setting forces it."""
    user = make_user(session)
    app = create_app(settings.model_copy(update={"cookie_secure": True}), database=db)
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/login")
        assert "Secure" in form.headers["set-cookie"]  # the double-submit cookie too
        response = client.post(
            "/login",
            data={"csrf_token": csrf_of(form.text), "email": user.email, "password": DEFAULT_PASSWORD},
            cookies={"rz_csrf": form.cookies["rz_csrf"]},
        )
        assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]
