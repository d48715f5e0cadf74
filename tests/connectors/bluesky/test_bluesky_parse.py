"""Bluesky postViews and notifications mapped to mentions, facets and record keys: the pure step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bluesky_world import payload

from resonanz.connectors.base import RawItem
from resonanz.connectors.bluesky.connector import BlueskyConnector
from resonanz.connectors.bluesky.parse import facets_for, link_spans, mention_spans, sort_time, tid_for
from resonanz.errors import ParseError

ANNA_POST = "at://did:plc:anna4example000000000000/app.bsky.feed.post/3kq2nyhxvqs2a"


def item(body: dict[str, Any]) -> RawItem:
    return RawItem(payload=json.dumps({"service": "https://bsky.social", **body}).encode(), location="page 1, item 2")


def test_post_view_maps_ids_author_media_metrics() -> None:
    m = BlueskyConnector.parse(item({"post": payload("post_view.json")}))
    assert (m.platform, m.external_id, m.kind) == ("bluesky", ANNA_POST, "post")
    assert m.thread_external_id == ANNA_POST and m.parent_external_id is None
    assert m.url == "https://bsky.app/profile/anna.bsky.social/post/3kq2nyhxvqs2a"
    assert m.author is not None
    assert (m.author.handle, m.author.name) == ("did:plc:anna4example000000000000", "Anna Beispiel (@anna.bsky.social)")
    assert m.published_at == datetime(2024, 3, 2, 7, 5, 11, 123000, tzinfo=UTC)
    assert m.language_hint == "de" and m.metrics == {"replies": 3, "reposts": 4, "likes": 17, "quotes": 1}
    assert m.media[0]["kind"] == "image" and m.media[0]["alt"] == "Anzeigetafel: +40 Minuten"
    assert m.text.startswith("Der ICE ist wieder 40 Minuten zu spät 🙄") and m.html is None


def test_reply_takes_parent_and_root_from_the_record() -> None:
    m = BlueskyConnector.parse(item({"post": payload("reply_post_view.json")}))
    assert m.kind == "comment" and m.thread_external_id == ANNA_POST
    assert m.parent_external_id == "at://did:plc:lea4example00000000000000/app.bsky.feed.post/3kq2oaaaaaa2c"
    assert m.text == "Bei mir genauso <script>alert(1)</script>" and m.html is None  # plain text, never HTML
    assert m.author is not None and m.author.name == "@kai.example.com"


def test_notification_keeps_its_reason() -> None:
    m = BlueskyConnector.parse(item({"notification": payload("notification_mention.json")}))
    assert m.external_id.endswith("/3kq3aaaaaaa2d") and m.raw["notification"]["reason"] == "mention"
    assert m.metrics == {} and m.author is not None and m.author.handle == "did:plc:kunde00000000000000000000"


def test_sort_time_is_the_earlier_of_created_and_indexed() -> None:
    post = payload("post_view.json")
    post["record"]["createdAt"] = "2030-01-01T00:00:00Z"  # a client clock in the future
    assert sort_time(post) == datetime(2024, 3, 2, 7, 5, 12, 456000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"post": {"record": {"text": "x", "createdAt": "2024-01-01T00:00:00Z"}}}, "no at:// uri"),
        ({"post": {"uri": "at://did:plc:x/app.bsky.feed.post/1", "record": {"$type": "app.bsky.feed.like"}}},
         "no app.bsky.feed.post record"),
        ({"post": {"uri": "at://did:plc:x/app.bsky.feed.post/1", "record": {"text": "x", "createdAt": "nie"}}},
         "neither a valid createdAt nor indexedAt"),
        ({"post": {"uri": "at://did:plc:x/app.bsky.feed.post/1", "record": {"text": "", "createdAt": "2024-01-01"}}},
         "no text and no embed"),
        ({"something": 1}, "neither 'post' nor 'notification'"),
    ],
)  # fmt: skip
def test_unusable_posts_raise_parse_errors(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        BlueskyConnector.parse(item(body))


def test_facets_use_utf8_byte_offsets() -> None:
    text = "Grüße @anna.bsky.social 🙂 siehe https://radwerk.example/straße?x=1. und @niemand.example"
    raw = text.encode("utf-8")
    facets = facets_for(text, {"anna.bsky.social": "did:plc:anna"})
    assert [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets] == [
        "@anna.bsky.social",
        "https://radwerk.example/straße?x=1",
    ]
    assert facets[0]["features"] == [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:anna"}]
    assert facets[1]["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://radwerk.example/straße?x=1"}
    ]
    assert facets[0]["index"]["byteStart"] == len("Grüße ".encode()) != len("Grüße ")
    assert [h for _s, _e, h in mention_spans(text)] == ["anna.bsky.social", "niemand.example"]
    assert link_spans("mail me: a@b.example") == []


def test_record_keys_are_stable_per_reply_and_sort_by_time() -> None:
    at = datetime(2024, 3, 2, 7, 0, tzinfo=UTC)
    key = tid_for("outbox-0001", at)
    assert key == tid_for("outbox-0001", at) and len(key) == 13
    assert set(key) <= set("234567abcdefghijklmnopqrstuvwxyz") and key[0] in "234567abcdefghij"
    assert tid_for("outbox-0002", at) != key
    assert tid_for("outbox-0001", at + timedelta(seconds=1)) > key
