"""Fixtures for the Facebook / Instagram connector tests (the fake Graph API is graph_world.py)."""

from __future__ import annotations

import pytest
from graph_world import FakeGraph

from resonanz.config import Settings


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
def fb_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RESONANZ_FACEBOOK_PAGE_TOKEN", "page-token")
    return settings
