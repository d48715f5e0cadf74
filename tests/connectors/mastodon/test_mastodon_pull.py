"""The Mastodon connector through the real pull job and the test database, against a fake
instance that pages as the REST API documents (httpx.MockTransport)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from mastodon_world import BASE, PAYLOADS, MastodonWorld, make_status, payload

from resonanz.clock import now
from resonanz.connectors.mastodon.connector import MastodonConfig, MastodonConnector
from resonanz.errors import ConfigError
from resonanz.sources.actions import validate_config
from resonanz.sources.models import RunStatus, SourceHealth


def ids(world: MastodonWorld) -> list[str]:
    return sorted(m.external_id for m in world.mentions())


def expected(numbers: range | list[int]) -> list[str]:
    return sorted(f"social.example/{111000000000001000 + n}" for n in numbers)


def test_first_pull_takes_the_newest_page_then_walks_forward_without_gaps_across_restarts(
    mastodon: MastodonWorld,
) -> None:
    mastodon.server.add(*(make_status(n) for n in range(1, 51)))
    source_id = mastodon.add_source(hashtags=["bahn"], limit=20, max_pages=2)
    first = mastodon.pull(source_id)
    assert (first.status, first.new) == (RunStatus.OK, 20)
    assert ids(mastodon) == expected(range(31, 51))  # the newest page only
    assert mastodon.source(source_id).cursor["streams"]["tag:bahn"]["min_id"] == str(111000000000001050)

    mastodon.server.add(*(make_status(n) for n in range(51, 111)))  # 60 new: more than max_pages * limit
    second = mastodon.pull(source_id)
    assert second.new == 40 and any("max_pages=2" in w for w in second.warnings)
    # a restart: a new connector from the stored cursor; the server added more meanwhile
    mastodon.server.add(*(make_status(n) for n in range(111, 116)))
    third = mastodon.pull(source_id)
    assert (third.new, third.duplicate) == (25, 0)
    assert ids(mastodon) == expected(range(31, 116))
    assert mastodon.pull(source_id).new == 0
    min_ids = [r.url.params.get("min_id") for r in mastodon.server.requests]
    assert min_ids[0] is None and all(min_ids[1:])  # always min_id after the first page: never since_id
    assert all(r.url.params["limit"] == "20" for r in mastodon.server.requests)


def test_search_and_notifications_are_separate_streams(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1, text="Fahrrad Radwerk kaputt"), make_status(2, text="nichts"))
    mastodon.server.notifications.append(payload("notification_mention.json"))
    source_id = mastodon.add_source(queries=["radwerk kaputt"], notifications=True)
    run = mastodon.pull(source_id)
    assert run.new == 2 and run.status == RunStatus.OK
    assert ids(mastodon) == sorted([*expected([1]), "social.example/111000000000000200"])
    assert mastodon.mention("social.example/111000000000000200").kind == "message"
    streams = mastodon.source(source_id).cursor["streams"]
    assert set(streams) == {"search:radwerk kaputt", "notifications"}
    notif = next(r for r in mastodon.server.requests if r.url.path == "/api/v1/notifications")
    assert notif.url.params.get_list("types[]") == ["mention", "update"]
    assert notif.headers["authorization"] == "Bearer test-token-123"


def test_an_edit_reported_by_an_update_notification_becomes_a_new_revision(mastodon: MastodonWorld) -> None:
    mention = payload("notification_mention.json")
    mastodon.server.notifications.append(mention)
    source_id = mastodon.add_source(notifications=True)
    assert mastodon.pull(source_id).new == 1
    edited = {**mention["status"], "content": "<p>Bestellung 4711 ist jetzt da, danke!</p>"}
    edited["edited_at"] = "2024-03-02T09:00:00.000Z"
    mastodon.server.notifications.append({**mention, "id": "34975999", "type": "update", "status": edited})
    run = mastodon.pull(source_id)
    assert (run.new, run.updated) == (0, 1)
    stored = mastodon.mention("social.example/111000000000000200")
    assert stored.revision == 2 and "jetzt da" in stored.text


def test_429_waits_until_the_rate_limit_resets(mastodon: MastodonWorld) -> None:
    reset = (now() + timedelta(seconds=240)).isoformat().replace("+00:00", "Z")
    mastodon.server.scripted.append(
        httpx.Response(429, json={"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset})
    )
    source_id = mastodon.add_source(hashtags=["bahn"])
    run = mastodon.pull(source_id)
    source = mastodon.source(source_id)
    assert run.status == RunStatus.FAILED and "HTTP 429" in (run.error or "") and "240 s" in (run.error or "")
    assert source.health == SourceHealth.FAILING and source.next_pull_at is not None
    assert 200 < (source.next_pull_at - now()).total_seconds() <= 241


def test_exhausted_rate_limit_stops_early_and_the_next_pull_resumes(mastodon: MastodonWorld) -> None:
    mastodon.server.add(*(make_status(n) for n in range(1, 6)))
    source_id = mastodon.add_source(hashtags=["bahn", "zug"], limit=5)
    mastodon.pull(source_id)
    mastodon.server.add(*(make_status(n) for n in range(6, 16)), make_status(16, tag="zug"))
    mastodon.server.remaining = 0
    run = mastodon.pull(source_id)
    assert run.new == 5 and any("rate limit is used up" in w for w in run.warnings)
    assert "tag:zug" not in mastodon.source(source_id).cursor["streams"]
    mastodon.server.remaining = 200
    assert mastodon.pull(source_id).new == 6
    assert ids(mastodon) == expected(range(1, 17))


@pytest.mark.parametrize(
    ("status", "body", "needle", "health"),
    [
        (401, payload("error_401.json"), "The access token is invalid", SourceHealth.DISABLED),
        (403, {"error": "This action is not allowed"}, "missing scope", SourceHealth.DISABLED),
        (404, {"error": "Record not found"}, "HTTP 404", SourceHealth.DISABLED),
        (500, {"error": "We're sorry, but something went wrong"}, "HTTP 500", SourceHealth.FAILING),
        (503, b"<html>maintenance</html>", "HTTP 503", SourceHealth.FAILING),
    ],
)
def test_http_errors_are_sorted(mastodon: MastodonWorld, status: int, body: object, needle: str, health: str) -> None:
    reply = httpx.Response(status, content=body) if isinstance(body, bytes) else httpx.Response(status, json=body)
    mastodon.server.scripted.append(reply)
    source_id = mastodon.add_source(hashtags=["bahn"])
    run = mastodon.pull(source_id)
    source = mastodon.source(source_id)
    assert run.status == RunStatus.FAILED and needle in (source.last_error or "")
    assert source.health == health


def test_401_tells_how_to_get_a_token(mastodon: MastodonWorld) -> None:
    mastodon.server.scripted.append(httpx.Response(401, json=payload("error_401.json")))
    source_id = mastodon.add_source(notifications=True)
    mastodon.pull(source_id)
    error = mastodon.source(source_id).last_error or ""
    assert "Preferences > Development" in error and "token_env" in error


def test_timeout_is_transient_and_nothing_moves(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1))
    source_id = mastodon.add_source(hashtags=["bahn"])
    mastodon.pull(source_id)
    cursor = mastodon.source(source_id).cursor
    mastodon.server.scripted.append(httpx.ReadTimeout("slow"))
    run = mastodon.pull(source_id)
    assert "timed out" in (run.error or "") and mastodon.source(source_id).health == SourceHealth.FAILING
    assert mastodon.source(source_id).cursor == cursor


def test_missing_token_disables_with_guidance(mastodon: MastodonWorld) -> None:
    source_id = mastodon.add_source(notifications=True, token_env="RESONANZ_NOT_SET_ANYWHERE")
    run = mastodon.pull(source_id)
    assert "set the environment variable RESONANZ_NOT_SET_ANYWHERE" in (run.error or "")
    assert mastodon.source(source_id).health == SourceHealth.DISABLED
    assert mastodon.server.requests == []


def test_hashtags_need_no_token(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1))
    source_id = mastodon.add_source(hashtags=["bahn"], token_env="RESONANZ_NOT_SET_ANYWHERE")
    assert mastodon.pull(source_id).new == 1
    assert "authorization" not in mastodon.server.requests[0].headers


def test_malformed_page_is_quarantined_and_the_cursor_stays(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1))
    source_id = mastodon.add_source(hashtags=["bahn"])
    mastodon.pull(source_id)
    mastodon.server.add(make_status(2), make_status(3))
    body = (PAYLOADS / "truncated_page.json").read_bytes()
    mastodon.server.scripted.append(httpx.Response(200, content=body, headers={"Content-Type": "application/json"}))
    run = mastodon.pull(source_id)
    assert (run.new, run.rejected, run.status) == (0, 1, RunStatus.PARTIAL)
    (row,) = mastodon.quarantine()
    assert row.stage == "fetch" and row.location == "the hashtag timeline #bahn, page 1" and row.raw == body
    assert "is not JSON" in row.reason and row.context["stream"] == "tag:bahn"
    assert mastodon.source(source_id).health == SourceHealth.FAILING
    assert mastodon.pull(source_id).new == 2  # the same page asked again: nothing lost
    assert ids(mastodon) == expected([1, 2, 3])


def test_unparseable_status_goes_to_quarantine_alone(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1), make_status(2, created_at="gestern"))
    run = mastodon.pull(mastodon.add_source(hashtags=["bahn"]))
    assert (run.new, run.rejected) == (1, 1)
    (row,) = mastodon.quarantine()
    assert row.stage == "parse" and row.location == "the hashtag timeline #bahn, page 1, item 1"


def test_a_changed_instance_starts_a_fresh_cursor(mastodon: MastodonWorld) -> None:
    connector = MastodonConnector(
        MastodonConfig(instance=BASE, hashtags=["bahn"]), settings=mastodon.settings, http=mastodon.server.client()
    )
    mastodon.server.add(make_status(1))
    result = connector.pull({"instance": "https://other.example", "streams": {"tag:bahn": {"min_id": "5"}}})
    assert len(result.items) == 1 and "min_id" not in mastodon.server.requests[0].url.params


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"instance": "social.example"}, "give at least one of hashtags"),
        ({"instance": "ftp://social.example", "hashtags": ["x"]}, "base URL"),
        ({"instance": "https://social.example/web", "hashtags": ["x"]}, "base URL"),
        ({"instance": "social.example", "hashtags": ["a b"]}, "letters, digits"),
        ({"instance": "social.example", "hashtags": ["x"], "token": "secret"}, "Extra inputs are not permitted"),
        ({"instance": "social.example", "hashtags": ["x"], "limit": 80}, "limit"),
    ],
)
def test_invalid_configs_are_refused(config: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        validate_config("mastodon", config)


def test_config_accepts_a_bare_host_and_comma_lists() -> None:
    stored = validate_config("mastodon", {"url": "social.example/", "hashtags": "#Bahn, zug", "queries": "radwerk"})
    assert stored["instance"] == "https://social.example" and stored["hashtags"] == ["Bahn", "zug"]
    assert stored["queries"] == ["radwerk"] and "token" not in str(stored).replace("token_env", "")


def test_an_unreadable_secrets_file_disables_with_the_reason(mastodon: MastodonWorld) -> None:
    assert mastodon.settings.secrets_file is not None
    mastodon.settings.secrets_file.write_text("{not json", encoding="utf-8")
    source_id = mastodon.add_source(notifications=True)
    run = mastodon.pull(source_id)
    assert "is not readable JSON" in (run.error or "") and mastodon.source(source_id).health == SourceHealth.DISABLED


def test_search_walks_down_from_the_newest_match_without_gaps_across_restarts(mastodon: MastodonWorld) -> None:
    """Search answers the newest matches above min_id, so walking up from min_id would skip."""
    mastodon.server.add(*(make_status(n, text=f"Radwerk {n}") for n in range(1, 8)))
    source_id = mastodon.add_source(queries=["radwerk"], limit=5, max_pages=2)
    assert mastodon.pull(source_id).new == 5
    mastodon.server.add(*(make_status(n, text=f"Radwerk {n}") for n in range(8, 22)))  # 14 new
    second = mastodon.pull(source_id)
    assert second.new == 10 and any("max_pages=2" in w for w in second.warnings)
    state = mastodon.source(source_id).cursor["streams"]["search:radwerk"]
    assert state["min_id"] == str(111000000000001007) and state["pending"]["newest"] == str(111000000000001021)
    mastodon.server.add(*(make_status(n, text=f"Radwerk {n}") for n in range(22, 25)))
    assert [mastodon.pull(source_id).new for _ in range(3)] == [4, 3, 0]
    assert ids(mastodon) == expected(range(3, 25))
    last = [r for r in mastodon.server.requests if r.url.path == "/api/v2/search"][-1]
    assert last.url.params["min_id"] == str(111000000000001024)
