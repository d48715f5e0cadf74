"""The Bluesky connector through the real pull job and the test database, against a fake PDS."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from bluesky_world import PAYLOADS, BlueskyWorld, make_post, payload, stamp, uris

from resonanz.clock import now
from resonanz.errors import ConfigError
from resonanz.sources.actions import validate_config
from resonanz.sources.models import RunStatus, SourceHealth


def test_search_walks_back_to_the_last_pull_without_gaps_or_duplicates_across_restarts(bluesky: BlueskyWorld) -> None:
    bluesky.server.posts += [make_post(n) for n in range(1, 13)]
    source_id = bluesky.add_source(queries=["radwerk"], limit=5, max_pages=2)
    first = bluesky.pull(source_id)
    assert (first.status, first.new) == (RunStatus.OK, 5) and bluesky.ids() == uris(range(8, 13))

    bluesky.server.posts += [make_post(n) for n in range(13, 26)]  # 13 new: more than max_pages * limit
    second = bluesky.pull(source_id)
    assert second.new == 10 and any("max_pages=2" in w for w in second.warnings)
    assert bluesky.source(source_id).cursor["streams"]["search:radwerk"]["pending"] is not None
    bluesky.server.posts += [make_post(n) for n in range(26, 29)]  # more arrive before the restart
    third = bluesky.pull(source_id)  # a new connector from the stored cursor finishes the gap first
    assert (third.new, third.duplicate) == (3, 0)
    fourth = bluesky.pull(source_id)  # then picks up what came meanwhile
    assert (fourth.new, fourth.duplicate) == (3, 0)
    assert bluesky.ids() == uris(range(8, 29))
    assert bluesky.pull(source_id).new == 0
    searches = bluesky.server.calls("app.bsky.feed.searchPosts")
    assert all(r.url.params["sort"] == "latest" and r.url.params["limit"] == "5" for r in searches)
    assert "since" not in searches[0].url.params and all("since" in r.url.params for r in searches[1:])


def test_a_post_indexed_late_inside_the_overlap_is_still_found(bluesky: BlueskyWorld) -> None:
    bluesky.server.posts += [make_post(n) for n in range(1, 4)]
    source_id = bluesky.add_source(queries=["radwerk"])
    assert bluesky.pull(source_id).new == 3
    newest = bluesky.server.posts[-1]["indexedAt"]
    late = make_post(99, at=now() - timedelta(hours=1) + timedelta(seconds=5))  # older than post 3, seen just now
    assert late["indexedAt"] < newest
    bluesky.server.posts.append(late)
    run = bluesky.pull(source_id)
    assert (run.new, run.duplicate) == (1, 0)


def test_notifications_take_mentions_replies_and_quotes_only(bluesky: BlueskyWorld) -> None:
    mention = payload("notification_mention.json")
    like = {**mention, "uri": "at://did:plc:kunde00000000000000000000/app.bsky.feed.like/3kl", "reason": "like"}
    like["record"] = {"$type": "app.bsky.feed.like", "subject": {}, "createdAt": mention["record"]["createdAt"]}
    bluesky.server.notifications += [mention, like]
    source_id = bluesky.add_source(notifications=True)
    run = bluesky.pull(source_id)
    assert (run.new, run.rejected) == (1, 0)
    request = bluesky.server.calls("app.bsky.notification.listNotifications")[0]
    assert request.url.params.get_list("reasons") == ["mention", "reply", "quote"]
    assert request.headers["authorization"] == "Bearer eyJhbGciOiJIUzI1NiJ9.access.test"


def test_notifications_resume_with_the_page_cursor(bluesky: BlueskyWorld) -> None:
    def note(n: int) -> dict[str, object]:
        base = payload("notification_mention.json")
        at = stamp(now() - timedelta(minutes=30) + timedelta(seconds=n))
        base.update(uri=f"at://did:plc:kunde00000000000000000000/app.bsky.feed.post/3knote{n:04d}", indexedAt=at)
        base["record"] = {**base["record"], "createdAt": at, "text": f"@radwerk.bsky.social Frage Nummer {n}"}
        return base

    bluesky.server.notifications += [note(n) for n in range(1, 3)]
    source_id = bluesky.add_source(notifications=True, limit=2, max_pages=1)
    assert bluesky.pull(source_id).new == 2
    bluesky.server.notifications += [note(n) for n in range(3, 8)]  # 5 new, 2 per page, 1 page per pull
    assert [bluesky.pull(source_id).new for _ in range(4)] == [2, 2, 1, 0]
    assert len(bluesky.ids()) == 7


def test_wrong_app_password_disables_with_guidance(bluesky: BlueskyWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_BLUESKY_APP_PASSWORD", "wrong")
    source_id = bluesky.add_source(queries=["radwerk"])
    run = bluesky.pull(source_id)
    source = bluesky.source(source_id)
    assert source.health == SourceHealth.DISABLED and "Invalid identifier or password" in (run.error or "")
    assert "App passwords" in (source.last_error or "") and "password_env" in (source.last_error or "")


def test_missing_app_password_names_the_variable(bluesky: BlueskyWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESONANZ_BLUESKY_APP_PASSWORD")
    run = bluesky.pull(bluesky.add_source(queries=["radwerk"]))
    assert "set the environment variable RESONANZ_BLUESKY_APP_PASSWORD" in (run.error or "")
    assert bluesky.server.requests == []


def test_429_waits_until_ratelimit_reset(bluesky: BlueskyWorld) -> None:
    reset = str(int((now() + timedelta(seconds=300)).timestamp()))
    limited = httpx.Response(429, json=payload("error_ratelimit.json"), headers={"RateLimit-Reset": reset})
    bluesky.server.scripted.append(("app.bsky.feed.searchPosts", limited))
    source_id = bluesky.add_source(queries=["radwerk"])
    run = bluesky.pull(source_id)
    source = bluesky.source(source_id)
    assert "RateLimitExceeded" in (run.error or "") and source.health == SourceHealth.FAILING
    assert source.next_pull_at is not None and 250 < (source.next_pull_at - now()).total_seconds() <= 301


def test_exhausted_rate_limit_stops_and_resumes(bluesky: BlueskyWorld) -> None:
    bluesky.server.posts += [make_post(n) for n in range(1, 3)]
    source_id = bluesky.add_source(queries=["radwerk"], limit=2)
    bluesky.pull(source_id)
    bluesky.server.posts += [make_post(n) for n in range(3, 9)]
    bluesky.server.remaining = 0
    run = bluesky.pull(source_id)
    assert run.new == 2 and any("rate limit is used up" in w for w in run.warnings)
    bluesky.server.remaining = 100
    assert bluesky.pull(source_id).new == 4
    assert bluesky.ids() == uris(range(1, 9))


@pytest.mark.parametrize(
    ("answer", "needle", "health"),
    [
        (httpx.Response(500, json={"error": "InternalServerError"}), "HTTP 500", SourceHealth.FAILING),
        (httpx.ReadTimeout("slow"), "timed out", SourceHealth.FAILING),
        (httpx.Response(403, json={"error": "AccountTakedown"}), "taken down", SourceHealth.DISABLED),
    ],
)
def test_errors_are_sorted(bluesky: BlueskyWorld, answer: object, needle: str, health: str) -> None:
    bluesky.server.scripted.append(("app.bsky.feed.searchPosts", answer))
    source_id = bluesky.add_source(queries=["radwerk"])
    run = bluesky.pull(source_id)
    assert needle in (run.error or "") and bluesky.source(source_id).health == health


def test_malformed_page_is_quarantined_and_nothing_is_skipped(bluesky: BlueskyWorld) -> None:
    bluesky.server.posts += [make_post(1)]
    source_id = bluesky.add_source(queries=["radwerk"])
    bluesky.pull(source_id)
    bluesky.server.posts += [make_post(2), make_post(3)]
    broken = b'{"posts": [{"uri": "at://did:plc:x/app.bsky.feed.post/1", "record": {'
    bluesky.server.scripted.append(("app.bsky.feed.searchPosts", httpx.Response(200, content=broken)))
    run = bluesky.pull(source_id)
    assert (run.new, run.rejected) == (0, 1)
    (row,) = bluesky.quarantine()
    assert (row.stage, row.location, row.raw) == ("fetch", "the search 'radwerk', page 1", broken)
    assert bluesky.pull(source_id).new == 2 and bluesky.ids() == uris([1, 2, 3])


def test_a_record_that_is_not_a_post_is_quarantined_alone(bluesky: BlueskyWorld) -> None:
    bad = make_post(2)
    bad["record"]["$type"] = "app.bsky.feed.generator"
    bluesky.server.posts += [make_post(1), bad]
    run = bluesky.pull(bluesky.add_source(queries=["radwerk"]))
    assert (run.new, run.rejected) == (1, 1)
    assert json.loads(bluesky.quarantine()[0].raw)["post"]["uri"].endswith("3kpost0000002")


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"identifier": "radwerk.bsky.social"}, "give at least one of queries or notifications"),
        ({"identifier": "radwerk.bsky.social", "queries": ["x"], "password": "p"}, "Extra inputs"),
        ({"identifier": "radwerk.bsky.social", "queries": ["x"], "limit": 101}, "limit"),
    ],
)
def test_invalid_configs_are_refused(config: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        validate_config("bluesky", config)


def test_payload_files_parse_as_json() -> None:
    assert all(json.loads(p.read_text(encoding="utf-8")) for p in PAYLOADS.glob("*.json"))
