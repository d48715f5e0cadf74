"""Map one Twilio inbound-message webhook to a :class:`MentionIn` (pure; no I/O).

Twilio posts ``application/x-www-form-urlencoded`` parameters (``MessageSid``, ``AccountSid``,
``From``, ``To``, ``Body``, ``NumMedia``, ``MediaUrl0`` / ``MediaContentType0`` ..., the
``From*`` geography for SMS, ``ProfileName`` and ``WaId`` for WhatsApp). The raw item is those
parameters as a JSON object; its context holds ``received_at`` because the webhook itself carries
no time. Quirks handled:

* **Channel.** WhatsApp addresses are ``whatsapp:+4915...``; everything else is SMS/MMS. The
  mention's platform is ``whatsapp`` or ``sms`` accordingly.
* **Threads.** SMS and WhatsApp have no threads: a conversation is the pair of numbers, so
  ``thread_external_id`` is ``<channel>:<our number>:<customer number>`` and every message of
  that pair lands in one thread; there is no parent.
* **Status callbacks** (``MessageStatus`` without ``Body``) are not mentions: :func:`is_status_callback`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import normalize_whitespace

WHATSAPP = "whatsapp:"
MAX_MEDIA = 10  # Twilio allows up to 10 media items per message


def channel_of(address: str) -> str:
    return "whatsapp" if address.startswith(WHATSAPP) else "sms"


def bare_number(address: str) -> str:
    return address.removeprefix(WHATSAPP)


def thread_key(ours: str, theirs: str) -> str:
    """One conversation per (channel, our number, customer number)."""
    return f"{channel_of(theirs)}:{bare_number(ours)}:{bare_number(theirs)}"


def is_status_callback(params: dict[str, str]) -> bool:
    return "MessageStatus" in params and "Body" not in params


def load(item: RawItem) -> dict[str, str]:
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    if not isinstance(data, dict):
        raise ParseError("payload is not an object of webhook parameters", location=item.location)
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str | int | float)}


def parse_inbound(item: RawItem) -> MentionIn:
    params = load(item)
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid")
    if not sid:
        raise ParseError("the webhook has no MessageSid", location=item.location)
    sender, ours = params.get("From", ""), params.get("To", "")
    if not sender or not ours:
        raise ParseError("the webhook has no From or To", location=item.location)
    received = item.context.get("received_at")
    try:
        published_at = ensure_utc(datetime.fromisoformat(str(received)))
    except (TypeError, ValueError) as exc:
        raise ParseError("the raw item has no received_at time", location=item.location) from exc
    try:
        count = min(int(params.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError as exc:
        raise ParseError(f"NumMedia {params.get('NumMedia')!r} is not a number", location=item.location) from exc
    media = [
        {"url": params[f"MediaUrl{i}"], "kind": params.get(f"MediaContentType{i}") or "unknown"}
        for i in range(count)
        if params.get(f"MediaUrl{i}")
    ]
    text = normalize_whitespace(params.get("Body", ""))
    if not text and not media:
        raise ParseError("the message has no Body and no media", location=item.location)
    name = normalize_whitespace(params.get("ProfileName", "")) or None
    return MentionIn(
        platform=channel_of(sender),
        external_id=sid,
        kind=MentionKind.MESSAGE,
        author=AuthorIn(handle=sender[:300], name=name[:300] if name else None),
        thread_external_id=thread_key(ours, sender),
        published_at=published_at,
        text=text,
        media=media,
        raw={k: v for k, v in params.items() if not k.startswith("MediaUrl")} | {"media": len(media)},
    )


def raw_item(params: dict[str, str], *, received_at: datetime) -> RawItem:
    """The webhook's parameters as a raw item (what the quarantine keeps and a replay parses)."""
    payload = json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    sid = params.get("MessageSid") or "?"
    return RawItem(payload=payload, location=f"webhook {sid}", context={"received_at": received_at.isoformat()})


def result_of(message: Any) -> tuple[str, str | None]:
    """(sid, date_created) of a Messages API resource."""
    if not isinstance(message, dict) or not message.get("sid"):
        raise ValueError("the Messages API answered without a message sid")
    return str(message["sid"]), message.get("date_created")
