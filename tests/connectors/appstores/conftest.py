"""Fixtures for the app-store connector tests (fakes in appstores_world.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appstores_world import FakeApple, FakePlay

from resonanz.config import Settings


@pytest.fixture
def play() -> FakePlay:
    return FakePlay()


@pytest.fixture
def apple() -> FakeApple:
    return FakeApple()


@pytest.fixture
def store_settings(settings: Settings, tmp_path: Path, play: FakePlay, apple: FakeApple) -> Settings:
    """The service-account key and the .p8 key come from a secrets file, as in a container."""
    secrets = tmp_path / "secrets.json"
    secrets.write_text(
        json.dumps({"RESONANZ_GOOGLE_PLAY_SERVICE_ACCOUNT": play.service_account(),
                    "RESONANZ_APPSTORE_PRIVATE_KEY": apple.private_key()}),
        encoding="utf-8",
    )  # fmt: skip
    return settings.model_copy(update={"secrets_file": secrets})
