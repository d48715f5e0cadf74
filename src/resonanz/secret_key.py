"""The installation's signing key: cursors, signed links and tokens that must survive a restart
and be accepted by every web process.

Why not a random key per process: a restart (or a second process behind a load balancer) would
reject every cursor and signed link made before. ``RESONANZ_SECRET_KEY`` wins; without it the key
is made once and kept in ``<data_dir>/secret.key`` (mode 0600) — right for the one-machine
default; several machines must share the environment variable.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from resonanz.config import Settings
from resonanz.errors import ConfigError

KEY_FILE = "secret.key"
MIN_KEY_CHARS = 16


def app_secret(settings: Settings) -> bytes:
    """The raw key; raises ConfigError for a configured key that is too short."""
    if settings.secret_key is not None:
        if len(settings.secret_key) < MIN_KEY_CHARS:
            raise ConfigError(f"RESONANZ_SECRET_KEY must be at least {MIN_KEY_CHARS} characters")
        return settings.secret_key.encode()
    return _file_key(Path(settings.data_dir) / KEY_FILE)


def derived_key(settings: Settings, purpose: str) -> bytes:
    """A key for one purpose ("cursor", "csat" …), so one leaked derived key signs nothing else."""
    return hashlib.sha256(b"resonanz\0" + purpose.encode() + b"\0" + app_secret(settings)).digest()


def _file_key(path: Path) -> bytes:
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= MIN_KEY_CHARS:
        return existing.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_urlsafe(48)
    try:
        # O_EXCL: two processes starting together keep the first one's key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(fresh + "\n")
    return fresh.encode()
