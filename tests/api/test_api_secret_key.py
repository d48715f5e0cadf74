"""The signing key survives restarts and is shared by processes on one data dir."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from resonanz.config import Settings
from resonanz.errors import ConfigError
from resonanz.secret_key import KEY_FILE, app_secret, derived_key


def test_the_key_file_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = app_secret(settings)
    assert app_secret(Settings(data_dir=tmp_path)) == first  # a "restart" reads the same key
    mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert derived_key(settings, "cursor") != derived_key(settings, "csat")


def test_the_environment_wins_and_a_short_key_is_refused(tmp_path: Path) -> None:
    assert app_secret(Settings(data_dir=tmp_path, secret_key="x" * 20)) == b"x" * 20
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(ConfigError, match="at least 16"):
        app_secret(Settings(data_dir=tmp_path, secret_key="short"))


def test_a_cursor_from_before_a_restart_still_works(tmp_path: Path) -> None:
    from resonanz.mentions import cursor

    settings = Settings(data_dir=tmp_path)
    cursor.set_signing_key(derived_key(settings, "cursor"))
    token = cursor.encode("fp", ["2026-01-01", 5])
    cursor.set_signing_key(b"another key entirely, 32 bytes!!")
    cursor.set_signing_key(derived_key(Settings(data_dir=tmp_path), "cursor"))
    assert cursor.decode(token, "fp") == ["2026-01-01", 5]
