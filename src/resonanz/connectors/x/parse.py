"""Map one post (``Tweet`` object of the X API v2) to a :class:`MentionIn` (pure; no I/O).

The raw item is ``{"tweet": {...}, "author": {...}}``: the post with the fields the connector
asks for, and its author from ``includes.users``. Quirks handled:

* **Edits.** An edited post gets a *new* id; ``edit_history_tweet_ids`` lists every version,
  the original first. The external id is that original id, so an edit is a new revision of the
  same mention instead of a second mention.
* **Threads.** ``conversation_id`` is the id of the post that started the conversation: the
  thread. The parent is the ``referenced_tweets`` entry of type ``replied_to``.
* **Authors.** ``username`` (without ``@``) is the handle; it can change, the numeric id is kept
  in ``raw``.
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

PLATFORM = "x"
METRICS = {"retweet_count": "reposts", "reply_count": "replies", "like_count": "likes", "quote_count": "quotes",
           "impression_count": "views"}  # fmt: skip


def original_id(tweet: dict[str, Any]) -> str:
    history = tweet.get("edit_history_tweet_ids")
    if isinstance(history, list) and history:
        return str(history[0])
    return str(tweet.get("id") or "")


def parent_of(tweet: dict[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to" and ref.get("id"):
            return str(ref["id"])
    return None


def parse_tweet(item: RawItem) -> MentionIn:
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    tweet = data.get("tweet") if isinstance(data, dict) else None
    if not isinstance(tweet, dict) or not tweet.get("id"):
        raise ParseError("payload has no tweet with an id", location=item.location)
    try:
        created = ensure_utc(datetime.fromisoformat(str(tweet.get("created_at")).replace("Z", "+00:00")))
    except ValueError as exc:
        raise ParseError("the post has no readable created_at (ask for tweet.fields=created_at)",
                         location=item.location) from exc  # fmt: skip
    text = normalize_whitespace(str(tweet.get("note_tweet", {}).get("text") or tweet.get("text") or ""))
    if not text:
        raise ParseError("the post has no text", location=item.location)
    user = data.get("author") if isinstance(data.get("author"), dict) else {}
    author = None
    if user.get("username"):
        followers = (user.get("public_metrics") or {}).get("followers_count")
        author = AuthorIn(handle=str(user["username"])[:300], name=str(user.get("name") or "")[:300] or None,
                          url=f"https://x.com/{user['username']}",
                          followers=followers if isinstance(followers, int) and followers >= 0 else None)  # fmt: skip
    parent = parent_of(tweet)
    key = original_id(tweet)
    metrics = {name: (tweet.get("public_metrics") or {}).get(field) for field, name in METRICS.items()}
    handle = user.get("username") or "i"
    return MentionIn(
        platform=PLATFORM,
        external_id=key,
        kind=MentionKind.COMMENT if parent else MentionKind.POST,
        url=f"https://x.com/{handle}/status/{tweet['id']}",
        author=author,
        parent_external_id=parent,
        thread_external_id=str(tweet.get("conversation_id") or key),
        published_at=created,
        text=text,
        language_hint=str(tweet["lang"])[:20] if tweet.get("lang") and tweet.get("lang") != "und" else None,
        metrics={k: v for k, v in metrics.items() if isinstance(v, int)},
        raw={"tweet": tweet, "author_id": user.get("id")},
    )
