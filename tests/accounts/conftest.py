"""Fixtures for the accounts tests: the whole app on the test database, and a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from resonanz import clock
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


class FrozenClock:
    """Time stands still until the test moves it."""

    def __init__(self) -> None:
        self.current = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kw: float) -> None:
        self.current += timedelta(**kw)


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    fc = FrozenClock()
    clock.set_clock(fc)
    yield fc
    clock.set_clock(None)
