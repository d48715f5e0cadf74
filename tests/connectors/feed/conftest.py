"""Fixtures for the feed connector tests (helpers live in feed_world.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feed_world import FeedWorld, LocalHTTPServer

from resonanz.config import Settings
from resonanz.db.database import Database


@pytest.fixture
def feed_server() -> Iterator[LocalHTTPServer]:
    with LocalHTTPServer() as server:
        yield server


@pytest.fixture
def feeds(db: Database, settings: Settings, feed_server: LocalHTTPServer) -> FeedWorld:
    return FeedWorld(db=db, settings=settings.model_copy(update={"http_timeout_s": 5.0}), server=feed_server)
