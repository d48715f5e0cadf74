"""Personal API tokens: shown once, hashed at rest, prefix for display, expiry, revocation,
last use, and a deactivated user's token refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts import service
from resonanz.accounts.actions import do_create_api_token, do_deactivate_user, do_revoke_api_token
from resonanz.accounts.models import ApiToken
from resonanz.accounts.permissions import Role
from resonanz.accounts.tokens import digest
from resonanz.db.database import Database
from resonanz.errors import InputError, NotFoundError
from tests.accounts.conftest import FrozenClock
from tests.support.accounts_factory import api_client, make_user, signed_in_client


def test_token_lifecycle(session: Session, frozen: FrozenClock) -> None:
    user = make_user(session)
    raw, token = do_create_api_token(
        session, user_id=user.id, name=" deploy bot ", expires_at=frozen.current + timedelta(days=1), actor=None
    )
    session.commit()
    assert raw.startswith("rz_") and len(raw) > 40
    assert token.name == "deploy bot" and token.prefix == raw[:9] and token.token_hash == digest(raw)
    stored = session.scalars(select(ApiToken)).one()
    assert raw not in (stored.token_hash, stored.prefix, stored.name)

    principal = service.resolve_api_token(session, raw_token=raw)
    assert principal is not None and principal.token_id == token.id and principal.session_id is None
    assert principal.csrf_token is None and token.last_used_at == frozen.current
    frozen.advance(seconds=20)
    service.resolve_api_token(session, raw_token=raw)
    assert token.last_used_at == frozen.current - timedelta(seconds=20)  # at most once a minute

    assert service.resolve_api_token(session, raw_token=raw + "x") is None
    assert service.resolve_api_token(session, raw_token="not-a-token") is None
    frozen.advance(days=1)
    assert service.resolve_api_token(session, raw_token=raw) is None  # expired


def test_revoke_only_own_tokens(session: Session) -> None:
    alice, bob = make_user(session), make_user(session)
    raw, token = do_create_api_token(session, user_id=alice.id, name="a", actor=None)
    with pytest.raises(NotFoundError):
        do_revoke_api_token(session, user_id=bob.id, token_id=token.id, actor=None)
    do_revoke_api_token(session, user_id=alice.id, token_id=token.id, actor=None)
    assert service.resolve_api_token(session, raw_token=raw) is None
    assert service.list_api_tokens(session, user_id=alice.id) == []
    assert [t.id for t in service.list_api_tokens(session, user_id=alice.id, include_revoked=True)] == [token.id]


@pytest.mark.parametrize(("name", "hours"), [("", None), ("x" * 101, None), ("ok", -1)])
def test_bad_token_input(session: Session, frozen: FrozenClock, name: str, hours: int | None) -> None:
    user = make_user(session)
    expires = frozen.current + timedelta(hours=hours) if hours is not None else None
    with pytest.raises(InputError):
        do_create_api_token(session, user_id=user.id, name=name, expires_at=expires, actor=None)


def test_deactivated_users_token_is_refused(app: FastAPI, db: Database, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    client = api_client(app, db, Role.manager)
    assert client.get("/api/v1/me").status_code == 200
    target = service.get_user(session, id=client.user.id)  # type: ignore[attr-defined]
    do_deactivate_user(session, user=target, actor=service.principal_for(admin))
    session.commit()
    refused = client.get("/api/v1/me")
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_bearer_token_needs_no_csrf_header(app: FastAPI, db: Database) -> None:
    client = api_client(app, db, Role.agent)
    response = client.post("/api/v1/me/tokens", json={"name": "from a script"})
    assert response.status_code in (200, 201), response.text


def test_tokens_page_shows_a_new_token_once(app: FastAPI, db: Database, session: Session) -> None:
    client = signed_in_client(app, db, Role.viewer)
    client.follow_redirects = False
    csrf = client.principal.csrf_token  # type: ignore[attr-defined]
    created = client.post(
        "/settings/tokens", data={"csrf_token": csrf, "name": "report job", "expires_at": "2099-01-31"}
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    raw = re.findall(r"rz_[A-Za-z0-9_-]{40,}", created.text)
    assert len(set(raw)) == 1
    listing = client.get("/settings/tokens")
    assert "report job" in listing.text and raw[0] not in listing.text and raw[0][:9] in listing.text
    token = session.scalars(select(ApiToken)).one()
    assert token.expires_at is not None and token.expires_at.year == 2099
    token_id = token.id
    session.rollback()  # end the read: on SQLite an open transaction holds the lock the app needs
    bad = client.post("/settings/tokens", data={"csrf_token": csrf, "name": "x", "expires_at": "31.01.2099"})
    assert bad.status_code == 422 and "2027-12-31" in bad.text
    revoked = client.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert client.post("/settings/tokens/99999/revoke", data={"csrf_token": csrf}).status_code == 404
    assert session.get(ApiToken, token_id).revoked_at is not None  # type: ignore[union-attr]
