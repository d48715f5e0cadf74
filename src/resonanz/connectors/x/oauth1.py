"""OAuth 1.0a request signing (RFC 5849, HMAC-SHA1) as X documents it for user-context writes:
X's OAuth 2.0 refresh tokens rotate on every use, which would mean writing a new secret after
each send; OAuth 1.0a access tokens do not expire, so the secrets stay where the operator put them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from urllib.parse import quote


def enc(value: str) -> str:
    """RFC 3986 percent-encoding (unreserved characters kept), as OAuth 1.0a requires."""
    return quote(value, safe="-._~")


def signature(method: str, url: str, params: Iterable[tuple[str, str]], consumer_secret: str, token_secret: str) -> str:
    """The HMAC-SHA1 signature over the signature base string (method, URL, sorted parameters)."""
    pairs = sorted((enc(k), enc(v)) for k, v in params)
    base = "&".join([method.upper(), enc(url), enc("&".join(f"{k}={v}" for k, v in pairs))])
    key = f"{enc(consumer_secret)}&{enc(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


def authorization(
    method: str,
    url: str,
    *,
    query: Iterable[tuple[str, str]] = (),
    consumer_key: str,
    consumer_secret: str,
    token: str,
    token_secret: str,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The ``Authorization: OAuth ...`` header for one request (JSON bodies are not signed)."""
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp or int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    oauth["oauth_signature"] = signature(method, url, [*oauth.items(), *query], consumer_secret, token_secret)
    return "OAuth " + ", ".join(f'{enc(k)}="{enc(v)}"' for k, v in sorted(oauth.items()))
