"""Pure split/parse of the feed connector over hand-written, real-world-shaped feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from feed_world import payload
from pydantic import ValidationError

from resonanz.connectors.base import RawItem
from resonanz.connectors.feed.connector import FeedConfig, FeedConnector, parse_retry_after
from resonanz.errors import ParseError
from resonanz.mentions.schemas import MentionIn

FETCHED = "2024-03-05T12:00:00+00:00"


def split(name: str | bytes, feed_url: str = "https://blog.example/feed/", content_type: str = "application/xml"):
    body = payload(name) if isinstance(name, str) else name
    context = {"feed_url": feed_url, "fetched_at": FETCHED, "response_headers": {"content-type": content_type}}
    return FeedConnector.split(body, context)


def mentions(name: str, feed_url: str = "https://blog.example/feed/", **kw: Any) -> list[MentionIn]:
    result = split(name, feed_url, **kw)
    assert not result.rejected, result.rejected
    return [FeedConnector.parse(item) for item in result.items]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "count", "external_id", "title", "published"),
    [
        ("rss091.xml", 2, "http://www.stadtwerke-sued.example/news/tarife-april.html",
         "Neue Tarife ab April: Grundpreis steigt", utc(2024, 3, 1, 12)),
        ("rss10.rdf", 2, "https://forum.pendler.example/t/4411",
         "Monatskarte gekündigt, trotzdem abgebucht?", utc(2024, 3, 2, 6, 45)),
        ("rss20.xml", 2, "https://mobil-heute.example/2024/03/streik-s-bahn",
         "Streik bei der S-Bahn: Was Fahrgäste jetzt wissen müssen", utc(2024, 3, 2, 5, 30)),
        ("atom03.xml", 2, "tag:transit-notes.example,2004:night-buses", "Night buses are back",
         utc(2004, 3, 1, 21, 15)),
        ("atom10.xml", 2, "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", 'Café & Bahn: "Always late"',
         utc(2024, 3, 2, 8)),
        ("blogger_posts.xml", 2, "tag:blogger.com,1999:blog-4711.post-8001", "Zugausfall in Köln – wieder einmal",
         utc(2024, 3, 1, 17, 30)),
        ("wordpress_posts.xml", 2, "https://radwerk.example/?p=42", "Hallo Welt – unser neuer Laden",
         utc(2024, 3, 1, 9)),
    ],
)  # fmt: skip
def test_every_feed_format_maps_its_first_entry(
    name: str, count: int, external_id: str, title: str, published: datetime
) -> None:
    found = mentions(name)
    assert len(found) == count
    first = found[0]
    assert (first.platform, first.external_id, first.title, first.published_at) == (
        "feed", external_id, title, published,
    )  # fmt: skip
    assert first.kind == "article" and first.text and first.url and first.url.startswith("http")


def test_rss091_latin1_and_dates_from_the_channel() -> None:
    first, second = mentions("rss091.xml")
    assert second.title == "Störung in der Fernwärme behoben"
    assert "Kundenservice" in first.text and first.language_hint == "de"
    # RSS 0.91 items have no date: the channel's pubDate is used, and that is recorded
    assert first.raw["resonanz_date_estimated"] is True


def test_rss20_author_enclosure_thumbnail_and_guid_without_colon() -> None:
    strike, bikes = mentions("rss20.xml", feed_url="https://mobil-heute.example/feed.xml")
    assert strike.author is not None
    assert (strike.author.handle, strike.author.name) == ("redaktion@mobil-heute.example", "Miriam Vogt")
    assert [m["url"] for m in strike.media] == [
        "https://mobil-heute.example/media/streik.mp3",
        "https://mobil-heute.example/media/streik-thumb.jpg",
    ]
    assert strike.html and "<strong>ihr Geld zurück</strong>" in strike.html
    # "mobil-heute-2024-0117" is unique only inside this blog
    assert bikes.external_id == "mobil-heute.example:mobil-heute-2024-0117"
    other = mentions("rss20.xml", feed_url="https://other-blog.example/rss")[1]
    assert other.external_id != bikes.external_id


def test_atom10_entities_relative_links_and_xml_base() -> None:
    cafe, bikes = mentions("atom10.xml", feed_url="https://news.example.org/atom.xml")
    assert cafe.title == 'Café & Bahn: "Always late"'
    assert cafe.url == "https://news.example.org/2024/03/cafe-and-rail.html"
    assert cafe.text.startswith("Regulars at the station café say the 8:15 is always late – see the timetable.")
    assert cafe.html is not None
    assert 'href="https://news.example.org/timetable"' in cafe.html
    assert 'src="https://news.example.org/img/platform.jpg"' in cafe.html
    assert cafe.author is not None and cafe.author.handle == "https://news.example.org/authors/lea"
    assert cafe.language_hint == "en"
    # type="text" content is text, even with angle brackets in it
    assert bikes.text == "Twenty new stations <by summer>, the city says." and bikes.html is None


def test_atom03_entries_inherit_the_feed_author() -> None:
    first, _ = mentions("atom03.xml", feed_url="https://transit-notes.example/atom.xml")
    assert first.author is not None and first.author.name == "Sam Carter"
    assert first.html == "<p>The night bus network returns on <b>Friday</b>.</p>"


def test_blogger_comments_reply_to_the_post_ids_of_the_posts_feed() -> None:
    posts = mentions("blogger_posts.xml", feed_url="https://unterwegs-bahn.blogspot.com/feeds/posts/default")
    comments = mentions("blogger_comments.xml", feed_url="https://unterwegs-bahn.blogspot.com/feeds/comments/default")
    post_ids = {p.external_id for p in posts}
    assert posts[0].metrics == {"comments": 3} and posts[0].media[0]["kind"] == "thumbnail"
    by_id = {c.external_id: c for c in comments}
    jonas = by_id["tag:blogger.com,1999:blog-4711.post-9101"]
    assert jonas.kind == "comment"
    assert jonas.parent_external_id == jonas.thread_external_id == "tag:blogger.com,1999:blog-4711.post-8001"
    assert jonas.parent_external_id in post_ids
    # Blogger never shows real e-mails; the profile URI is the handle
    assert jonas.author is not None and jonas.author.handle == "https://www.blogger.com/profile/09876543210987654321"
    # a threaded reply points at the comment it answers, and stays in the post's thread
    reply = by_id["tag:blogger.com,1999:blog-4711.post-9103"]
    assert reply.parent_external_id == "tag:blogger.com,1999:blog-4711.post-9101"
    assert reply.thread_external_id == "tag:blogger.com,1999:blog-4711.post-8001"
    anonymous = by_id["tag:blogger.com,1999:blog-4711.post-9102"]
    assert anonymous.author is not None and anonymous.author.handle == "Anonym (unterwegs-bahn.blogspot.com)"


def test_wordpress_comment_guids_give_the_post() -> None:
    posts = mentions("wordpress_posts.xml", feed_url="https://radwerk.example/feed/")
    comments = mentions("wordpress_comments.xml", feed_url="https://radwerk.example/comments/feed/")
    assert posts[0].metrics == {"comments": 2}
    assert posts[0].html is not None and 'href="https://radwerk.example/kontakt/"' in posts[0].html
    assert [c.parent_external_id for c in comments] == [posts[0].external_id] * 2
    assert {c.kind for c in comments} == {"comment"}
    assert comments[1].title == "Kommentar zu Hallo Welt – unser neuer Laden von Jana"
    assert comments[1].author is not None and comments[1].author.handle == "Jana (radwerk.example)"


def test_item_without_id_gets_a_stable_derived_id() -> None:
    first = mentions("no_ids.xml", feed_url="https://verein.example/feed")
    again = mentions("no_ids.xml", feed_url="https://verein.example/feed")
    assert [m.external_id for m in first] == [m.external_id for m in again]
    assert len({m.external_id for m in first}) == 2
    assert all(m.external_id.startswith("derived:verein.example:") for m in first)
    assert all(m.raw["resonanz_derived_id"] is True for m in first)
    # the undated one took the fetch time and says so; its id does not depend on that time
    undated = first[1]
    assert undated.published_at == datetime.fromisoformat(FETCHED) and undated.raw["resonanz_date_estimated"]
    later = FeedConnector.split(payload("no_ids.xml"), {"feed_url": "https://verein.example/feed",
                                                         "fetched_at": "2025-01-01T00:00:00+00:00"})  # fmt: skip
    assert FeedConnector.parse(later.items[1]).external_id == undated.external_id


def test_dates_without_time_zone_are_utc() -> None:
    rfc822, iso = mentions("no_timezone.xml")
    assert rfc822.published_at == utc(2024, 3, 4, 10, 30)
    assert iso.published_at == utc(2024, 3, 4, 11, 45)
    assert "resonanz_date_estimated" not in rfc822.raw


def test_script_injection_is_removed_from_html() -> None:
    (post,) = mentions("injection.xml", feed_url="https://evil.example/feed")
    html = (post.html or "").lower()
    assert html and "gewinnen" in html
    for bad in ("<script", "onclick", "onmouseover", "onerror", "javascript:", "<iframe", "<style", "cookie"):
        assert bad not in html, bad
    assert 'href="https://evil.example/regeln"' in html
    assert "document.location" not in post.text


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ("html_page.html", "text/html; charset=utf-8", "not a feed: the server sent an HTML page (text/html)"),
        ("malformed.xml", "application/rss+xml", "malformed XML at line 4, column 26: mismatched tag"),
        (b"", "application/rss+xml", "empty response body"),
        (b'{"items": []}', "application/json", "not a usable feed: malformed XML at line 1, column 0"),
    ],
)
def test_unusable_documents_are_rejected_whole(body: str | bytes, content_type: str, reason: str) -> None:
    result = split(body, content_type=content_type)
    assert result.items == []
    (rejected,) = result.rejected
    assert reason in rejected.reason
    assert (rejected.stage, rejected.location) == ("fetch", "document")
    assert rejected.context["level"] == "document" and rejected.context["feed_url"] == "https://blog.example/feed/"
    assert rejected.payload == (payload(body) if isinstance(body, str) else body)
    # replay works from the stored bytes and context alone: same verdict
    again = FeedConnector.split(rejected.payload, rejected.context)
    assert [r.reason for r in again.rejected] == [rejected.reason]


def test_empty_feed_is_not_an_error() -> None:
    result = split("empty_channel.xml")
    assert result.items == [] and result.rejected == [] and result.warnings == []


@pytest.mark.parametrize(
    ("name", "content_type", "warning"),
    [
        ("invalid_utf8.xml", "application/rss+xml", "declared as utf-8, but parsed as windows-1252"),
        ("wrong_encoding.xml", "application/rss+xml; charset=us-ascii", "declared as us-ascii, but parsed as utf-8"),
    ],
)
def test_wrong_encodings_still_give_readable_text_and_a_warning(name: str, content_type: str, warning: str) -> None:
    result = split(name, content_type=content_type)
    assert len(result.items) == 1 and warning in result.warnings[0]
    mention = FeedConnector.parse(result.items[0])
    assert mention.title == "Grüße vom Sommerfest"
    assert mention.text == "Herzliche Grüße an alle Helfer aus Köln und München!"


def test_payload_is_json_with_the_entry_and_what_parse_needs() -> None:
    result = split("blogger_comments.xml", feed_url="https://unterwegs-bahn.blogspot.com/feeds/comments/default")
    item = result.items[0]
    data = json.loads(item.payload)
    assert data["feed"]["is_comments"] is True and data["feed"]["url"].endswith("/feeds/comments/default")
    assert data["entry"]["thr_in-reply-to"]["ref"] == "tag:blogger.com,1999:blog-4711.post-8001"
    assert (item.location, item.context["level"]) == ("entry 1", "item")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "payload is not JSON"),
        (b'{"feed": {}}', "payload has no 'entry' object"),
        (b'{"feed": {"url": "https://x.example/"}, "entry": {"id": "a:1"}}', "no title, no text and no link"),
        (b'{"feed": {}, "entry": {"id": "a:1", "title": "t"}}', "the entry has no date"),
    ],
)
def test_unparseable_items_raise_parse_error_with_location(raw: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        FeedConnector.parse(RawItem(payload=raw, location="entry 3"))
    assert reason in caught.value.reason and caught.value.location == "entry 3"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), ("Tue, 05 Mar 2024 12:02:00 GMT", 120.0), ("Tue, 05 Mar 2024 11:00:00 GMT", 0.0),
     ("soon", None), (None, None)],
)  # fmt: skip
def test_retry_after_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, at=utc(2024, 3, 5, 12)) == seconds


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "file:///etc/passwd", "example.com/feed", "https://"])
def test_config_accepts_only_http_urls(url: str) -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        FeedConfig(url=url)
    assert FeedConfig(url=" https://example.com/feed ").url == "https://example.com/feed"


def test_broken_comments_feed_keeps_its_threading() -> None:
    broken = payload("blogger_comments.xml").replace(
        b"<content type='html'>Danke euch beiden,", b"<content type='html'>Danke & Gruss,"
    )
    result = split(broken, feed_url="https://unterwegs-bahn.blogspot.com/feeds/comments/default")
    assert "malformed XML at line 1" in result.warnings[0] and len(result.items) == 3
    parents = {FeedConnector.parse(i).parent_external_id for i in result.items}
    assert parents == {"tag:blogger.com,1999:blog-4711.post-8001", "tag:blogger.com,1999:blog-4711.post-9101"}
