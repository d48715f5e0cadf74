"""Map one hit of the Hacker News Algolia API to a :class:`MentionIn` (pure; no I/O).

The raw item is ``{"api": "<base URL>", "hit": {...}}`` with the hit exactly as
``/api/v1/search_by_date`` returns it. Platform quirks handled here:

* **Ids** are Hacker News item ids (``objectID``), global across HN, so they are the external id
  as they are; ``parent_id`` and ``story_id`` are item ids too, which gives the thread
  structure directly: a comment's parent is ``parent_id`` (the story or another comment), its
  thread the story. A story is its own thread.
* **Text**: ``comment_text`` / ``story_text`` are HTML with entities even inside URLs
  (``https:&#x2F;&#x2F;``); the text is stripped, the HTML sanitised.
* **Titles**: stories have ``title``; comments only carry the story's (``story_title``, kept in raw).
* The item's page is ``https://news.ycombinator.com/item?id=<id>``; a story's link (``url``) is
  kept as a media entry of kind ``link``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import html_to_text, normalize_whitespace, sanitize_html

PLATFORM = "hackernews"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
USER_URL = "https://news.ycombinator.com/user?id={}"


def hit_time(hit: dict[str, Any]) -> datetime | None:
    """``created_at_i`` (Unix seconds), else ``created_at`` (ISO 8601)."""
    stamp = hit.get("created_at_i")
    if isinstance(stamp, int) and stamp > 0:
        return datetime.fromtimestamp(stamp, UTC)
    value = hit.get("created_at")
    if isinstance(value, str) and value:
        try:
            return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def load(item: RawItem) -> dict[str, Any]:
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    if not isinstance(data, dict) or not isinstance(data.get("hit"), dict):
        raise ParseError("payload has no 'hit' object", location=item.location)
    hit: dict[str, Any] = data["hit"]
    return hit


def parse_hit(item: RawItem) -> MentionIn:
    """See the module docstring; raises ParseError with the reason."""
    hit = load(item)
    object_id = str(hit.get("objectID") or "")
    if not object_id.isdigit():
        raise ParseError(f"hit has no numeric objectID (got {object_id!r})", location=item.location)
    published_at = hit_time(hit)
    if published_at is None:
        raise ParseError("hit has neither created_at_i nor a valid created_at", location=item.location)
    tags = hit.get("_tags") if isinstance(hit.get("_tags"), list) else []
    is_comment = "comment" in (tags or []) or hit.get("comment_text") is not None
    body = str(hit.get("comment_text") or hit.get("story_text") or "")
    title = None if is_comment else normalize_whitespace(html_to_text(str(hit.get("title") or ""))) or None
    text = html_to_text(body) if body else ""
    if not (title or text):
        raise ParseError("hit has no title and no text", location=item.location)
    parent = str(hit["parent_id"]) if is_comment and hit.get("parent_id") else None
    story = str(hit["story_id"]) if hit.get("story_id") else None
    author = str(hit.get("author") or "")
    metrics = {
        name: hit[field]
        for name, field in (("points", "points"), ("comments", "num_comments"))
        if isinstance(hit.get(field), int)
    }
    link = hit.get("url")
    return MentionIn(
        platform=PLATFORM,
        external_id=object_id,
        kind=MentionKind.COMMENT if is_comment else MentionKind.POST,
        url=ITEM_URL.format(object_id),
        author=AuthorIn(handle=author[:300], url=USER_URL.format(author)) if author else None,
        parent_external_id=parent,
        thread_external_id=(story or object_id) if is_comment else object_id,
        published_at=published_at,
        title=title,
        text=text,
        html=sanitize_html(body) if body else None,
        media=[{"url": str(link), "kind": "link"}] if isinstance(link, str) and link else [],
        metrics=metrics,
        raw={k: v for k, v in hit.items() if k != "_highlightResult"},
    )
