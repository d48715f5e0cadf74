"""Fixtures for the Mastodon connector tests (helpers live in mastodon_world.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mastodon_world import TOKEN, FakeMastodon, MastodonWorld

from resonanz.config import Settings
from resonanz.db.database import Database


@pytest.fixture
def mastodon(db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MastodonWorld:
    """The token comes from a secrets file, as in a container; the environment does not have it."""
    monkeypatch.delenv("RESONANZ_MASTODON_TOKEN", raising=False)
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"RESONANZ_MASTODON_TOKEN": TOKEN}), encoding="utf-8")
    return MastodonWorld(db=db, settings=settings.model_copy(update={"secrets_file": secrets}), server=FakeMastodon())
