"""The import record schema, on its own (pure): what maps to what and how failures read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from resonanz.connectors.base import RawItem
from resonanz.connectors.file.connector import FileConnector
from resonanz.connectors.file.parse import RecordError, mention_from_record, parse_timestamp
from resonanz.mentions.schemas import MentionIn

BASE = {"id": "r1", "text": "Die App stürzt ab", "published_at": "2026-03-01T12:00:00Z"}
T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def problems_of(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(RecordError) as caught:
        mention_from_record(data)
    return caught.value.problems


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T12:00:00Z", T),
        ("2026-03-01T12:00:00", T),
        ("2026-03-01 14:00:00+02:00", T),
        ("2026-03-01T12:00:00.000+00:00", T),
        ("Sun, 01 Mar 2026 12:00:00 GMT", T),
        ("Sun, 01 Mar 2026 07:00:00 -0500", T),
        (1772366400, T),
        (1772366400.0, T),
        ("1772366400", T),
        (1772366400000, T),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_timestamps(value: Any, expected: datetime) -> None:
    parsed = parse_timestamp(value)
    assert parsed == expected and parsed.tzinfo is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize("value", ["", "gestern", "01/03/2026 12:00", True, [2026], {"y": 2026}, 10**20])
def test_bad_timestamps(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_full_record_maps_every_field() -> None:
    data = {
        **BASE,
        "id": 1234,
        "platform": "Trustpilot",
        "title": "Schlechter Service",
        "url": "https://reviews.example/r/1234",
        "author": {"handle": "kunde42", "name": "Kunde", "followers": "17", "avatar": "ignored"},
        "parent_id": 99,
        "thread_id": "t-9",
        "kind": "Review",
        "language": "DE",
        "media": ["https://img.example/1.jpg", {"url": "https://img.example/2.jpg", "type": "image"}],
        "metrics": {"rating": 1},
        "likes": 3,
        "sentiment_vendor": "negative",
    }
    m = mention_from_record(data)
    assert (m.platform, m.external_id, m.kind, m.language_hint) == ("trustpilot", "1234", "review", "de")
    assert (m.parent_external_id, m.thread_external_id, m.title, m.published_at) == ("99", "t-9", data["title"], T)
    assert m.author is not None and (m.author.handle, m.author.followers) == ("kunde42", 17)
    assert m.media == [{"url": "https://img.example/1.jpg"}, {"url": "https://img.example/2.jpg", "type": "image"}]
    assert m.metrics == {"rating": 1, "likes": 3}
    assert m.raw == data  # extras included


def test_defaults_flat_author_and_comment_kind() -> None:
    m = mention_from_record({**BASE, "author_handle": "@bob", "author_url": "https://x.example/bob", "parent_id": "p"})
    assert m.platform == "import" and m.kind == "comment"
    assert m.author is not None and (m.author.handle, m.author.url) == ("@bob", "https://x.example/bob")
    named = mention_from_record({**BASE, "author_name": "Nur Name"})
    assert named.author is not None and named.author.handle == "Nur Name"


def test_html_is_sanitised_and_gives_text() -> None:
    html = '<p onclick="steal()">Hallo <script>alert(1)</script><b>Welt</b> <a href="javascript:x()">l</a></p>'
    m = mention_from_record({"id": "h", "published_at": 0, "html": html})
    assert m.html is not None and "script" not in m.html and "onclick" not in m.html and "javascript" not in m.html
    assert "<b>Welt</b>" in m.html and m.text == "Hallo Welt l"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({**BASE, "id": ""}, [("id", "Field required")]),
        ({"text": "x"}, [("id", "Field required"), ("published_at", "Field required")]),
        ({**BASE, "text": None, "title": " "}, [("text", "required (or title, or html with some text)")]),
        ({**BASE, "kind": "tweet"}, [("kind", "Input should be 'post', 'comment', 'article', 'review' or 'message'")]),
        ({**BASE, "media": [1]}, [("media[0]", "Input should be a valid dictionary")]),
        ({**BASE, "author": {"followers": -1, "handle": "a"}},
         [("author.followers", "Input should be greater than or equal to 0")]),
        ({**BASE, "url": "javascript:alert(1)"}, [("url", "must be an http(s) URL, got 'javascript:alert(1)'")]),
        ({**BASE, "text": "a\x00b"}, [("text", "contains a NUL character (\\u0000)")]),
        ({**BASE, "likes": "viele"}, [("likes", "Input should be a valid number, unable to parse string as a number")]),
    ],
)  # fmt: skip
def test_problems_carry_field_paths(data: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems_of(data) == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[1]", "a record must be a JSON object, got an array"),
        (b"42", "a record must be a JSON object, got a number"),
        (b'"text"', "a record must be a JSON object, got a string"),
        (b"null", "a record must be a JSON object, got null"),
        (b'{"id": 1,}', "invalid JSON at column 10: Expecting property name enclosed in double quotes"),
        (b'{"id": "\xc3"}', "invalid UTF-8 at byte 8: b'\\xc3\"}'"),
        (b'{"id": "1", "text": "\\ud800", "published_at": 0}', "text: contains a lone UTF-16 surrogate escape"),
    ],
)
def test_connector_parse_reports_location_and_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        FileConnector.parse(RawItem(payload=payload, location="line 9"))
    assert caught.value.reason == reason and str(caught.value) == f"line 9: {reason}"


def test_split_cuts_a_document_into_lines() -> None:
    doc = b"\xef\xbb\xbf" + json.dumps(BASE).encode() + b"\n\n" + json.dumps({**BASE, "id": "r2"}).encode() + b"\r\n"
    result = FileConnector.split(doc, {"file": "x.jsonl"})
    assert [i.location for i in result.items] == ["line 1", "line 3"]
    assert [FileConnector.parse(i).external_id for i in result.items] == ["r1", "r2"]


@pytest.mark.parametrize(
    "data",
    [
        BASE,
        {**BASE, "id": "x" * 500, "platform": "p" * 40, "language": "l" * 20, "parent_id": "q" * 500},
        {**BASE, "author": {"handle": "h" * 300, "name": "n" * 300, "followers": 0}, "thread_id": "t" * 500},
        {**BASE, "author_name": "Nur Name", "media": "https://a.example/1.jpg | https://a.example/2.jpg"},
        {"id": 5, "html": "<p>nur <i>HTML</i></p>", "published_at": "Sun, 01 Mar 2026 12:00:00 +0100", "views": "7"},
    ],
)
def test_constructed_mentions_pass_mentionin_validation(data: dict[str, Any]) -> None:
    """mention_from_record builds MentionIn without validating it again; it must be valid anyway."""
    built = mention_from_record(data)
    again = MentionIn.model_validate(built.model_dump())
    assert again == built and again.published_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("id", "x" * 501, "id"),
        ("platform", "p" * 41, "platform"),
        ("language", "l" * 21, "language"),
        ("parent_id", "q" * 501, "parent_id"),
        ("thread_id", "t" * 501, "thread_id"),
        ("author", {"handle": "h" * 301}, "author.handle"),
        ("author_name", "n" * 301, "author_name"),
        ("author_followers", -1, "author_followers"),
    ],
)
def test_record_limits_are_mentionin_limits(field: str, value: Any, path: str) -> None:
    assert [p for p, _ in problems_of({**BASE, field: value})] == [path]
