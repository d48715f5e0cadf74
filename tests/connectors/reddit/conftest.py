"""Fixtures for the Reddit connector tests (helpers live in reddit_world.py)."""

from __future__ import annotations

import pytest
from reddit_world import PASSWORD, SECRET, FakeReddit, RedditWorld

from resonanz.config import Settings
from resonanz.db.database import Database


@pytest.fixture
def reddit(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> RedditWorld:
    monkeypatch.setenv("RESONANZ_REDDIT_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("RESONANZ_REDDIT_PASSWORD", PASSWORD)
    return RedditWorld(db=db, settings=settings, server=FakeReddit())
