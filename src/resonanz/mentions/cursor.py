"""Opaque, signed keyset cursors for the mentions explorer.

A cursor carries the sort key of the last row of a page (``published_at`` or engagement, and the
id) plus a fingerprint of the query it was made for, HMAC-signed so a client can neither forge a
position nor reuse a cursor with another query or sort. Whatever is wrong with it — not base64, a
bad signature, a cursor from another query, an old format — it is an :class:`InputError` located
at ``after``: the client should start again from the first page.

The signing key: :func:`set_signing_key` (the app factory passes a configured secret, so that
several web processes accept each other's cursors); until it is called, a random key made once
per process. Cursors are positions, not credentials — with a per-process key, a restart only
sends clients back to the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

from resonanz.errors import InputError

VERSION = 1
_MAC_BYTES = 16
_key: bytes = secrets.token_bytes(32)


def set_signing_key(key: bytes | str) -> None:
    """Sign and check cursors with ``key`` from now on (cursors signed before become invalid)."""
    global _key
    raw = key.encode() if isinstance(key, str) else key
    if len(raw) < 16:
        raise ValueError("a cursor signing key needs at least 16 bytes")
    _key = hashlib.sha256(b"resonanz-cursor\0" + raw).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(body: bytes) -> bytes:
    return hmac.new(_key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(fingerprint: str, key: list[Any]) -> str:
    """A cursor for the row whose sort key is ``key`` (JSON-able scalars) in the query ``fingerprint``."""
    body = json.dumps([VERSION, fingerprint, key], separators=(",", ":")).encode()
    return _b64(body) + "." + _b64(_mac(body))


def decode(cursor: str, fingerprint: str) -> list[Any]:
    """The sort key in ``cursor``; InputError (location "after") unless it is genuine and made for
    the same query."""
    bad = InputError("the cursor is not valid here; start again from the first page", location="after")
    if len(cursor) > 512 or "." not in cursor:
        raise bad
    body_part, _, mac_part = cursor.partition(".")
    try:
        body, mac = _unb64(body_part), _unb64(mac_part)
    except (binascii.Error, ValueError):
        raise bad from None
    if not hmac.compare_digest(mac, _mac(body)):
        raise bad
    try:
        version, made_for, key = json.loads(body)
    except (ValueError, TypeError):  # cannot happen for a cursor we signed; kept for old formats
        raise bad from None
    if version != VERSION or made_for != fingerprint or not isinstance(key, list):
        raise InputError(
            "the cursor belongs to another search, filter or sort; start again from the first page", location="after"
        )
    return key
