"""Fixtures for the Hacker News connector tests (helpers live in hackernews_world.py)."""

from __future__ import annotations

import pytest
from hackernews_world import FakeAlgolia, HackerNewsWorld

from resonanz.config import Settings
from resonanz.db.database import Database


@pytest.fixture
def hackernews(db: Database, settings: Settings) -> HackerNewsWorld:
    return HackerNewsWorld(db=db, settings=settings, server=FakeAlgolia())
