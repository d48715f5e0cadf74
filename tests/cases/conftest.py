"""Fixtures for the case tests: clients signed in per role on the app (pages and API)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from tests.support.accounts_factory import signed_in_client


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def client_as(app: FastAPI, db: Database) -> Callable[..., TestClient]:
    """``client_as(role, language=..., display_name=...)``: a client signed in (cookie) as a new user."""

    def make(role: Role | str, **user_kw: Any) -> TestClient:
        client = signed_in_client(app, db, role, **user_kw)
        client.follow_redirects = False
        return client

    return make
