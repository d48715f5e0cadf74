"""Cut one fetched feed document into raw items (pure).

The document is parsed with feedparser, which copes with the real world's broken feeds (wrong
declared encodings, unescaped ampersands, half-closed tags) by falling back to a loose parser. Each
entry becomes one raw item whose payload is JSON: the entry as feedparser exposes it plus the few
feed-level facts the mapping step needs (feed URL, title, link, language, date, whether it is a
comments feed, when it was fetched). So an item can be parsed again later from its own bytes, and a
quarantined document can be split again from its bytes and the stored context alone.

A document that yields no entries and is not a valid empty feed (an HTML page, XML broken before
the first entry, an empty body) is rejected as a whole with a reason that says what it is and where
it broke.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
from feedparser.exceptions import ThingsNobodyCaresAboutButMe

from resonanz.connectors.base import RawItem, Rejected, SplitResult
from resonanz.connectors.feed.parse import parse_date_text
from resonanz.mentions.text import digest

#: feedparser resolves relative links against this header (we pass the feed's URL), which keeps
#: relative links in Blogger/WordPress content working after replay too.
_CONTENT_LOCATION = "content-location"
_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
_XML_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?>")
_COMMENT_FEED_PATH = re.compile(r"/comments?(?:/|$)|/comments/default", re.I)
_COMMENT_FEED_TITLE = re.compile(r"^\s*(comments (?:on|for)|kommentare (?:zu|für))\b", re.I)

_DATE_KEYS = ("published", "updated", "created")
FEED_KEYS = ("title", "link", "language", "subtitle", "author_detail")


def is_dated(entry: dict[str, Any]) -> bool:
    """Whether parse will find a date in the entry (feedparser's, or one it reads itself)."""
    return any(entry.get(f"{key}_parsed") or parse_date_text(entry.get(key)) for key in _DATE_KEYS)


def undated_key(feed_url: str, entry: dict[str, Any]) -> str:
    """Who an undated entry is, for remembering its estimated date: its id, else its link, else
    its words."""
    return digest(feed_url, entry.get("id"), entry.get("link"), entry.get("title"), entry.get("summary"))


def struct_to_iso(value: time.struct_time) -> str:
    """feedparser's ``*_parsed`` values are UTC struct_times (naive dates were taken as UTC)."""
    return datetime(*value[:6], tzinfo=UTC).isoformat()


def json_safe(value: Any) -> Any:
    """feedparser's result as plain JSON values (struct_time -> ISO 8601 UTC, bytes -> text)."""
    if isinstance(value, time.struct_time):
        return struct_to_iso(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def is_comments_feed(feed_url: str, title: str | None) -> bool:
    """Blogger's ``/feeds/comments/default``, ``/feeds/<post>/comments/default``, WordPress'
    ``/comments/feed/`` and ``/<post>/feed/`` (titled 'Comments on: …') are comment feeds."""
    path = urlsplit(feed_url).path
    return bool(_COMMENT_FEED_PATH.search(path)) or bool(title and _COMMENT_FEED_TITLE.match(title))


def _compact_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry without the copy feedparser makes of the content as ``summary`` (Atom entries
    without a summary), so the payload size is the item's size, not twice it."""
    content = entry.get("content")
    if isinstance(content, list) and content and entry.get("summary") == content[0].get("value"):
        entry = {k: v for k, v in entry.items() if k not in ("summary", "summary_detail")}
    return entry


def _header(headers: dict[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return ""


def is_minor(exc: BaseException | None) -> bool:
    """feedparser's "things nobody cares about": a wrong declared encoding or content type, after
    which the document was still read as XML."""
    return isinstance(exc, ThingsNobodyCaresAboutButMe)


def describe_bozo(exc: BaseException | None, document: bytes = b"") -> str:
    """A readable reason for feedparser's ``bozo_exception``, with line and column when known.

    feedparser puts an XML declaration of its own in front of a document that has none, which
    moves every line down by one; ``document`` lets us count lines as the user's file has them."""
    if exc is None:
        return "unknown problem"
    get_line = getattr(exc, "getLineNumber", None)
    get_col = getattr(exc, "getColumnNumber", None)
    get_msg = getattr(exc, "getMessage", None)
    if callable(get_line) and callable(get_col):
        message = get_msg() if callable(get_msg) else str(exc)
        shift = 0 if _XML_DECLARATION.match(document) or not document else 1
        return f"malformed XML at line {max(1, get_line() - shift)}, column {get_col()}: {message}"
    name = type(exc).__name__
    if name == "CharacterEncodingOverride":
        return f"wrong declared encoding ({exc})"
    if name == "NonXMLContentType":
        return f"unexpected content type ({exc})"
    return f"{name}: {exc}" if str(exc) else name


def why_not_a_feed(document: bytes, parsed: Any, content_type: str) -> str:
    """The reason a document with no entries is unusable, as precisely as we can tell."""
    if not document.strip():
        return "empty response body: the server sent no feed at all"
    mime = content_type.split(";", 1)[0].strip().lower()
    if ("html" in mime and "xhtml" not in mime) or _HTML_START.match(document[:4096]):
        shown = mime or "no content type"
        return f"not a feed: the server sent an HTML page ({shown}); look for the feed link in the page"
    if parsed.get("bozo"):
        return f"not a usable feed: {describe_bozo(parsed.get('bozo_exception'), document)}"
    if not parsed.get("version"):
        return f"not a feed: no RSS or Atom root element found ({mime or 'no content type'})"
    return "the feed has no entries"


def split_document(document: bytes, context: dict[str, Any]) -> SplitResult:
    """Parse ``document`` and return one raw item per entry (see the module docstring).

    ``context`` holds ``feed_url`` (the configured URL: the feed's identity, used to derive ids),
    ``base_url`` (where the document really came from, after redirects: relative links resolve
    against it), ``response_headers`` (the HTTP ``Content-Type`` carries the charset) and ``fetched_at``.
    """
    feed_url = str(context.get("feed_url") or "")
    base_url = str(context.get("base_url") or feed_url)
    headers = dict(context.get("response_headers") or {})
    content_type = _header(headers, "content-type")
    fetched_at = str(context.get("fetched_at") or "")
    # Without a Content-Type (a replay, a test) say XML, so feedparser does not flag its absence.
    response_headers = {"content-type": content_type or "application/xml"}
    if base_url:
        response_headers[_CONTENT_LOCATION] = base_url
    # sanitize_html=False: we sanitise with nh3 in parse (feedparser's sgmllib sanitiser is slow on
    # large posts, and the raw payload should stay what the blog sent).
    parsed = feedparser.parse(document, response_headers=response_headers, sanitize_html=False)
    doc_context = {**context, "level": "document", "feed_url": feed_url}
    entries = list(parsed.get("entries") or [])
    result = SplitResult()
    if not entries:
        fine = not parsed.get("bozo") or is_minor(parsed.get("bozo_exception"))
        if parsed.get("version") and fine and document.strip():
            return result  # a valid feed that is empty right now
        reason = why_not_a_feed(document, parsed, content_type)
        result.rejected.append(
            Rejected(
                payload=document,
                reason=reason,
                location="document",
                stage="fetch",
                content_type=content_type or None,
                context=doc_context,
            )
        )
        return result
    if parsed.get("bozo"):
        result.warnings.append(
            f"{feed_url or 'feed'}: {describe_bozo(parsed.get('bozo_exception'), document)}; "
            f"{len(entries)} entries were still read"
        )
    feed = parsed.get("feed") or {}
    feed_info: dict[str, Any] = {key: json_safe(feed.get(key)) for key in FEED_KEYS}
    feed_date = feed.get("updated_parsed") or feed.get("published_parsed")
    feed_info.update(
        url=feed_url,
        base_url=base_url or None,
        updated=struct_to_iso(feed_date) if feed_date else None,
        fetched_at=fetched_at or None,
        is_comments=is_comments_feed(feed_url, feed.get("title")),
        version=parsed.get("version") or None,
    )
    for number, entry in enumerate(entries, start=1):
        payload: dict[str, Any] = {"feed": feed_info, "entry": _compact_entry(json_safe(entry))}
        item_context: dict[str, Any] = {"feed_url": feed_url, "level": "item", "entry": number}
        if not is_dated(entry):
            # No date: parse will use this estimate; pull keeps it stable across pulls.
            payload["estimated_date"] = feed_info["updated"] or feed_info["fetched_at"]
            item_context.update(undated_key=undated_key(feed_url, entry), estimated_date=payload["estimated_date"])
        result.items.append(
            RawItem(
                payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                location=f"entry {number}",
                context=item_context,
            )
        )
    return result
