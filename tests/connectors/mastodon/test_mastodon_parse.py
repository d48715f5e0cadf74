"""Mastodon statuses (as the REST API documents them) mapped to mentions: the pure step."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from mastodon_world import payload

from resonanz.connectors.base import RawItem
from resonanz.connectors.mastodon.connector import MastodonConnector, link_targets
from resonanz.connectors.mastodon.parse import split_key
from resonanz.errors import ParseError

INSTANCE = "https://social.example"


def item(body: dict[str, Any]) -> RawItem:
    return RawItem(payload=json.dumps({"instance": INSTANCE, **body}).encode(), location="page 1, item 1")


def test_status_maps_ids_author_text_media_metrics() -> None:
    m = MastodonConnector.parse(item({"status": payload("status.json")}))
    assert (m.platform, m.external_id, m.kind) == ("mastodon", "social.example/111000000000000101", "post")
    assert m.thread_external_id == m.external_id and m.parent_external_id is None
    assert m.url == "https://social.example/@anna/111000000000000101"
    assert m.published_at == datetime(2024, 3, 2, 7, 5, 11, tzinfo=UTC)
    assert (
        m.text
        == "Der ICE nach #Bahn ist schon wieder 40 Minuten zu spät. @radwerk habt ihr Ersatzräder?\n\nDanke & Gruß"
    )
    assert m.author is not None
    assert (m.author.handle, m.author.name, m.author.followers) == ("anna@social.example", "Anna Beispiel", 321)
    assert m.language_hint == "de" and m.metrics == {"replies": 2, "reposts": 5, "likes": 11}
    assert m.media == [
        {
            "url": "https://files.social.example/media_attachments/files/111/000/original/anzeige.jpg",
            "kind": "image",
            "alt": "Anzeigetafel: +40 Minuten",
        }
    ]
    assert m.html is not None and 'rel="noopener noreferrer nofollow"' in m.html


def test_remote_reply_links_to_its_parent_and_is_sanitised() -> None:
    m = MastodonConnector.parse(item({"status": payload("reply_remote.json")}))
    assert m.kind == "comment" and m.parent_external_id == "social.example/111000000000000101"
    assert m.thread_external_id is None  # the REST API does not name the conversation's root
    assert m.author is not None and m.author.handle == "radwerk@mastodon.example" and m.author.name == "Radwerk"
    assert m.title == "Verspätung <Frust>" and m.language_hint is None
    assert m.html is not None and "<script" not in m.html and "javascript:" not in m.html
    assert "alert(1)" not in m.text and m.text.startswith("@anna Ja! Komm vorbei.")


def test_direct_mention_notification_is_a_message_and_keeps_the_notification() -> None:
    m = MastodonConnector.parse(item({"notification": payload("notification_mention.json")}))
    assert (m.kind, m.external_id) == ("message", "social.example/111000000000000200")
    assert m.raw["notification"]["type"] == "mention" and "status" not in m.raw["notification"]
    assert m.author is not None and m.author.handle == "kunde@other.example"


def test_boost_is_mapped_as_the_boosted_status() -> None:
    boost = {**payload("reply_remote.json"), "id": "999", "content": "", "reblog": payload("status.json")}
    m = MastodonConnector.parse(item({"status": boost}))
    assert m.external_id == "social.example/111000000000000101" and "ICE" in m.text


def test_edited_status_keeps_its_id_and_changes_the_text() -> None:
    edited = {**payload("status.json"), "content": "<p>Korrektur: 50 Minuten</p>", "edited_at": "2024-03-02T07:30:00Z"}
    before = MastodonConnector.parse(item({"status": payload("status.json")}))
    after = MastodonConnector.parse(item({"status": edited}))
    assert before.external_id == after.external_id and after.text == "Korrektur: 50 Minuten"
    assert after.raw["status"]["edited_at"] == "2024-03-02T07:30:00Z"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[1,", "payload is not JSON"),
        (json.dumps({"status": {}}).encode(), "payload has no 'instance'"),
        (json.dumps({"instance": INSTANCE}).encode(), "payload has no status object"),
        (json.dumps({"instance": INSTANCE, "status": {"content": "x", "created_at": "2024-01-01T00:00:00Z"}}).encode(),
         "status has no id"),
        (json.dumps({"instance": INSTANCE, "status": {"id": "1", "content": "x"}}).encode(),
         "status has no created_at"),
        (json.dumps({"instance": INSTANCE, "status": {"id": "1", "content": "x", "created_at": "gestern"}}).encode(),
         "is not an ISO 8601 time"),
        (json.dumps({"instance": INSTANCE, "status": {"id": "1", "content": "", "created_at": "2024-01-01T00:00:00Z"}})
         .encode(), "no content and no media"),
    ],
)  # fmt: skip
def test_unusable_statuses_raise_parse_errors(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as info:
        MastodonConnector.parse(RawItem(payload=body, location="page 2, item 3"))
    assert info.value.location == "page 2, item 3"


def test_link_header_and_keys() -> None:
    header = (
        '<https://s.example/api/v1/timelines/tag/bahn?max_id=7>; rel="next", <https://s.example/x?min_id=9>; rel="prev"'
    )
    assert link_targets(header) == {
        "next": "https://s.example/api/v1/timelines/tag/bahn?max_id=7",
        "prev": "https://s.example/x?min_id=9",
    }
    assert split_key("social.example/123") == ("social.example", "123")
    with pytest.raises(ValueError, match="not a Mastodon id"):
        split_key("at://did:plc:x/app.bsky.feed.post/3k")
