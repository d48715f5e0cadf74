"""Facebook Page / Instagram: parse, pull through the real pull job (feed + comments without gaps
or duplicates, edits, usage headers, throttling, expired tokens), replies and the lookup."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graph_world import IG, PAGE, FakeGraph, payload
from sqlalchemy import select

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, RawItem
from resonanz.connectors.facebook.connector import FacebookConfig, FacebookConnector, usage_of
from resonanz.connectors.http_api import compact_json
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
        data = SourceCreate(name="fb", kind="facebook", config={"page_id": PAGE, **config})
        return do_create_source(session, data=data).id


def pull(db: Database, settings: Settings, graph: FakeGraph, source_id: int) -> IngestRun:
    with graph.client() as client:
        return pull_source(db.sessions, source_id=source_id, settings=settings, http=client)


def stored(db: Database) -> dict[str, Mention]:
    with db.sessions() as session:
        return {m.external_id: m for m in session.scalars(select(Mention))}


def item(network: str, kind: str, obj: dict[str, Any], root: str) -> RawItem:
    return RawItem(payload=compact_json({"network": network, "kind": kind, "object": obj, "root": root}), location="x")


def test_parse_posts_comments_and_instagram_replies() -> None:
    post = payload("feed.json")["data"][0]
    p = FacebookConnector.parse(item("facebook", "post", post, post["id"]))
    assert (p.kind, p.platform, p.thread_external_id, p.parent_external_id) == ("post", "facebook", post["id"], None)
    assert p.published_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC) and p.author is not None
    reply, top = payload("comments.json")["data"]
    c = FacebookConnector.parse(item("facebook", "comment", top, post["id"]))
    assert (c.parent_external_id, c.thread_external_id) == (post["id"], post["id"])
    r = FacebookConnector.parse(item("facebook", "comment", reply, post["id"]))
    assert r.parent_external_id == top["id"] and r.metrics == {"likes": 1}
    ig = payload("ig_comments.json")["data"][0]
    i = FacebookConnector.parse(item("instagram", "comment", ig["replies"]["data"][0], "1790000000000001"))
    assert (i.platform, i.parent_external_id, i.thread_external_id) == ("instagram", ig["id"], "1790000000000001")
    assert i.author is not None and i.author.handle == "instagram:radwerk"


def test_feed_and_comments_arrive_once_and_an_edited_post_is_a_revision(
    db: Database, fb_settings: Settings, graph: FakeGraph
) -> None:
    base = now() - timedelta(hours=5)
    first_post = graph.add_post(1, at=base)
    second_post = graph.add_post(2, at=base + timedelta(minutes=10))
    top = graph.add_comment(first_post, 1, at=base + timedelta(minutes=20))
    for n in range(2, 6):
        graph.add_comment(first_post, n, at=base + timedelta(minutes=20 + n), parent=top if n == 3 else None)
    source_id = add_source(db)
    first = pull(db, fb_settings, graph, source_id)
    assert (first.status, first.new) == (RunStatus.OK, 7)  # two posts, five comments over three pages
    assert pull(db, fb_settings, graph, source_id).new == 0  # a restart: nothing again
    graph.add_comment(first_post, 6, at=now() - timedelta(minutes=1))
    graph.add_comment(second_post, 7, at=now() - timedelta(minutes=1))
    graph.add_post(2, at=base + timedelta(minutes=10), message="Korrigiert: ab 1.999 EUR", updated=now())
    run = pull(db, fb_settings, graph, source_id)
    assert (run.new, run.updated, run.duplicate) == (2, 1, 0)
    mentions = stored(db)
    assert mentions[second_post].revision == 2
    reply_id = f"{first_post.split('_')[-1]}_{987650000000000 + 3}"
    assert mentions[reply_id].parent_external_id == top


def test_instagram_comments_with_replies(db: Database, fb_settings: Settings, graph: FakeGraph) -> None:
    posted = (now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    graph.media = [{"id": "1790000000000001", "timestamp": posted, "permalink": "https://www.instagram.com/p/xyz/",
                    "comments_count": 2}]  # fmt: skip
    graph.comments["1790000000000001"] = payload("ig_comments.json")["data"]
    source_id = add_source(db, page_posts=False, instagram_account_id=IG)
    assert pull(db, fb_settings, graph, source_id).new == 2
    assert pull(db, fb_settings, graph, source_id).new == 0
    assert stored(db)["17858893269000002"].parent_external_id == "17858893269000001"


def test_usage_headers_stop_early_and_throttling_waits(db: Database, fb_settings: Settings, graph: FakeGraph) -> None:
    base = now() - timedelta(hours=1)
    for n in range(1, 6):
        graph.add_post(n, at=base + timedelta(minutes=n))
    source_id = add_source(db)
    pull(db, fb_settings, graph, source_id)
    graph.usage = 95
    for n in range(6, 9):
        graph.add_post(n, at=base + timedelta(minutes=n))
    run = pull(db, fb_settings, graph, source_id)
    assert run.new == 2 and any("95% of the allowance" in w for w in run.warnings)
    graph.usage = 10
    assert pull(db, fb_settings, graph, source_id).new == 1  # the rest, nothing twice
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}]}
    busy = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    graph.scripted.append(httpx.Response(400, json=payload("error_80001.json"), headers=busy))
    run = pull(db, fb_settings, graph, source_id)
    assert run.status == RunStatus.FAILED and "code 80001" in (run.error or "")
    with db.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None and source.health == SourceHealth.FAILING
        assert source.next_pull_at is not None and source.next_pull_at >= now() + timedelta(minutes=11)


def test_an_expired_token_disables_and_a_malformed_page_is_quarantined(
    db: Database, fb_settings: Settings, graph: FakeGraph
) -> None:
    source_id = add_source(db)
    graph.scripted.append(httpx.Response(200, text="<html>Sorry, something went wrong.</html>"))
    assert pull(db, fb_settings, graph, source_id).rejected == 1
    graph.scripted.append(httpx.Response(400, json=payload("error_190.json")))
    run = pull(db, fb_settings, graph, source_id)
    assert "code 190" in (run.error or "") and "long-lived Page token" in (run.error or "")
    with db.sessions() as session:
        assert session.get(Source, source_id).health == SourceHealth.DISABLED  # type: ignore[union-attr]


def test_usage_of_reads_both_headers() -> None:
    headers = {"x-app-usage": '{"call_count":28,"total_time":25,"total_cputime":25}',
               "x-business-use-case-usage": '{"1":[{"type":"pages","call_count":97,"total_cputime":10,'
               '"total_time":10,"estimated_time_to_regain_access":3}]}'}  # fmt: skip
    assert usage_of(headers) == (97.0, 3.0)
    assert usage_of({}) == (0.0, 0.0)


def reply(target: str, text: str = "Danke, wir schauen uns das an!") -> OutgoingReply:
    return OutgoingReply(idempotency_key="outbox:2", created_at=now(), text=text, in_reply_to=target)


def test_replies_on_facebook_and_instagram_and_the_lookup(fb_settings: Settings, graph: FakeGraph) -> None:
    store = FacebookConnector(FacebookConfig(page_id=PAGE, instagram_account_id=IG), settings=fb_settings,
                              http=graph.client())  # fmt: skip
    fb_target = "122100000000000001_987650000000001"
    graph.comments[fb_target] = []
    assert store.find_published(reply(fb_target)) is None
    result = store.publish(reply(fb_target))
    assert result.platform == "facebook"
    post = next(r for r in graph.requests if r.method == "POST")
    assert post.url.path.endswith(f"/{fb_target}/comments") and b"message=" in post.content
    found = store.find_published(reply(fb_target))
    assert found is not None and found.external_id == result.external_id
    graph.comments["17858893269000001"] = []
    ig = store.publish(reply("17858893269000001"))
    assert ig.platform == "instagram" and graph.requests[-1].url.path.endswith("/17858893269000001/replies")
    assert store.find_published(reply("17858893269000001")) is not None


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(500), PublishOutcomeUnknownError),
        (httpx.ReadTimeout("slow"), PublishOutcomeUnknownError),
        (httpx.Response(400, json=payload("error_80001.json")), ConnectorTransientError),
        (httpx.Response(400, json=payload("error_190.json")), ConnectorPermanentError),
        (
            httpx.Response(400, json={"error": {"message": "Object does not exist", "code": 100, "error_subcode": 33}}),
            ConnectorPermanentError,
        ),
    ],
)
def test_reply_errors(fb_settings: Settings, graph: FakeGraph, answer: Any, error: type[Exception]) -> None:
    graph.scripted.append(answer)
    store = FacebookConnector(FacebookConfig(page_id=PAGE), settings=fb_settings, http=graph.client())
    with pytest.raises(error) as caught:
        store.publish(reply("122100000000000001_987650000000001"))
    if error is not PublishOutcomeUnknownError:
        assert not isinstance(caught.value, PublishOutcomeUnknownError)
