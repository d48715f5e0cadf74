"""Bluesky (AT Protocol) posts mapped to mentions, and the pure parts of posting (pure; no I/O).

The raw item is ``{"service": "https://bsky.social", "post": <app.bsky.feed.defs#postView>}``
(from ``app.bsky.feed.searchPosts``) or ``{"service": ..., "notification": <notification>}``
(from ``app.bsky.notification.listNotifications``; its ``record`` is the post record itself, without
the counts and embed views a postView has). Platform quirks handled here:

* **Ids** are the post's ``at://`` URI, the same everywhere in the network.
* **Threads**: a reply's record carries ``reply.parent`` and ``reply.root`` (``uri`` + ``cid``),
  which give ``parent_external_id`` and ``thread_external_id`` directly; a top-level post is the
  root of its own thread.
* **Authors**: the DID is the stable account id (handles can change); the handle goes into the
  name and the profile URL.
* **Time**: ``record.createdAt`` is what the author's client claims; ``indexedAt`` is when the
  network saw the post. Search sorts by the earlier of the two (``sortAt``), so the cursor does too.
* **Text** is plain text; rich text (links, mentions) lives in ``facets`` with UTF-8 *byte*
  offsets, which :func:`facets_for` computes when posting.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import normalize_whitespace

PLATFORM = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
_AT_URI = re.compile(r"^at://(?P<repo>[^/]+)/(?P<collection>[^/]+)/(?P<rkey>[^/?#]+)$")
# handles as the AT Protocol defines them (domain names); mentions are "@" + handle
_MENTION = re.compile(
    rb"(?:^|[\s(])(@(?P<handle>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?))"
)
_URL = re.compile(rb"(?:^|[\s(])(?P<url>https?://[^\s()<>]+[^\s()<>.,;:!?'\"])")
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def split_uri(uri: str) -> tuple[str, str, str]:
    """``(repo DID, collection, record key)`` of an ``at://`` URI."""
    found = _AT_URI.match(uri)
    if not found:
        raise ValueError(f"{uri!r} is not an at:// record URI")
    return found["repo"], found["collection"], found["rkey"]


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def sort_time(post: dict[str, Any]) -> datetime | None:
    """``sortAt`` as Bluesky's search defines it: the earlier of ``createdAt`` and ``indexedAt``."""
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    times = [t for t in (parse_time((record or {}).get("createdAt")), parse_time(post.get("indexedAt"))) if t]
    return min(times) if times else None


def web_url(handle_or_did: str, uri: str) -> str | None:
    try:
        _repo, collection, rkey = split_uri(uri)
    except ValueError:
        return None
    if collection != POST_COLLECTION:
        return None
    return f"https://bsky.app/profile/{handle_or_did}/post/{rkey}"


def author_of(author: Any) -> AuthorIn | None:
    if not isinstance(author, dict) or not author.get("did"):
        return None
    handle = str(author.get("handle") or "")
    display = normalize_whitespace(str(author.get("displayName") or ""))
    name = f"{display} (@{handle})" if display and handle else (display or (f"@{handle}" if handle else None))
    followers = author.get("followersCount")
    return AuthorIn(
        handle=str(author["did"])[:300],
        name=name[:300] if name else None,
        url=f"https://bsky.app/profile/{handle or author['did']}",
        followers=followers if isinstance(followers, int) and followers >= 0 else None,
    )


def media_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    """Images and link cards from the embed *view* (resolved CDN URLs; records only have blob refs)."""
    media: list[dict[str, Any]] = []
    views = [post.get("embed")]
    if isinstance(post.get("embed"), dict) and isinstance(post["embed"].get("media"), dict):
        views.append(post["embed"]["media"])  # recordWithMedia#view
    for view in views:
        if not isinstance(view, dict):
            continue
        for image in view.get("images") or []:
            if isinstance(image, dict) and image.get("fullsize"):
                media.append(
                    {"url": image["fullsize"], "kind": "image", **({"alt": image["alt"]} if image.get("alt") else {})}
                )
        external = view.get("external")
        if isinstance(external, dict) and external.get("uri"):
            media.append({"url": external["uri"], "kind": "link", "title": external.get("title") or ""})
    return media


