"""Fixtures for the YouTube connector tests (the fake API lives in youtube_world.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from youtube_world import FakeYouTube

from resonanz.config import Settings


@pytest.fixture
def youtube() -> FakeYouTube:
    return FakeYouTube()


@pytest.fixture
def yt_settings(settings: Settings, tmp_path: Path) -> Settings:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"RESONANZ_YOUTUBE_API_KEY": "yt-key", "RESONANZ_YOUTUBE_CLIENT_SECRET": "cs",
                                   "RESONANZ_YOUTUBE_REFRESH_TOKEN": "1//refresh"}), encoding="utf-8")  # fmt: skip
    return settings.model_copy(update={"secrets_file": secrets})
