"""Fixtures for the e-mail connector tests: real dovecot + aiosmtpd (see email_servers.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from email_servers import PASSWORD, Dovecot, Smtp, start_dovecot, start_smtp

from resonanz.config import Settings


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    yield from start_dovecot(tmp_path)


@pytest.fixture
def smtp(dovecot: Dovecot) -> Iterator[Smtp]:
    yield from start_smtp(dovecot)


@pytest.fixture
def mail_settings(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The mailbox password comes from a secrets file, as in a container."""
    monkeypatch.delenv("RESONANZ_EMAIL_PASSWORD", raising=False)
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"RESONANZ_EMAIL_PASSWORD": PASSWORD}), encoding="utf-8")
    return settings.model_copy(update={"secrets_file": secrets, "http_timeout_s": 10.0})
