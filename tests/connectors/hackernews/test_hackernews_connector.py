"""The Hacker News connector: hits mapped to mentions (pure), and pulls through the real pull job
against a fake Algolia API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hackernews_world import PAYLOADS, HackerNewsWorld, comment_ids, make_comment, payload

from resonanz.clock import now
from resonanz.connectors.base import OutgoingReply, RawItem
from resonanz.connectors.hackernews.connector import HackerNewsConfig, HackerNewsConnector
from resonanz.errors import ConfigError, ConnectorPermanentError, ParseError
from resonanz.sources.actions import validate_config
from resonanz.sources.models import RunStatus, SourceHealth


def item(hit: dict[str, object]) -> RawItem:
    return RawItem(payload=json.dumps({"api": "https://hn.algolia.com/api/v1", "hit": hit}).encode(), location="hit 1")


def test_comment_hit_is_threaded_under_its_parent_and_story() -> None:
    comment, story = payload("search_by_date.json")["hits"]
    m = HackerNewsConnector.parse(item(comment))
    assert (m.platform, m.external_id, m.kind) == ("hackernews", "39580123", "comment")
    assert (m.parent_external_id, m.thread_external_id) == ("39580100", "39580000")
    assert m.url == "https://news.ycombinator.com/item?id=39580123" and m.title is None
    assert m.published_at == datetime(2024, 3, 2, 7, 5, 11, tzinfo=UTC)
    assert m.text == (
        "We switched to Radwerk last year & the booking flow is great.\n"  # HN's bare <p> separates paragraphs
        "But support took 9 days to answer about a broken hub: https://radwerk.example/status"
    )
    assert m.html is not None and 'href="https://radwerk.example/status"' in m.html
    assert m.author is not None and (m.author.handle, m.author.url) == (
        "kaffeetrinker",
        "https://news.ycombinator.com/user?id=kaffeetrinker",
    )
    assert "_highlightResult" not in m.raw and m.raw["story_title"].startswith("Show HN")

    s = HackerNewsConnector.parse(item(story))
    assert (s.kind, s.parent_external_id, s.thread_external_id) == ("post", None, "39580000")
    assert s.title == "Show HN: Radwerk – bike repair booking for cities" and s.text == ""
    assert s.metrics == {"points": 128, "comments": 42}
    assert s.media == [{"url": "https://radwerk.example/", "kind": "link"}]


def test_ask_hn_story_text_is_sanitised() -> None:
    m = HackerNewsConnector.parse(item(payload("ask_hn_story.json")))
    assert m.text == "Has anyone used Radwerk for a fleet of cargo bikes?\nWe have 30 bikes <and> need weekly service."
    assert m.html is not None and "<script" not in m.html and m.media == []


@pytest.mark.parametrize(
    ("hit", "reason"),
    [
        ({"created_at_i": 1709363111, "title": "x"}, "no numeric objectID"),
        ({"objectID": "1", "title": "x", "created_at": "yesterday"}, "neither created_at_i nor a valid created_at"),
        ({"objectID": "1", "created_at_i": 1709363111, "_tags": ["story"]}, "no title and no text"),
    ],
)
def test_unusable_hits_raise_parse_errors(hit: dict[str, object], reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        HackerNewsConnector.parse(item(hit))


def test_pull_walks_back_without_gaps_or_duplicates_across_restarts(hackernews: HackerNewsWorld) -> None:
    hackernews.server.hits += [make_comment(n) for n in range(1, 11)]
    source_id = hackernews.add_source(hits_per_page=4, max_pages=2)
    assert hackernews.pull(source_id).new == 4  # the first pull takes the newest page
    assert hackernews.ids() == comment_ids(range(7, 11))
    hackernews.server.hits += [make_comment(n) for n in range(11, 22)]  # 11 new
    second = hackernews.pull(source_id)
    assert second.new == 8 and any("max_pages=2" in w for w in second.warnings)
    hackernews.server.hits += [make_comment(n) for n in range(22, 24)]
    assert [hackernews.pull(source_id).new for _ in range(3)] == [3, 2, 0]
    assert hackernews.ids() == comment_ids(range(7, 24))
    filters = [r.url.params.get("numericFilters") for r in hackernews.server.requests]
    assert filters[0] is None and all(f and f.startswith("created_at_i>=") for f in filters[1:])
    assert all(r.url.params["tags"] == "(story,comment)" for r in hackernews.server.requests)


def test_more_than_algolias_1000_hits_narrows_the_window(hackernews: HackerNewsWorld) -> None:
    start = now() - timedelta(hours=5)
    hackernews.server.hits.append(make_comment(0, at=start))
    source_id = hackernews.add_source(hits_per_page=500, max_pages=10)
    hackernews.pull(source_id)
    hackernews.server.hits += [make_comment(n, at=start + timedelta(seconds=n)) for n in range(1, 1301)]
    run = hackernews.pull(source_id)
    assert (run.new, run.duplicate) == (1300, 0)
    narrowed = [
        r.url.params["numericFilters"]
        for r in hackernews.server.requests
        if "<=" in r.url.params.get("numericFilters", "")
    ]
    assert narrowed, "the pull must narrow created_at_i<= after page 1 of the 1,000-hit limit"


def test_a_comment_indexed_late_inside_the_overlap_is_found(hackernews: HackerNewsWorld) -> None:
    hackernews.server.hits += [make_comment(n) for n in range(1, 4)]
    source_id = hackernews.add_source()
    hackernews.pull(source_id)
    newest = hackernews.server.hits[-1]["created_at_i"]
    hackernews.server.hits.append(make_comment(50, at=datetime.fromtimestamp(newest - 60, UTC)))
    assert hackernews.pull(source_id).new == 1


@pytest.mark.parametrize(
    ("answer", "needle", "health"),
    [
        (
            httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "3600"}),
            "wait 3600 s",
            SourceHealth.FAILING,
        ),
        (httpx.Response(400, json=payload("error_400.json")), "invalid numeric filter", SourceHealth.DISABLED),
        (httpx.Response(503, text="Service Unavailable"), "HTTP 503", SourceHealth.FAILING),
        (httpx.ConnectTimeout("no route"), "could not reach", SourceHealth.FAILING),
    ],
)
def test_errors_are_sorted(hackernews: HackerNewsWorld, answer: object, needle: str, health: str) -> None:
    hackernews.server.scripted.append(answer)
    source_id = hackernews.add_source()
    run = hackernews.pull(source_id)
    assert run.status == RunStatus.FAILED and needle in (run.error or "")
    assert hackernews.source(source_id).health == health


def test_malformed_answer_is_quarantined_and_retried(hackernews: HackerNewsWorld) -> None:
    hackernews.server.hits += [make_comment(1)]
    source_id = hackernews.add_source()
    hackernews.pull(source_id)
    hackernews.server.hits += [make_comment(2)]
    hackernews.server.scripted.append(httpx.Response(200, content=b"<html>Bad gateway</html>"))
    run = hackernews.pull(source_id)
    (row,) = hackernews.quarantine()
    assert (run.rejected, row.stage, row.location) == (1, "fetch", "the search 'radwerk', page 0 (request 1)")
    assert row.raw == b"<html>Bad gateway</html>" and hackernews.source(source_id).health == SourceHealth.FAILING
    assert hackernews.pull(source_id).new == 1 and hackernews.ids() == comment_ids([1, 2])


def test_read_only(hackernews: HackerNewsWorld) -> None:
    connector = HackerNewsConnector(HackerNewsConfig(queries=["radwerk"]), settings=hackernews.settings)
    reply = OutgoingReply(idempotency_key="outbox-0001", created_at=now(), text="hi", in_reply_to="39580123")
    assert HackerNewsConnector.publishes is False
    with pytest.raises(ConnectorPermanentError, match="read-only"):
        connector.publish(reply)


def test_config() -> None:
    assert validate_config("hackernews", {"queries": 'radwerk, "rad werk"'})["queries"] == ["radwerk", '"rad werk"']
    with pytest.raises(ConfigError, match="queries"):
        validate_config("hackernews", {"queries": []})
    with pytest.raises(ConfigError, match="tags"):
        validate_config("hackernews", {"queries": ["x"], "tags": "job"})


def test_payload_files_parse() -> None:
    assert all(json.loads(p.read_text(encoding="utf-8")) for p in PAYLOADS.glob("*.json"))
