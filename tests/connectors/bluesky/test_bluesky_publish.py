"""Replies on Bluesky: reply refs, facets, record keys from the outbox's key, unknown outcomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from bluesky_world import OWN_DID, SERVICE, BlueskyWorld, make_post, payload

from resonanz.connectors.base import OutgoingReply, PublishCheck, PublishOutcomeUnknownError, ReplyKind
from resonanz.connectors.bluesky.connector import BlueskyConfig, BlueskyConnector
from resonanz.connectors.bluesky.parse import tid_for
from resonanz.errors import ConnectorPermanentError

CREATED = datetime(2024, 3, 2, 9, 0, 0, 250000, tzinfo=UTC)


def connector(world: BlueskyWorld) -> BlueskyConnector:
    cfg = BlueskyConfig(service=SERVICE, identifier="radwerk.bsky.social", notifications=True)
    return BlueskyConnector(cfg, settings=world.settings, http=world.server.client())


def reply(
    in_reply_to: str, text: str = "Danke @anna.bsky.social, Details: https://radwerk.example/hilfe"
) -> OutgoingReply:
    return OutgoingReply(idempotency_key="outbox-0042", created_at=CREATED, text=text, in_reply_to=in_reply_to)


def created_records(world: BlueskyWorld) -> list[dict[str, object]]:
    return [json.loads(r.content) for r in world.server.calls("com.atproto.repo.createRecord")]


def test_reply_to_a_reply_keeps_the_threads_root_and_adds_facets(bluesky: BlueskyWorld) -> None:
    root, answer = payload("post_view.json"), payload("reply_post_view.json")
    answer["record"]["reply"]["root"] = {"uri": root["uri"], "cid": root["cid"]}
    bluesky.server.posts += [root, answer]
    result = connector(bluesky).publish(reply(answer["uri"]))
    (body,) = created_records(bluesky)
    assert (body["repo"], body["collection"], body["rkey"]) == (
        OWN_DID,
        "app.bsky.feed.post",
        tid_for("outbox-0042", CREATED),
    )
    record = body["record"]
    assert isinstance(record, dict)
    assert record["reply"] == {
        "root": {"uri": root["uri"], "cid": root["cid"]},
        "parent": {"uri": answer["uri"], "cid": answer["cid"]},
    }
    assert record["createdAt"] == "2024-03-02T09:00:00.250Z" and record["$type"] == "app.bsky.feed.post"
    text = str(record["text"]).encode()
    spans = [
        (text[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0]) for f in record["facets"]
    ]
    assert spans == [
        ("@anna.bsky.social", {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:anna4example000000000000"}),
        (
            "https://radwerk.example/hilfe",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://radwerk.example/hilfe"},
        ),
    ]
    assert result.external_id == f"at://{OWN_DID}/app.bsky.feed.post/{body['rkey']}"
    assert result.url == f"https://bsky.app/profile/radwerk.bsky.social/post/{body['rkey']}"


def test_reply_to_a_top_level_post_uses_it_as_root_and_parent(bluesky: BlueskyWorld) -> None:
    post = make_post(1)
    bluesky.server.posts.append(post)
    connector(bluesky).publish(reply(post["uri"], "Wir kümmern uns 🙂"))
    (body,) = created_records(bluesky)
    record = body["record"]
    assert isinstance(record, dict) and "facets" not in record
    assert record["reply"]["root"] == record["reply"]["parent"] == {"uri": post["uri"], "cid": post["cid"]}


def test_unknown_outcome_is_settled_by_looking_up_the_record_key(bluesky: BlueskyWorld) -> None:
    post = make_post(1)
    bluesky.server.posts.append(post)
    c = connector(bluesky)
    assert BlueskyConnector.publish_check == PublishCheck.LOOKUP
    assert c.find_published(reply(post["uri"])) is None

    def lost(request: httpx.Request) -> httpx.Response:
        bluesky.server._com_atproto_repo_createRecord(request)  # written, but the answer is lost
        raise httpx.ReadTimeout("timed out", request=request)

    bluesky.server.scripted.append(("com.atproto.repo.createRecord", lost))
    with pytest.raises(PublishOutcomeUnknownError):
        c.publish(reply(post["uri"]))
    found = c.find_published(reply(post["uri"]))
    assert found is not None and found.external_id.endswith("/" + tid_for("outbox-0042", CREATED))
    # sending again anyway does not post twice: the record key exists, the existing post is the result
    again = c.publish(reply(post["uri"]))
    assert again.external_id == found.external_id and len(bluesky.server.records) == 1


def test_reply_to_a_deleted_post_is_permanent(bluesky: BlueskyWorld) -> None:
    with pytest.raises(ConnectorPermanentError, match="gone"):
        connector(bluesky).publish(reply("at://did:plc:anna4example000000000000/app.bsky.feed.post/3kgone"))
    assert created_records(bluesky) == []


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: reply("at://x/app.bsky.feed.post/1", "x" * 301), "at most 300"),
        (lambda: OutgoingReply(idempotency_key="outbox-0042", created_at=CREATED, text="hi", kind=ReplyKind.DIRECT,
                               recipient="did:plc:anna"), "replies only"),
        (lambda: reply("https://bsky.app/profile/anna/post/1"), "not an at:// record URI"),
    ],
)  # fmt: skip
def test_refused_before_posting(bluesky: BlueskyWorld, make: object, needle: str) -> None:
    with pytest.raises(ConnectorPermanentError, match=needle):
        connector(bluesky).publish(make())  # type: ignore[operator]
    assert created_records(bluesky) == []


def test_500_on_create_is_unknown(bluesky: BlueskyWorld) -> None:
    post = make_post(1)
    bluesky.server.posts.append(post)
    bluesky.server.scripted.append(("com.atproto.repo.createRecord", httpx.Response(502, text="Bad Gateway")))
    with pytest.raises(PublishOutcomeUnknownError, match="HTTP 502"):
        connector(bluesky).publish(reply(post["uri"]))
