"""Signed webhooks: a JSON body POSTed to a URL, with an HMAC-SHA256 signature a receiver checks.

Headers sent::

    X-Resonanz-Timestamp: 1764280800                 (Unix seconds when signed)
    X-Resonanz-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    X-Resonanz-Event: alert.fired

The timestamp is inside the signed text, so a captured request cannot be replayed later: a
receiver rejects a timestamp older than a few minutes (:func:`verify_signature` does both checks,
with a constant-time comparison). The secret lives in the environment or the secrets file
(``RESONANZ_SECRETS_FILE``); the channel config stores only its name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field, field_validator

from resonanz.config import Settings
from resonanz.errors import SignatureError
from resonanz.notifications.base import AudienceConfig, DeliveryResult, Notification, classify_http, failed, retry
from resonanz.sources.secrets import resolve_secret

SIGNATURE_HEADER = "X-Resonanz-Signature"
TIMESTAMP_HEADER = "X-Resonanz-Timestamp"
EVENT_HEADER = "X-Resonanz-Event"
#: how old a signed timestamp a receiver should accept (seconds)
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` signed at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Raise :class:`SignatureError` unless ``body`` carries a valid, fresh signature.
    ``headers`` may use any case (names are compared case-insensitively)."""
    lower = {k.lower(): v for k, v in headers.items()}
    signature = lower.get(SIGNATURE_HEADER.lower())
    stamp = lower.get(TIMESTAMP_HEADER.lower())
    if not signature or not stamp:
        raise SignatureError("signature or timestamp header missing")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("timestamp header is not a number") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError("timestamp too old or in the future (replay?)")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise SignatureError("signature does not match")


def check_url(value: str) -> str:
    url = httpx.URL(value)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http:// or https:// URL")
    return value


def post_json(settings: Settings, url: str, payload: Any, *, headers: Mapping[str, str] | None = None,
              timeout_s: float | None = None) -> DeliveryResult:  # fmt: skip
    """POST ``payload`` (already-encoded bytes, or a JSON-able value) and classify the answer."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json", "User-Agent": settings.user_agent, **(headers or {})}
    try:
        with httpx.Client(timeout=timeout_s or settings.http_timeout_s, follow_redirects=False) as client:
            response = client.post(url, content=body, headers=all_headers)
    except httpx.TimeoutException:
        return retry("timed out")
    except httpx.TransportError as exc:
        return retry(f"{type(exc).__name__}: {exc}"[:300])
    return classify_http(response.status_code, response.headers, body=response.text[:500])


class WebhookConfig(AudienceConfig):
    url: str = Field(max_length=2000)
    #: name of the signing secret in the environment / secrets file; None sends unsigned
    secret_name: str | None = Field(default=None, max_length=200)
    timeout_s: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _url_ok(cls, value: str) -> str:
        return check_url(value)


class WebhookNotifier:
    """POSTs ``{"event", "subject", "text", "language", "link", "data", "sent_at"}`` signed with the secret.

    ``data`` is for machines (stable English keys, numbers as numbers); ``subject`` and ``text``
    are for people, in ``language`` (the channel's)."""

    kind: ClassVar[str] = "webhook"
    title: ClassVar[str] = "Webhook (signed JSON)"
    Config: ClassVar[type[BaseModel]] = WebhookConfig

    def __init__(self, config: WebhookConfig, *, settings: Settings) -> None:
        self.config = config
        self.settings = settings

    def body(self, message: Notification, *, timestamp: int) -> bytes:
        doc = {
            "event": message.event,
            "subject": message.subject,
            "text": message.text,
            "language": message.language,
            "link": message.link,
            "data": message.data,
            "sent_at": timestamp,
        }
        return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def send(self, message: Notification) -> DeliveryResult:
        timestamp = int(time.time())
        body = self.body(message, timestamp=timestamp)
        headers = {TIMESTAMP_HEADER: str(timestamp), EVENT_HEADER: message.event}
        if self.config.secret_name:
            secret = resolve_secret(self.config.secret_name, settings=self.settings)
            if secret is None:
                return failed(f"webhook secret {self.config.secret_name!r} is not set")
            headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        return post_json(self.settings, self.config.url, body, headers=headers, timeout_s=self.config.timeout_s)
