"""Map one feed entry to a :class:`MentionIn` (pure; no I/O, no clock).

The raw item is the JSON written by :func:`resonanz.connectors.feed.document.split_document`:
``{"feed": {...}, "entry": {...}}`` where ``entry`` is feedparser's entry dict. Platform quirks
handled here:

* **Ids.** ``id``/``guid`` first, then the link, then a derived digest over what the entry says
  (recorded as ``resonanz_derived_id`` in raw). A guid without ``:`` ("123", "post-7") is only
  unique inside one blog, so it is prefixed with the feed's host.
* **Threading.** Atom threading (RFC 4685) ``thr:in-reply-to ref=…`` as Blogger writes it in
  ``/feeds/comments/default``: the ref is the post entry's id in ``/feeds/posts/default``. A
  Blogger reply to a comment also carries ``<link rel="related">`` to the parent comment's entry.
  WordPress' ``/comments/feed/`` has no threading markup; its comment guids are the post's guid
  plus ``#comment-N`` ("https://example.com/?p=42#comment-7"), which gives the post.
* **Dates.** feedparser hands UTC (naive dates are taken as UTC). An entry without a date gets the
  feed's date or else the fetch time, recorded as ``resonanz_date_estimated``.
* **Authors.** Blogger puts ``noreply@blogger.com`` in every author's e-mail, so that is never a
  handle; a bare name is qualified with the feed's host so two blogs' "Anna" stay two people.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from resonanz.clock import ensure_utc
from resonanz.connectors.base import RawItem
from resonanz.errors import ParseError
from resonanz.mentions.models import MentionKind
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.text import digest, html_to_text, looks_like_html, normalize_whitespace, sanitize_html

PLATFORM = "feed"
NOREPLY_EMAILS = frozenset({"noreply@blogger.com", "no-reply@blogger.com"})
_WP_COMMENT_GUID = re.compile(r"^(?P<post>.+?[?&]p=\d+)#comment-\d+$")
_BLOGGER_ID = re.compile(r"^tag:blogger\.com,1999:blog-(?P<blog>\d+)\.post-(?P<post>\d+)$")
_BLOGGER_COMMENT_LINK = re.compile(r"/comments/default/(?P<comment>\d+)(?:[?#].*)?$")
_URL_ATTR = re.compile(r"""(?P<attr>\b(?:href|src)\s*=\s*)(?P<q>["'])(?P<url>[^"']*)(?P=q)""", re.I)
_RSS_AUTHOR = re.compile(r"^\s*(?P<email>[^\s()@]+@[^\s()]+)\s*\((?P<name>[^()]*)\)\s*$")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
_DATE_KEYS = ("published_parsed", "updated_parsed", "created_parsed")


def load_payload(item: RawItem) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The feed facts, the entry and the whole payload, or a ParseError saying what is wrong."""
    try:
        data = json.loads(item.payload)
    except ValueError as exc:
        raise ParseError(f"payload is not JSON: {exc}", location=item.location) from exc
    if not isinstance(data, dict) or not isinstance(data.get("entry"), dict):
        raise ParseError("payload has no 'entry' object", location=item.location)
    feed = data.get("feed")
    return (feed if isinstance(feed, dict) else {}), data["entry"], data


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "unknown-host").lower()


def global_id(value: str, host: str) -> str:
    """Ids are stored per platform ("feed"), across every blog: make blog-local guids global."""
    value = value.strip()
    return value if ":" in value else f"{host}:{value}"


def http_url(value: Any, base: str | None) -> str | None:
    """``value`` resolved against ``base``, if the result is an http(s) URL."""
    if not isinstance(value, str) or not value.strip():
        return None
    joined = urljoin(base, value.strip()) if base else value.strip()
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def absolutize(html: str, base: str | None) -> str:
    """Resolve relative ``href``/``src`` in ``html`` (feedparser does this when it knew the base;
    this covers content whose base it did not know)."""
    if not base:
        return html

    def fix(match: re.Match[str]) -> str:
        url = match["url"].strip()
        if not url or urlsplit(url).scheme:
            return match[0]
        return f"{match['attr']}{match['q']}{urljoin(base, url)}{match['q']}"

    return _URL_ATTR.sub(fix, html)


def entry_link(entry: dict[str, Any], base: str | None) -> str | None:
    """The entry's web page. feedparser copies a non-URL id into ``link`` when there is no link
    (Atom ``guidislink``); that is no page, so only real http(s) URLs count."""
    candidates: list[Any] = []
    link = entry.get("link")
    if not (entry.get("guidislink") and link == entry.get("id") and not urlsplit(str(link)).scheme):
        candidates.append(link)
    candidates += [lk.get("href") for lk in entry.get("links") or [] if lk.get("rel", "alternate") == "alternate"]
    for candidate in candidates:
        url = http_url(candidate, base)
        if url:
            return url
    return None


def in_reply_to(entry: dict[str, Any]) -> dict[str, Any] | None:
    """``thr:in-reply-to`` as feedparser keeps it: ``<prefix>_in-reply-to`` with its attributes."""
    for key, value in entry.items():
        if key.endswith("_in-reply-to") and isinstance(value, dict) and value.get("ref"):
            return value
    return None


def thread_of(entry: dict[str, Any], host: str) -> tuple[str | None, str | None]:
    """(parent id, thread id) in the same form the parent's own external id takes."""
    reply = in_reply_to(entry)
    if reply is not None:
        post = global_id(str(reply["ref"]), host)
        parent = post
        blogger = _BLOGGER_ID.match(post)
        if blogger:
            for link in entry.get("links") or []:
                found = _BLOGGER_COMMENT_LINK.search(str(link.get("href") or ""))
                if link.get("rel") == "related" and found:
                    parent = f"tag:blogger.com,1999:blog-{blogger['blog']}.post-{found['comment']}"
        return parent, post
    wordpress = _WP_COMMENT_GUID.match(str(entry.get("id") or ""))
    if wordpress:
        return wordpress["post"], wordpress["post"]
    return None, None


def author_of(entry: dict[str, Any], feed: dict[str, Any], host: str) -> AuthorIn | None:
    """Entry author, else the feed's (Atom: entries inherit the feed's author)."""
    detail = entry.get("author_detail") or {}
    if not (detail or entry.get("author")):
        detail = feed.get("author_detail") or {}
    name = normalize_whitespace(str(detail.get("name") or entry.get("author") or "")) or None
    email = str(detail.get("email") or "").strip() or None
    rss_form = _RSS_AUTHOR.match(str(entry.get("author") or ""))
    if rss_form:  # RSS 2.0 "mail@host (Name)": feedparser cuts long TLDs (".example") short
        email, name = rss_form["email"], normalize_whitespace(rss_form["name"]) or None
    if email and email.lower() in NOREPLY_EMAILS:
        email = None
    uri = http_url(detail.get("href"), None)
    handle = uri or email or (f"{name} ({host})" if name else None)
    if not handle:
        return None
    return AuthorIn(handle=handle[:300], name=(name or email or "")[:300] or None, url=uri)


def parse_date_text(value: Any) -> datetime | None:
    """Dates feedparser could not read: RFC 822 without a zone ("Mon, 01 Jan 2024 10:00:00"),
    ISO 8601 variants. No zone means UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        return ensure_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def date_of(data: dict[str, Any], feed: dict[str, Any], location: str) -> tuple[datetime, bool]:
    """The entry's date, and whether it had to be estimated: the estimate split/pull wrote
    (the feed's date or the fetch time when the entry was first seen), else the feed's date or
    the fetch time."""
    entry = data["entry"]
    for key in _DATE_KEYS:
        if entry.get(key):
            return datetime.fromisoformat(entry[key]), False
        found = parse_date_text(entry.get(key.removesuffix("_parsed")))
        if found is not None:
            return found, False
    for fallback in (data.get("estimated_date"), feed.get("updated"), feed.get("fetched_at")):
        if fallback:
            return datetime.fromisoformat(fallback), True
    raise ParseError("the entry has no date, and neither the feed nor the fetch gives one", location=location)


def content_of(entry: dict[str, Any]) -> tuple[str, bool, str | None, str | None]:
    """(value, is HTML, language, xml:base) of the fullest body: content, else summary."""
    contents = [c for c in entry.get("content") or [] if isinstance(c, dict) and c.get("value")]
    contents.sort(key=lambda c: 0 if str(c.get("type", "")).endswith(_HTML_TYPES) else 1)
    detail: dict[str, Any] = contents[0] if contents else dict(entry.get("summary_detail") or {})
    value = str(detail.get("value") or entry.get("summary") or "")
    is_html = any(t in str(detail.get("type", "text/html")) for t in _HTML_TYPES) and looks_like_html(value)
    return value, is_html, detail.get("language") or None, detail.get("base") or None


def media_of(entry: dict[str, Any], base: str | None) -> list[dict[str, Any]]:
    media: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(url: str | None, kind: str, mime: Any = None) -> None:
        if url and url not in seen:
            seen.add(url)
            media.append({"url": url, "kind": kind, **({"type": str(mime)} if mime else {})})

    # feedparser's ``enclosures`` is computed from the links, so the stored entry has only those
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure":
            add(http_url(link.get("href"), base), "enclosure", link.get("type"))
    for content in entry.get("media_content") or []:
        add(http_url(content.get("url"), base), str(content.get("medium") or "media"), content.get("type"))
    for thumb in entry.get("media_thumbnail") or []:
        add(http_url(thumb.get("url"), base), "thumbnail")
    return media


def metrics_of(entry: dict[str, Any]) -> dict[str, Any]:
    """Comment counts: ``slash:comments`` (WordPress), ``thr:total`` (Blogger)."""
    for key in ("slash_comments", "thr_total"):
        value = str(entry.get(key) or "").strip()
        if value.isdigit():
            return {"comments": int(value)}
    return {}


def parse_entry(item: RawItem) -> MentionIn:
    """See the module docstring for the rules; raises ParseError with the reason."""
    feed, entry, data = load_payload(item)
    feed_url = str(feed.get("url") or item.context.get("feed_url") or "")
    host = host_of(feed_url)
    base = str(feed.get("base_url") or feed_url) or None
    url = entry_link(entry, base)
    value, is_html, content_lang, content_base = content_of(entry)
    text = html_to_text(value) if is_html else normalize_whitespace(value)
    title_detail = entry.get("title_detail") or {}
    raw_title = str(entry.get("title") or "")
    title_is_html = "html" in str(title_detail.get("type", ""))
    title = html_to_text(raw_title) if title_is_html else normalize_whitespace(raw_title)
    if not (title or text or url):
        raise ParseError("the entry has no title, no text and no link", location=item.location)
    published_at, estimated = date_of(data, feed, item.location)
    raw: dict[str, Any] = dict(entry)
    guid = str(entry.get("id") or "").strip()
    if guid:
        external_id = global_id(guid, host)
    elif url:
        external_id = url
    else:
        stable_date = str(entry.get("published") or entry.get("updated") or "")
        external_id = f"derived:{host}:{digest(feed_url, title, url, stable_date, text)}"
        raw["resonanz_derived_id"] = True
    if estimated:
        raw["resonanz_date_estimated"] = True
    parent, thread = thread_of(entry, host)
    is_comment = parent is not None or bool(feed.get("is_comments"))
    html = sanitize_html(absolutize(value, content_base or url or base)) if is_html else None
    language = content_lang or title_detail.get("language") or feed.get("language") or None
    return MentionIn(
        platform=PLATFORM,
        external_id=external_id[:500],
        kind=MentionKind.COMMENT if is_comment else MentionKind.ARTICLE,
        url=url,
        author=author_of(entry, feed, host),
        parent_external_id=parent,
        thread_external_id=thread,
        published_at=published_at,
        title=title or None,
        text=text,
        html=html,
        language_hint=str(language)[:20] if language else None,
        media=media_of(entry, url or base),
        metrics=metrics_of(entry),
        raw=raw,
    )