def load(item: RawItem) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the post as a postView-like dict, the notification or None)."""
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    if not isinstance(data, dict):
        raise ParseError("payload is not an object", location=item.location)
    if isinstance(data.get("post"), dict):
        return data["post"], None
    if isinstance(data.get("notification"), dict):
        return data["notification"], data["notification"]
    raise ParseError("payload has neither 'post' nor 'notification'", location=item.location)


def parse_post(item: RawItem) -> MentionIn:
    """See the module docstring; raises ParseError with the reason."""
    post, notification = load(item)
    uri = str(post.get("uri") or "")
    record = post.get("record")
    if not uri.startswith("at://"):
        raise ParseError("post has no at:// uri", location=item.location)
    if not isinstance(record, dict) or record.get("$type", POST_COLLECTION) != POST_COLLECTION:
        raise ParseError("post has no app.bsky.feed.post record", location=item.location)
    published_at = parse_time(record.get("createdAt")) or parse_time(post.get("indexedAt"))
    if published_at is None:
        raise ParseError("post has neither a valid createdAt nor indexedAt", location=item.location)
    text = normalize_whitespace(str(record.get("text") or ""))
    media = media_of(post)
    if not text and not media and not record.get("embed"):
        raise ParseError("post has no text and no embed", location=item.location)
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else None
    parent = root = None
    if reply:
        parent = (reply.get("parent") or {}).get("uri")
        root = (reply.get("root") or {}).get("uri") or parent
    author = author_of(post.get("author"))
    langs = record.get("langs")
    language = str(langs[0])[:20] if isinstance(langs, list) and langs else None
    metrics = {
        name: post[field]
        for name, field in (("replies", "replyCount"), ("reposts", "repostCount"), ("likes", "likeCount"),
                            ("quotes", "quoteCount"))
        if isinstance(post.get(field), int)
    }  # fmt: skip
    handle = str((post.get("author") or {}).get("handle") or (post.get("author") or {}).get("did") or "")
    raw: dict[str, Any] = {"post": post} if notification is None else {"notification": notification}
    return MentionIn(
        platform=PLATFORM,
        external_id=uri[:500],
        kind=MentionKind.COMMENT if parent else MentionKind.POST,
        url=web_url(handle, uri) if handle else None,
        author=author,
        parent_external_id=str(parent)[:500] if parent else None,
        thread_external_id=str(root)[:500] if root else uri[:500],
        published_at=published_at,
        text=text,
        language_hint=language,
        media=media,
        metrics=metrics,
        raw=raw,
    )


# -- posting (pure) ----------------------------------------------------------------------------


def mention_spans(text: str) -> list[tuple[int, int, str]]:
    """``(byteStart, byteEnd, handle)`` of every ``@handle`` in ``text``, in UTF-8 byte offsets."""
    raw = text.encode("utf-8")
    return [(m.start(1), m.end(1), m["handle"].decode("ascii")) for m in _MENTION.finditer(raw)]


def link_spans(text: str) -> list[tuple[int, int, str]]:
    """``(byteStart, byteEnd, url)`` of every http(s) URL in ``text``, in UTF-8 byte offsets."""
    raw = text.encode("utf-8")
    return [(m.start("url"), m.end("url"), m["url"].decode("utf-8")) for m in _URL.finditer(raw)]


def facets_for(text: str, dids: dict[str, str]) -> list[dict[str, Any]]:
    """Rich-text facets for ``text``: links, and mentions of the handles ``dids`` resolves
    (a handle that did not resolve stays plain text, as the Bluesky app does it)."""
    facets: list[dict[str, Any]] = []
    for start, end, handle in mention_spans(text):
        did = dids.get(handle.lower())
        if did:
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            facets.append({"index": {"byteStart": start, "byteEnd": end}, "features": [feature]})
    for start, end, url in link_spans(text):
        feature = {"$type": "app.bsky.richtext.facet#link", "uri": url}
        facets.append({"index": {"byteStart": start, "byteEnd": end}, "features": [feature]})
    return sorted(facets, key=lambda f: f["index"]["byteStart"])


def tid_for(key: str, created: datetime) -> str:
    """A record key (TID) that is the same for every try of one outbox row.

    A TID is 64 bits: a zero bit, 53 bits of microseconds since 1970 and a 10-bit clock id, written
    in base32-sortable as 13 characters. The time is when the outbox created the reply and the
    clock id comes from its idempotency key, so a second ``createRecord`` for the same reply
    names the same record (and fails instead of posting twice), and ``getRecord`` can find it.
    """
    micros = int(ensure_utc(created).timestamp() * 1_000_000) & ((1 << 53) - 1)
    clock = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=2).digest(), "big") & 0x3FF
    value = (micros << 10) | clock
    return "".join(_TID_ALPHABET[(value >> shift) & 0x1F] for shift in range(60, -1, -5))
