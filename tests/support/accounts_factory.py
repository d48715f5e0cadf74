"""Test data for accounts: users, signed-in clients and API clients.

Hashing uses cheap argon2 parameters here (the production ones cost ~50 ms per hash, which adds
up over hundreds of tests); the production parameters are tested in tests/accounts.
"""

from __future__ import annotations

import itertools
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from resonanz.accounts import passwords
from resonanz.accounts.actions import do_create_api_token, do_create_user, do_sign_in
from resonanz.accounts.models import User
from resonanz.accounts.permissions import Role
from resonanz.db.database import Database

DEFAULT_PASSWORD = "correct horse battery staple"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords.set_hasher(FAST_HASHER)

_seq = itertools.count(1)


def make_user(
    session: Session,
    *,
    role: Role | str = Role.agent,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    **kw: Any,
) -> User:
    """A committed, active user (unique e-mail unless given); ``kw``: display_name, language,
    time_zone."""
    n = next(_seq)
    role = Role(role)
    user = do_create_user(
        session,
        email=email or f"{role.value}{n}@example.test",
        display_name=kw.pop("display_name", f"{role.value.title()} {n}"),
        password=password,
        role=role,
        actor=None,
        **kw,
    )
    session.commit()
    return user


def signed_in_client(app: FastAPI, db: Database, role: Role | str, **user_kw: Any) -> TestClient:
    """A client signed in by cookie as a new user of ``role``; the session's CSRF token is sent
    on every request as ``X-CSRF-Token`` (delete the header to test refusals). The user is
    ``client.user`` (detached) and the raw cookie ``client.cookies['rz_session']``."""
    with db.sessions() as session:
        user = make_user(session, role=role, **user_kw)
        raw, principal = do_sign_in(
            session, email=user.email, password=DEFAULT_PASSWORD, ip="testclient", user_agent="pytest"
        )
        session.commit()
    client = TestClient(app)
    client.cookies.set("rz_session", raw)
    assert principal.csrf_token is not None
    client.headers["X-CSRF-Token"] = principal.csrf_token
    client.user = user  # type: ignore[attr-defined]
    client.principal = principal  # type: ignore[attr-defined]
    return client


def api_client(app: FastAPI, db: Database, role: Role | str, **user_kw: Any) -> TestClient:
    """A client that sends a fresh personal API token of a new user of ``role`` (no cookie)."""
    with db.sessions() as session:
        user = make_user(session, role=role, **user_kw)
        raw, _token = do_create_api_token(session, user_id=user.id, name="tests", actor=None)
        session.commit()
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {raw}"
    client.user = user  # type: ignore[attr-defined]
    client.token = raw  # type: ignore[attr-defined]
    return client
