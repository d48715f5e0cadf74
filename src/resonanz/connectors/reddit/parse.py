"""Map one Reddit thing (a ``t3`` post or a ``t1`` comment) to a :class:`MentionIn` (pure).

The raw item is ``{"thing": {"kind": "t3" | "t1", "data": {...}}}`` exactly as a listing's
``children`` hold it. Platform quirks handled here:

* **Ids** are fullnames (``t3_1b4xyz``, ``t1_kt0abc``), global on Reddit. A comment's
  ``parent_id`` is the fullname of the comment or post it answers, ``link_id`` the post, which
  gives ``parent_external_id`` and ``thread_external_id`` directly; a post is its own thread.
* **HTML**: ``selftext_html`` / ``body_html`` are HTML *escaped once more* (``&lt;p&gt;``), so they
  are unescaped before sanitising; the plain text comes from that HTML (the Markdown source is
  kept in raw).
* **Edits**: ``edited`` is ``false`` or the edit time; an edited thing pulled again has new text
  and becomes a new revision.
* **Deletions** are visible: a deleted or removed thing keeps its id with the text ``[deleted]``
  / ``[removed]`` and no author; it is stored with that text and ``raw.resonanz_deleted = true``,
  so a known mention shows as deleted rather than silently staying as it was.
"""

from __future__ import annotations

import html as html_lib
import json
from datetime import UTC, datetime
from typing import Any

from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import html_to_text, normalize_whitespace, sanitize_html

PLATFORM = "reddit"
WEB = "https://www.reddit.com"
DELETED_TEXTS = frozenset({"[deleted]", "[removed]"})
NO_AUTHOR = frozenset({"", "[deleted]"})


def thing_time(data: dict[str, Any]) -> datetime | None:
    value = data.get("created_utc")
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(float(value), UTC)
    return None


def load(item: RawItem) -> tuple[str, dict[str, Any]]:
    try:
        payload = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    thing = payload.get("thing") if isinstance(payload, dict) else None
    if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
        raise ParseError("payload has no thing with data", location=item.location)
    kind = str(thing.get("kind") or "")
    if kind not in ("t1", "t3"):
        raise ParseError(f"thing of kind {kind!r} is neither a post (t3) nor a comment (t1)", location=item.location)
    return kind, thing["data"]


def body_of(kind: str, data: dict[str, Any]) -> tuple[str, str | None]:
    """(plain text, sanitised HTML or None)."""
    escaped = data.get("body_html" if kind == "t1" else "selftext_html")
    markdown = str(data.get("body" if kind == "t1" else "selftext") or "")
    if isinstance(escaped, str) and escaped:
        markup = html_lib.unescape(escaped)
        return html_to_text(markup), sanitize_html(markup)
    return normalize_whitespace(html_lib.unescape(markdown)), None


def media_of(kind: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    if kind != "t3" or data.get("is_self"):
        return []
    link = data.get("url_overridden_by_dest") or data.get("url")
    return [{"url": str(link), "kind": "link"}] if isinstance(link, str) and link.startswith("http") else []


def parse_thing(item: RawItem) -> MentionIn:
    """See the module docstring; raises ParseError with the reason."""
    kind, data = load(item)
    name = str(data.get("name") or (f"{kind}_{data['id']}" if data.get("id") else ""))
    if not name.startswith(kind + "_"):
        raise ParseError(f"thing has no fullname {kind}_… (got {name!r})", location=item.location)
    published_at = thing_time(data)
    if published_at is None:
        raise ParseError("thing has no created_utc", location=item.location)
    text, html = body_of(kind, data)
    title = normalize_whitespace(html_lib.unescape(str(data.get("title") or ""))) or None if kind == "t3" else None
    if not (title or text):
        raise ParseError("thing has no title and no text", location=item.location)
    author = str(data.get("author") or "")
    raw: dict[str, Any] = {"kind": kind, "data": data}
    if text in DELETED_TEXTS and author in NO_AUTHOR:
        raw["resonanz_deleted"] = True
    parent = str(data["parent_id"]) if kind == "t1" and data.get("parent_id") else None
    thread = str(data["link_id"]) if kind == "t1" and data.get("link_id") else name
    metrics = {
        key: data[field]
        for key, field in (("score", "score"), ("comments", "num_comments"), ("upvote_ratio", "upvote_ratio"))
        if isinstance(data.get(field), int | float) and not isinstance(data.get(field), bool)
    }
    permalink = data.get("permalink")
    return MentionIn(
        platform=PLATFORM,
        external_id=name[:500],
        kind=MentionKind.COMMENT if kind == "t1" else MentionKind.POST,
        url=f"{WEB}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else None,
        author=None if author in NO_AUTHOR else AuthorIn(handle=author[:300], url=f"{WEB}/user/{author}"),
        parent_external_id=parent,
        thread_external_id=thread,
        published_at=published_at,
        title=title,
        text=text,
        html=html,
        media=media_of(kind, data),
        metrics=metrics,
        raw=raw,
    )
