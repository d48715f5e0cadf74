"""Map Graph API objects to mentions (pure; no I/O).

The raw item is ``{"network": "facebook"|"instagram", "kind": "post"|"comment", "object": {...},
"root": <post or media id>}``:

* **Facebook** Page posts (``/{page-id}/feed``: ``id`` = ``<page>_<post>``, ``message``,
  ``created_time``, ``updated_time``, ``from``, ``permalink_url``) and their comments
  (``/{post-id}/comments?filter=stream``: every comment and reply flat, a reply naming its
  ``parent``). Times look like ``2026-11-27T09:12:44+0000``.
* **Instagram** comments on the account's media (``/{media-id}/comments``: ``id``, ``text``,
  ``timestamp``, ``username``, ``from``, and ``replies``; a reply names ``parent_id``).

Threads: a post (or a media item) is the root; a top-level comment's parent is the post, a
reply's parent is its comment. Instagram media are not stored as mentions, so a top-level
Instagram comment has no parent but the media id as thread.
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


def graph_time(value: Any) -> datetime | None:
    """``2026-11-27T09:12:44+0000`` (Graph's ISO 8601 without the colon in the offset)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return ensure_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def parse_graph(item: RawItem) -> MentionIn:
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not obj.get("id"):
        raise ParseError("payload has no Graph object with an id", location=item.location)
    network = str(data.get("network") or "facebook")
    instagram = network == "instagram"
    created = graph_time(obj.get("timestamp") if instagram else obj.get("created_time"))
    if created is None:
        raise ParseError("the object has no readable created_time / timestamp", location=item.location)
    text = normalize_whitespace(str(obj.get("text") if instagram else obj.get("message") or "") or "")
    if not text:
        raise ParseError("the object has no text (message / text)", location=item.location)
    root = str(data.get("root") or obj["id"])
    is_post = data.get("kind") == "post"
    if instagram:
        parent = obj.get("parent_id")
    else:
        found = obj.get("parent")
        parent = found.get("id") if isinstance(found, dict) else (None if is_post else root)
    found_from = obj.get("from")
    sender: dict[str, Any] = found_from if isinstance(found_from, dict) else {}
    handle = str(obj.get("username") or sender.get("username") or sender.get("id") or "")
    name = str(sender.get("name") or obj.get("username") or "") or None
    author = AuthorIn(handle=f"{network}:{handle}"[:300], name=name[:300] if name else None) if handle else None
    metrics = {"likes": obj["like_count"]} if isinstance(obj.get("like_count"), int) else {}
    return MentionIn(
        platform=network,
        external_id=str(obj["id"]),
        kind=MentionKind.POST if is_post else MentionKind.COMMENT,
        url=str(obj.get("permalink_url") or obj.get("permalink") or "") or None,
        author=author,
        parent_external_id=str(parent) if parent else None,
        thread_external_id=root,
        published_at=created,
        text=text,
        metrics=metrics,
        raw={"object": obj, "root": root},
    )
