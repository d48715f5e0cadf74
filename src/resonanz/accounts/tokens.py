"""Raw secrets and their stored form. Sessions, API tokens and setup tokens are 256-bit random
strings, so SHA-256 (fast, unsalted) is enough to keep them useless if the table leaks."""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "rz_"  # noqa: S105 - a marker, not a secret
#: Characters of an API token kept in clear to tell tokens apart in lists ("rz_Ab3dE…").
DISPLAY_PREFIX_LEN = 9


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
