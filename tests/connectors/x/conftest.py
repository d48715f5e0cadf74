"""Fixtures for the X connector tests (the fake API lives in x_world.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from x_world import SECRETS, FakeX

from resonanz.config import Settings


@pytest.fixture
def xapi() -> FakeX:
    return FakeX()


@pytest.fixture
def x_settings(settings: Settings, tmp_path: Path) -> Settings:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps(SECRETS), encoding="utf-8")
    return settings.model_copy(update={"secrets_file": secrets})
