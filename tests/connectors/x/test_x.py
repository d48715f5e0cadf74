"""X API v2: parse, pull through the real pull job (since_id, next_token, pending gaps, rate limit),
replies signed with OAuth 1.0a and the lookup."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from x_world import FIRST, FakeX, make_tweet, payload

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, RawItem
from resonanz.connectors.http_api import compact_json
from resonanz.connectors.x.connector import XConfig, XConnector
from resonanz.connectors.x.oauth1 import signature
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.models import Mention
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import IngestRun, RunStatus, Source, SourceHealth
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import SourceCreate


def add_source(db: Database, **config: Any) -> int:
    with transaction(db.sessions) as session:
        return do_create_source(session, data=SourceCreate(name="x", kind="x", config=config)).id


def pull(db: Database, settings: Settings, xapi: FakeX, source_id: int) -> IngestRun:
    with xapi.client() as client:
        return pull_source(db.sessions, source_id=source_id, settings=settings, http=client)


def ids(db: Database) -> list[str]:
    with db.sessions() as session:
        return sorted(session.scalars(select(Mention.external_id)))


def test_oauth1_signature_matches_xs_documented_example() -> None:
    params = [("include_entities", "true"), ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
              ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"), ("oauth_signature_method", "HMAC-SHA1"),
              ("oauth_timestamp", "1318622958"), ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
              ("oauth_version", "1.0"), ("status", "Hello Ladies + Gentlemen, a signed OAuth request!")]  # fmt: skip
    url = "https://api.twitter.com/1.1/statuses/update.json"
    consumer, token = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw", "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
    assert signature("POST", url, params, consumer, token) == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="


def test_parse_maps_the_documented_post_and_edits_keep_the_original_id() -> None:
    body = payload("search_recent.json")
    item = RawItem(
        payload=compact_json({"tweet": body["data"][0], "author": body["includes"]["users"][0]}), location="x"
    )
    m = XConnector.parse(item)
    assert (m.external_id, m.kind, m.parent_external_id, m.thread_external_id) == (
        "1861780000000000002", "comment", "1861770000000000001", "1861770000000000001")  # fmt: skip
    assert m.author is not None and (m.author.handle, m.author.followers) == ("radlerin_kiel", 812)
    assert m.metrics["views"] == 120 and m.language_hint == "de"
    edited = {**body["data"][0], "id": "1861780000000000099", "text": "korrigiert",
              "edit_history_tweet_ids": ["1861780000000000002", "1861780000000000099"]}  # fmt: skip
    assert XConnector.parse(RawItem(payload=compact_json({"tweet": edited}), location="y")).external_id == (
        "1861780000000000002"
    )


def test_search_walks_down_to_since_id_and_finishes_gaps_after_a_stop(
    db: Database, x_settings: Settings, xapi: FakeX
) -> None:
    base = now() - timedelta(hours=2)
    xapi.tweets = [make_tweet(n, at=base + timedelta(minutes=n)) for n in range(1, 16)]
    source_id = add_source(db, queries=["radwerk -is:retweet"], max_results=10, max_pages=2)
    first = pull(db, x_settings, xapi, source_id)
    assert (first.status, first.new) == (RunStatus.OK, 10)  # the newest page only
    xapi.tweets += [make_tweet(n, at=base + timedelta(minutes=n)) for n in range(16, 46)]  # 30 new, 3 pages
    second = pull(db, x_settings, xapi, source_id)
    assert second.new == 20 and any("max_pages=2" in w for w in second.warnings)
    state = xapi.requests[-1].url.params
    assert state["since_id"] == str(FIRST + 15)
    third = pull(db, x_settings, xapi, source_id)  # finishes the gap, then since_id moves up
    assert (third.new, third.duplicate) == (10, 0)
    assert ids(db) == sorted(str(FIRST + n) for n in range(6, 46))
    with db.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None and source.cursor["streams"]["search:radwerk -is:retweet"] == {
            "since_id": str(FIRST + 45)
        }
    assert pull(db, x_settings, xapi, source_id).new == 0


def test_429_waits_until_the_reset_and_a_used_up_limit_stops_early(
    db: Database, x_settings: Settings, xapi: FakeX
) -> None:
    xapi.tweets = [make_tweet(n, at=now() - timedelta(minutes=60 - n)) for n in range(1, 31)]
    source_id = add_source(db, mentions=True, user_id="1480000000000000000", max_results=10)
    pull(db, x_settings, xapi, source_id)
    xapi.tweets += [make_tweet(n, at=now()) for n in range(31, 61)]
    reset = int((now() + timedelta(minutes=7)).timestamp())
    xapi.scripted.append(
        httpx.Response(429, json=payload("error_429.json"), headers={"x-rate-limit-reset": str(reset)})
    )
    run = pull(db, x_settings, xapi, source_id)
    assert run.status == RunStatus.FAILED and "rate limit is used up" in (run.error or "")
    with db.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None and source.next_pull_at is not None
        assert source.next_pull_at >= now() + timedelta(minutes=6)
    xapi.remaining = 0
    run = pull(db, x_settings, xapi, source_id)
    assert run.new == 10 and any("rate limit is used up" in w for w in run.warnings)
    xapi.remaining = 100
    assert pull(db, x_settings, xapi, source_id).new == 20


def test_access_level_and_malformed_pages(db: Database, x_settings: Settings, xapi: FakeX) -> None:
    source_id = add_source(db, queries=["radwerk"])
    xapi.scripted.append(httpx.Response(200, text="<html>over capacity</html>"))
    assert pull(db, x_settings, xapi, source_id).rejected == 1
    xapi.scripted.append(httpx.Response(403, json=payload("error_403_access.json")))
    run = pull(db, x_settings, xapi, source_id)
    assert "Basic tier" in (run.error or "")
    with db.sessions() as session:
        assert session.get(Source, source_id).health == SourceHealth.DISABLED  # type: ignore[union-attr]


def reply(text: str = "@radlerin_kiel Danke, wir melden uns per DM.") -> OutgoingReply:
    return OutgoingReply(idempotency_key="outbox:4", created_at=now(), text=text, in_reply_to=str(FIRST + 2))


def connector(settings: Settings, xapi: FakeX) -> XConnector:
    return XConnector(XConfig(user_id="1480000000000000000"), settings=settings, http=xapi.client())


def test_reply_is_signed_with_oauth1_and_can_be_found(x_settings: Settings, xapi: FakeX) -> None:
    store = connector(x_settings, xapi)
    assert store.find_published(reply()) is None
    result = store.publish(reply())
    assert result.external_id == str(FIRST + 900)
    found = store.find_published(reply())
    assert found is not None and found.external_id == result.external_id


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(503), ConnectorTransientError),  # 503: nothing was sent
        (httpx.Response(500), PublishOutcomeUnknownError),
        (httpx.ReadTimeout("slow"), PublishOutcomeUnknownError),
        (
            httpx.Response(403, json={"detail": "You are not allowed to create a Tweet with duplicate content."}),
            ConnectorPermanentError,
        ),
    ],
)
def test_reply_errors(x_settings: Settings, xapi: FakeX, answer: Any, error: type[Exception]) -> None:
    xapi.scripted.append(answer)
    with pytest.raises(error) as caught:
        connector(x_settings, xapi).publish(reply())
    if error is ConnectorTransientError:
        assert not isinstance(caught.value, PublishOutcomeUnknownError)
