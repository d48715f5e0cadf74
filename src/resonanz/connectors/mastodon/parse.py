"""Map one Mastodon status (or mention notification) to a :class:`MentionIn` (pure; no I/O).

The raw item is ``{"instance": "https://host", "status": {...}}`` or
``{"instance": ..., "notification": {...}}`` with the objects exactly as the REST API returns them
(``Status`` and ``Notification`` entities). Platform quirks handled here:

* **Ids.** Status ids are local to the instance that served them (the same post has another id
  on every server), so the external id is ``<host>/<id>``; ``in_reply_to_id`` is local to the same
  instance, which makes the parent ``<host>/<in_reply_to_id>`` - the form the parent's own id
  takes when it is pulled from that instance. The REST API does not name a conversation's root,
  so ``thread_external_id`` is only set for top-level posts (their own id): replies hang off
  their parent.
* **Authors.** ``acct`` is ``user`` for accounts of the serving instance and ``user@domain``
  for remote ones; the handle is always the full ``user@domain``.
* **Boosts** (``reblog`` set) are mapped as the boosted status: the boost itself says nothing.
* **Edits.** A status edited after we stored it comes back with ``edited_at`` and new content;
  the revision hash changes and ingest stores a new revision.
* **HTML.** ``content`` is HTML: the text is stripped, the HTML sanitised; a content warning
  (``spoiler_text``) becomes the title.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import html_to_text, normalize_whitespace, sanitize_html

PLATFORM = "mastodon"


def host_of(instance: str) -> str:
    return (urlsplit(instance).hostname or instance).lower()


def status_key(host: str, status_id: str) -> str:
    """The external id of status ``status_id`` as served by ``host``."""
    return f"{host}/{status_id}"


def split_key(external_id: str) -> tuple[str, str]:
    """``(host, local id)`` of an external id made by :func:`status_key`."""
    host, sep, local = external_id.rpartition("/")
    if not sep or not host or not local.isdigit():
        raise ValueError(f"{external_id!r} is not a Mastodon id of the form <host>/<status id>")
    return host, local


def full_acct(account: dict[str, Any], host: str) -> str:
    acct = str(account.get("acct") or account.get("username") or "").lstrip("@")
    if not acct:
        return ""
    return acct if "@" in acct else f"{acct}@{host}"


def author_of(account: Any, host: str) -> AuthorIn | None:
    if not isinstance(account, dict):
        return None
    handle = full_acct(account, host)
    if not handle:
        return None
    followers = account.get("followers_count")
    return AuthorIn(
        handle=handle[:300],
        name=(normalize_whitespace(str(account.get("display_name") or "")) or None),
        url=str(account["url"]) if account.get("url") else None,
        followers=followers if isinstance(followers, int) and followers >= 0 else None,
    )


def parse_time(value: Any, location: str, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise ParseError(f"status has no {field}", location=location)
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise ParseError(f"{field} {value!r} is not an ISO 8601 time", location=location) from exc


def media_of(status: dict[str, Any]) -> list[dict[str, Any]]:
    media: list[dict[str, Any]] = []
    for attachment in status.get("media_attachments") or []:
        if isinstance(attachment, dict) and (attachment.get("url") or attachment.get("remote_url")):
            entry = {"url": attachment.get("url") or attachment.get("remote_url"), "kind": attachment.get("type")}
            if attachment.get("description"):
                entry["alt"] = attachment["description"]
            media.append(entry)
    return media


def load(item: RawItem) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """(instance host, status, notification or None), or a ParseError saying what is missing."""
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    if not isinstance(data, dict) or not data.get("instance"):
        raise ParseError("payload has no 'instance'", location=item.location)
    notification = data.get("notification")
    status = notification.get("status") if isinstance(notification, dict) else data.get("status")
    if not isinstance(status, dict):
        raise ParseError("payload has no status object", location=item.location)
    if isinstance(status.get("reblog"), dict):
        status = status["reblog"]
    return host_of(str(data["instance"])), status, notification if isinstance(notification, dict) else None


def parse_status(item: RawItem) -> MentionIn:
    """See the module docstring; raises ParseError with the reason."""
    host, status, notification = load(item)
    status_id = str(status.get("id") or "")
    if not status_id:
        raise ParseError("status has no id", location=item.location)
    published_at = parse_time(status.get("created_at"), item.location, "created_at")
    content = str(status.get("content") or "")
    text = html_to_text(content)
    media = media_of(status)
    if not text and not media:
        raise ParseError("status has no content and no media", location=item.location)
    parent_id = status.get("in_reply_to_id")
    key = status_key(host, status_id)
    parent = status_key(host, str(parent_id)) if parent_id else None
    visibility = str(status.get("visibility") or "public")
    kind = MentionKind.MESSAGE if visibility == "direct" else (MentionKind.COMMENT if parent else MentionKind.POST)
    raw: dict[str, Any] = {"status": status}
    if notification is not None:
        raw["notification"] = {k: v for k, v in notification.items() if k != "status"}
    metrics = {
        name: status[field]
        for name, field in (("replies", "replies_count"), ("reposts", "reblogs_count"), ("likes", "favourites_count"))
        if isinstance(status.get(field), int)
    }
    language = status.get("language")
    return MentionIn(
        platform=PLATFORM,
        external_id=key,
        kind=kind,
        url=str(status.get("url") or status.get("uri") or "") or None,
        author=author_of(status.get("account"), host),
        parent_external_id=parent,
        thread_external_id=None if parent else key,
        published_at=published_at,
        title=normalize_whitespace(str(status.get("spoiler_text") or "")) or None,
        text=text,
        html=sanitize_html(content) if content else None,
        language_hint=str(language)[:20] if language else None,
        media=media,
        metrics=metrics,
        raw=raw,
    )
