"""Fixtures for the Bluesky connector tests (helpers live in bluesky_world.py)."""

from __future__ import annotations

import pytest
from bluesky_world import APP_PASSWORD, BlueskyWorld, FakeBluesky

from resonanz.config import Settings
from resonanz.db.database import Database


@pytest.fixture
def bluesky(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> BlueskyWorld:
    """The app password comes from the environment, as `export RESONANZ_BLUESKY_APP_PASSWORD=…` sets it."""
    monkeypatch.setenv("RESONANZ_BLUESKY_APP_PASSWORD", APP_PASSWORD)
    return BlueskyWorld(db=db, settings=settings, server=FakeBluesky())
