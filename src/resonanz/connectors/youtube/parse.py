"""Map one YouTube comment (``youtube#comment`` resource, Data API v3) to a mention (pure).

The raw item is ``{"comment": {...}, "thread": {...}}``: the comment as the API returned it, and
for a top-level comment the thread's own fields (``totalReplyCount``, ``canReply``) without its
replies. Quirks handled:

* **Ids and threads.** A thread's id is its top-level comment's id; a reply's id is
  ``<top-level id>.<suffix>`` and its ``snippet.parentId`` names the top-level comment (YouTube
  threads are one level deep). So ``thread_external_id`` is the top-level id for both, and a
  reply's parent is the top-level comment.
* **Text.** ``textOriginal`` is what the author typed (only returned to the author or with
  ``textFormat=plainText``); ``textDisplay`` is HTML. The text is ``textOriginal`` when present,
  else ``textDisplay`` stripped; the sanitised HTML is kept.
* **Edits.** ``updatedAt`` later than ``publishedAt``: the revision hash changes with the text.
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
from resonanz.mentions.text import html_to_text, normalize_whitespace, sanitize_html

PLATFORM = "youtube"


def parse_time(value: Any, location: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise ParseError("the comment has no publishedAt", location=location)
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise ParseError(f"publishedAt {value!r} is not an ISO 8601 time", location=location) from exc


def top_level_id(comment_id: str) -> str:
    """The thread (top-level comment) id of any comment id."""
    return comment_id.split(".", 1)[0]


def parse_comment(item: RawItem) -> MentionIn:
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    comment = data.get("comment") if isinstance(data, dict) else None
    if not isinstance(comment, dict) or not comment.get("id") or not isinstance(comment.get("snippet"), dict):
        raise ParseError("payload has no comment with an id and a snippet", location=item.location)
    snippet: dict[str, Any] = comment["snippet"]
    comment_id = str(comment["id"])
    published = parse_time(snippet.get("publishedAt"), item.location)
    display = str(snippet.get("textDisplay") or "")
    text = normalize_whitespace(str(snippet.get("textOriginal") or "")) or html_to_text(display)
    if not text:
        raise ParseError("the comment has no text", location=item.location)
    parent = snippet.get("parentId")
    thread = top_level_id(comment_id)
    channel = snippet.get("authorChannelId")
    channel_id = channel.get("value") if isinstance(channel, dict) else None
    name = normalize_whitespace(str(snippet.get("authorDisplayName") or "")) or None
    author = None
    if channel_id or name:
        author = AuthorIn(handle=str(channel_id or name)[:300], name=name[:300] if name else None,
                          url=str(snippet.get("authorChannelUrl") or "") or None)  # fmt: skip
    video = snippet.get("videoId")
    metrics = {"likes": snippet["likeCount"]} if isinstance(snippet.get("likeCount"), int) else {}
    thread_info = data.get("thread") if isinstance(data.get("thread"), dict) else {}
    if isinstance(thread_info.get("totalReplyCount"), int):
        metrics["replies"] = thread_info["totalReplyCount"]
    return MentionIn(
        platform=PLATFORM,
        external_id=comment_id,
        kind=MentionKind.COMMENT,
        url=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
        author=author,
        parent_external_id=str(parent) if parent else None,
        thread_external_id=thread,
        published_at=published,
        text=text,
        html=sanitize_html(display) if display else None,
        metrics=metrics,
        raw={"comment": comment, "thread": thread_info, "video_id": video},
    )
