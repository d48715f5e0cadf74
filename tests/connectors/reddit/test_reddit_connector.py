"""The Reddit connector: things mapped to mentions (pure), pulls through the real pull job and
replies through the publish contract, against a fake Reddit (httpx.MockTransport)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from reddit_world import API, AUTH, CLIENT_ID, PAYLOADS, SECRET, RedditWorld, make_comment, make_post, payload

from resonanz.clock import now
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, RawItem
from resonanz.connectors.reddit.connector import RedditConfig, RedditConnector
from resonanz.errors import ConfigError, ConnectorPermanentError, ConnectorTransientError, ParseError
from resonanz.sources.actions import validate_config
from resonanz.sources.models import RunStatus, SourceHealth


def item(thing: dict[str, object]) -> RawItem:
    return RawItem(payload=json.dumps({"thing": thing}).encode(), location="page 1, item 1")


def test_post_maps_title_unescaped_html_and_metrics() -> None:
    m = RedditConnector.parse(item(payload("link.json")))
    assert (m.platform, m.external_id, m.kind, m.thread_external_id) == ("reddit", "t3_1b4xyz", "post", "t3_1b4xyz")
    assert m.title == "Erfahrungen mit Radwerk Reparatur?" and m.parent_external_id is None
    assert m.text == "Mein Rad ist seit 3 Wochen bei Radwerk in Reparatur & keiner meldet sich."
    assert m.html is not None and "<strong>Radwerk</strong>" in m.html and "&lt;" not in m.html
    assert m.url == "https://www.reddit.com/r/berlin/comments/1b4xyz/erfahrungen_mit_radwerk_reparatur/"
    assert m.published_at == datetime(2024, 3, 2, 7, 5, 11, tzinfo=UTC)
    assert m.metrics == {"score": 57, "comments": 12, "upvote_ratio": 0.93}
    assert m.author is not None and m.author.handle == "pendlerin_b"


def test_comment_is_threaded_and_escaped_script_stays_text() -> None:
    m = RedditConnector.parse(item(payload("comment.json")))
    assert (m.kind, m.parent_external_id, m.thread_external_id) == ("comment", "t1_kszzzz", "t3_1b4xyz")
    assert m.text == "Ruf direkt an, per Mail dauert es ewig. <script>alert(1)</script>"  # the user typed it
    assert m.html is not None and "<script" not in m.html and m.title is None
    assert m.raw["data"]["edited"] == 1709366000.0


def test_deleted_comment_is_marked() -> None:
    m = RedditConnector.parse(item(payload("comment_deleted.json")))
    assert m.text == "[deleted]" and m.author is None and m.raw["resonanz_deleted"] is True


@pytest.mark.parametrize(
    ("thing", "reason"),
    [
        ({"kind": "t5", "data": {}}, "neither a post"),
        ({"kind": "t1", "data": {"body": "x", "created_utc": 1.0}}, "no fullname"),
        ({"kind": "t1", "data": {"name": "t1_a", "body": "x"}}, "no created_utc"),
        ({"kind": "t1", "data": {"name": "t1_a", "body": "", "created_utc": 1709365000.0}}, "no title and no text"),
    ],
)
def test_unusable_things_raise_parse_errors(thing: dict[str, object], reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        RedditConnector.parse(item(thing))


def test_pull_pages_back_with_after_and_resumes_without_gaps(reddit: RedditWorld) -> None:
    reddit.server.things += [make_post(n) for n in range(1, 9)]
    source_id = reddit.add_source(subreddits=["berlin"], comments=False, limit=3, max_pages=2)
    assert reddit.pull(source_id).new == 3
    reddit.server.things += [make_post(n) for n in range(9, 18)]  # 9 new
    second = reddit.pull(source_id)
    assert second.new == 6 and any("max_pages=2" in w for w in second.warnings)
    reddit.server.things += [make_post(n) for n in range(18, 20)]
    # the rest of the gap (posts 9-11), one pull to reach the mark (max_pages=2), then the newcomers
    assert [reddit.pull(source_id).new for _ in range(4)] == [3, 0, 2, 0]
    assert reddit.ids() == sorted(f"t3_p{n:05d}" for n in range(6, 20))
    token_calls = reddit.server.calls("/api/v1/access_token")
    assert len(token_calls) == 6 and token_calls[0].content == b"grant_type=client_credentials"
    listing = reddit.server.calls("/r/berlin/new")[0]
    assert listing.headers["user-agent"] == f"server:resonanz:{CLIENT_ID}:0.1"
    assert listing.headers["authorization"] == "bearer eyJhbGciOiJSUzI1NiJ9.reddit.test"


def test_comments_search_and_threads(reddit: RedditWorld) -> None:
    reddit.server.things += [
        make_post(1),
        make_comment(2),
        make_comment(3, parent="t1_c00002"),
        make_post(4, sub="wien"),
    ]
    source_id = reddit.add_source(subreddits=["berlin"], queries=["radwerk frage"])
    run = reddit.pull(source_id)
    assert (run.new, run.duplicate, run.status) == (4, 1, RunStatus.OK)  # post 1 comes twice: new + search
    post, reply = reddit.mention("t3_p00001"), reddit.mention("t1_c00003")
    assert reply.parent_id == reddit.mention("t1_c00002").id and reply.thread_external_id == post.external_id
    assert set(reddit.source(source_id).cursor["streams"]) == {"new:berlin", "comments:berlin", "search:radwerk frage"}


def test_an_edited_comment_maps_to_the_same_id_with_the_new_text() -> None:
    """Ingest turns the changed text into a new revision when such a thing is pulled again."""
    before, edited = make_comment(1), make_comment(1)
    edited["data"].update(body="Kommentar 1 (korrigiert)", edited=now().timestamp())
    old, new = RedditConnector.parse(item(before)), RedditConnector.parse(item(edited))
    assert old.external_id == new.external_id == "t1_c00001"
    assert (old.text, new.text) == ("Kommentar 1", "Kommentar 1 (korrigiert)")


def test_429_waits_for_the_reset_seconds(reddit: RedditWorld) -> None:
    limited = httpx.Response(
        429, json={"message": "Too Many Requests", "error": 429}, headers={"X-Ratelimit-Reset": "412"}
    )
    reddit.server.scripted.append(("/r/berlin/new", limited))
    source_id = reddit.add_source(subreddits=["berlin"])
    run = reddit.pull(source_id)
    source = reddit.source(source_id)
    assert "wait 412 s" in (run.error or "") and source.health == SourceHealth.FAILING
    assert source.next_pull_at is not None and 400 < (source.next_pull_at - now()).total_seconds() <= 413


def test_rate_limit_remaining_zero_stops_early(reddit: RedditWorld) -> None:
    reddit.server.things += [make_post(1), make_comment(2)]
    reddit.server.remaining = 0.0
    source_id = reddit.add_source(subreddits=["berlin"])
    run = reddit.pull(source_id)
    assert run.new == 1 and any("rate limit is used up" in w for w in run.warnings)
    reddit.server.remaining = 100.0
    assert reddit.pull(source_id).new == 1


@pytest.mark.parametrize(
    ("path", "answer", "needle", "health"),
    [
        ("/api/v1/access_token", httpx.Response(401, json={"message": "Unauthorized", "error": 401}),
         "prefs/apps", SourceHealth.DISABLED),
        ("/r/berlin/new", httpx.Response(403, json={"reason": "private", "message": "Forbidden", "error": 403}),
         "private or banned subreddit", SourceHealth.DISABLED),
        ("/r/berlin/new", httpx.Response(404, json={"message": "Not Found", "error": 404}), "no such subreddit",
         SourceHealth.DISABLED),
        ("/r/berlin/new", httpx.Response(500, text="upstream error"), "HTTP 500", SourceHealth.FAILING),
        ("/r/berlin/new", httpx.ReadTimeout("slow"), "timed out", SourceHealth.FAILING),
    ],
)  # fmt: skip
def test_errors_are_sorted(reddit: RedditWorld, path: str, answer: object, needle: str, health: str) -> None:
    reddit.server.scripted.append((path, answer))
    source_id = reddit.add_source(subreddits=["berlin"])
    run = reddit.pull(source_id)
    assert needle in (run.error or "") and reddit.source(source_id).health == health


def test_wrong_password_gives_guidance(reddit: RedditWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_REDDIT_PASSWORD", "wrong")
    run = reddit.pull(reddit.add_source(subreddits=["berlin"], username="radwerk_support"))
    assert "invalid_grant" in (run.error or "") and "password_env" in (run.error or "")


def test_html_error_page_is_quarantined_and_read_again(reddit: RedditWorld) -> None:
    reddit.server.things.append(make_post(1))
    source_id = reddit.add_source(subreddits=["berlin"], comments=False)
    reddit.pull(source_id)
    reddit.server.things.append(make_post(2))
    page = b"<!doctype html><title>Reddit - Dive into anything</title>"
    reddit.server.scripted.append(("/r/berlin/new", httpx.Response(200, content=page)))
    run = reddit.pull(source_id)
    (row,) = reddit.quarantine()
    assert (run.rejected, row.stage, row.location, row.raw) == (1, "fetch", "new posts in r/berlin, page 1", page)
    assert reddit.pull(source_id).new == 1 and reddit.ids() == ["t3_p00001", "t3_p00002"]


def connector(reddit: RedditWorld, **config: object) -> RedditConnector:
    values = {"client_id": CLIENT_ID, "auth_url": AUTH, "api_url": API, "subreddits": ["berlin"], **config}
    return RedditConnector(RedditConfig.model_validate(values), settings=reddit.settings, http=reddit.server.client())


def reply(thing_id: str = "t3_p00001", text: str = "Das tut uns leid! Schreib uns bitte eine DM.") -> OutgoingReply:
    return OutgoingReply(idempotency_key="outbox-0007", created_at=now(), text=text, in_reply_to=thing_id)


def test_reply_posts_a_comment_and_find_published_settles_a_timeout(reddit: RedditWorld) -> None:
    reddit.server.things.append(make_post(1))
    c = connector(reddit, username="radwerk_support")
    result = c.publish(reply())
    (sent,) = reddit.server.calls("/api/comment")
    assert (
        sent.content.decode() == "thing_id=t3_p00001&text=Das+tut+uns+leid%21+Schreib+uns+bitte+eine+DM.&api_type=json"
    )
    assert (result.external_id, result.platform) == ("t1_mine1", "reddit")
    token_form = reddit.server.calls("/api/v1/access_token")[0].content.decode()
    assert "grant_type=password" in token_form and "username=radwerk_support" in token_form

    def lost(request: httpx.Request) -> httpx.Response:
        reddit.server._comment(request)
        raise httpx.RemoteProtocolError("connection dropped", request=request)

    reddit.server.scripted.append(("/api/comment", lost))
    with pytest.raises(PublishOutcomeUnknownError):
        c.publish(reply(text="Zweite Antwort"))
    found = c.find_published(reply(text="Zweite Antwort"))
    assert found is not None and found.external_id == "t1_mine2"
    assert c.find_published(reply(text="nie gesendet")) is None


@pytest.mark.parametrize(
    ("body", "error", "needle"),
    [
        (payload("comment_error_ratelimit.json"), ConnectorTransientError, "Take a break"),
        (payload("comment_error_deleted.json"), ConnectorPermanentError, "that comment has been deleted"),
    ],
)
def test_errors_inside_a_200_answer(
    reddit: RedditWorld, body: dict[str, object], error: type[Exception], needle: str
) -> None:
    reddit.server.scripted.append(("/api/comment", httpx.Response(200, json=body)))
    with pytest.raises(error, match=needle):
        connector(reddit, username="radwerk_support").publish(reply())


def test_reply_needs_a_user_and_a_fullname(reddit: RedditWorld) -> None:
    with pytest.raises(ConnectorPermanentError, match="needs username"):
        connector(reddit).publish(reply())
    with pytest.raises(ConnectorPermanentError, match="t3_"):
        connector(reddit, username="radwerk_support").publish(reply("1b4xyz"))
    assert reddit.server.calls("/api/comment") == []


def test_config() -> None:
    stored = validate_config("reddit", {"client_id": CLIENT_ID, "subreddits": "r/berlin, /r/Fahrrad"})
    assert stored["subreddits"] == ["berlin", "Fahrrad"]
    assert stored["client_secret_env"] == "RESONANZ_REDDIT_CLIENT_SECRET" and SECRET not in json.dumps(stored)
    with pytest.raises(ConfigError, match="give subreddits"):
        validate_config("reddit", {"client_id": CLIENT_ID})
    with pytest.raises(ConfigError, match="2-21 letters"):
        validate_config("reddit", {"client_id": CLIENT_ID, "subreddits": ["a b"]})


def test_payload_files_parse() -> None:
    assert all(json.loads(p.read_text(encoding="utf-8")) for p in PAYLOADS.glob("*.json"))
    assert datetime.fromtimestamp(payload("link.json")["data"]["created_utc"], UTC) < now() - timedelta(days=1)
