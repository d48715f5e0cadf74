"""Pure mapping for the outbound webhook: the signed request body for a reply, and the receiver's
answer as a :class:`~resonanz.connectors.base.PublishResult`. No I/O here, so both are tested
without a server and the connector only adds the HTTP call."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from resonanz.connectors.base import OutgoingReply, PublishResult
from resonanz.errors import ConnectorPermanentError

PLATFORM = "outbound_webhook"
SIGNATURE_HEADER = "X-Resonanz-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def body_of(reply: OutgoingReply, *, platform: str | None = None) -> bytes:
    """The JSON document sent: the same bytes on every try of one outbox entry (sorted keys, no
    time of sending), so a receiver may compare a repeated key's bodies."""
    doc: dict[str, Any] = {
        "type": "resonanz.reply",
        "idempotency_key": reply.idempotency_key,
        "created_at": reply.created_utc.isoformat().replace("+00:00", "Z"),
        "kind": reply.kind.value,
        "in_reply_to": reply.in_reply_to,
        "recipient": reply.recipient,
        "platform": platform,
        "text": reply.text,
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the exact body>``, the inbound webhook's scheme."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def result_of(answer: bytes, reply: OutgoingReply, *, at: datetime) -> PublishResult:
    """The receiver may answer ``{"id": "...", "url": "..."}``; an empty or non-JSON 2xx body means
    "accepted" and the reply's id is its idempotency key."""
    data: Any = None
    if answer.strip():
        try:
            data = json.loads(answer)
        except ValueError:
            data = None
    external_id = f"{PLATFORM}:{reply.idempotency_key}"
    url = None
    if isinstance(data, dict):
        given = data.get("id")
        if given is not None and not isinstance(given, str | int):
            raise ConnectorPermanentError("the receiver answered an 'id' that is not a string or number")
        if given is not None and str(given).strip():
            external_id = str(given)[:500]
        if isinstance(data.get("url"), str):
            url = data["url"]
    return PublishResult(platform=PLATFORM, external_id=external_id, url=url, published_at=at, raw=data)
