"""Replies and direct messages through the publish contract, and how an unknown outcome is checked."""

from __future__ import annotations

import json

import httpx
import pytest
from mastodon_world import BASE, MastodonWorld, make_status

from resonanz.clock import now
from resonanz.connectors.base import OutgoingReply, PublishCheck, PublishOutcomeUnknownError, ReplyKind
from resonanz.connectors.mastodon.connector import MastodonConfig, MastodonConnector
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError

PARENT = "social.example/111000000000001001"


def connector(world: MastodonWorld, **config: object) -> MastodonConnector:
    cfg = MastodonConfig.model_validate({"instance": BASE, "notifications": True, **config})
    return MastodonConnector(cfg, settings=world.settings, http=world.server.client())


def reply(text: str = "Das tut uns leid, wir melden uns per DM.", **fields: object) -> OutgoingReply:
    values: dict[str, object] = {
        "idempotency_key": "outbox-0001",
        "created_at": now(),
        "text": text,
        "in_reply_to": PARENT,
        "recipient": "anna@social.example",
    }
    values.update(fields)
    return OutgoingReply.model_validate(values)


def sent_bodies(world: MastodonWorld) -> list[dict[str, object]]:
    return [json.loads(r.content) for r in world.server.requests if r.method == "POST"]


def test_reply_posts_in_reply_to_with_mention_and_idempotency_key(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1))
    result = connector(mastodon, reply_visibility="unlisted").publish(reply())
    (body,) = sent_bodies(mastodon)
    assert body == {
        "status": "@anna@social.example Das tut uns leid, wir melden uns per DM.",
        "visibility": "unlisted",
        "in_reply_to_id": "111000000000001001",
    }
    request = mastodon.server.requests[-1]
    assert request.headers["idempotency-key"] == "outbox-0001"
    assert request.headers["authorization"] == "Bearer test-token-123"
    assert result.platform == "mastodon" and result.external_id.startswith("social.example/")
    assert result.url and result.published_at.tzinfo is not None


def test_the_same_key_twice_gives_the_same_status(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1))
    c = connector(mastodon)
    first, second = c.publish(reply()), c.publish(reply())
    assert first.external_id == second.external_id and len(mastodon.server.own_statuses) == 1
    assert MastodonConnector.publish_check == PublishCheck.KEY and MastodonConnector.idempotency_window_s == 3600


def test_direct_message_is_visibility_direct(mastodon: MastodonWorld) -> None:
    dm = reply("@anna@social.example Bitte schick uns die Bestellnummer.", kind=ReplyKind.DIRECT, in_reply_to=None)
    connector(mastodon).publish(dm)
    (body,) = sent_bodies(mastodon)
    assert body == {"status": "@anna@social.example Bitte schick uns die Bestellnummer.", "visibility": "direct"}


def test_a_timeout_is_unknown_and_find_published_settles_it(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1))
    c = connector(mastodon)
    assert c.find_published(reply()) is None

    def lost_answer(request: httpx.Request) -> httpx.Response:
        mastodon.server._post(request)  # the instance posts it, then the answer never arrives
        raise httpx.ReadTimeout("read timed out", request=request)

    mastodon.server.scripted.append(lost_answer)
    with pytest.raises(PublishOutcomeUnknownError, match="may or may not be out"):
        c.publish(reply())
    found = c.find_published(reply())
    assert found is not None and found.external_id == f"social.example/{mastodon.server.own_statuses[0]['id']}"
    assert c.find_published(reply("ein ganz anderer Text")) is None


@pytest.mark.parametrize(
    ("answer", "error", "needle"),
    [
        (httpx.Response(500, json={"error": "oops"}), PublishOutcomeUnknownError, "may or may not be out"),
        (httpx.Response(429, json={"error": "Too many requests"}, headers={"Retry-After": "30"}),
         ConnectorTransientError, "wait 30 s"),
        (httpx.ConnectError("refused"), ConnectorTransientError, "could not reach"),
        (httpx.Response(403, json={"error": "This action is not allowed"}), ConnectorPermanentError, "scope"),
    ],
)  # fmt: skip
def test_publish_failures_are_sorted(
    mastodon: MastodonWorld, answer: object, error: type[Exception], needle: str
) -> None:
    mastodon.server.scripted.append(answer)  # type: ignore[arg-type]
    with pytest.raises(error, match=needle) as info:
        connector(mastodon).publish(reply())
    if error is ConnectorTransientError:
        assert not isinstance(info.value, PublishOutcomeUnknownError)  # nothing was sent: safe to retry


def test_reply_to_a_deleted_post_is_permanent(mastodon: MastodonWorld) -> None:
    with pytest.raises(ConnectorPermanentError, match="gone"):
        connector(mastodon).publish(reply())


def test_too_long_reply_is_refused_with_the_instances_words(mastodon: MastodonWorld) -> None:
    mastodon.server.add(make_status(1))
    with pytest.raises(ConnectorPermanentError, match="character limit of 500"):
        connector(mastodon).publish(reply("x" * 600))


def test_reply_to_another_instances_mention_is_refused_before_sending(mastodon: MastodonWorld) -> None:
    with pytest.raises(ConnectorPermanentError, match=r"answer it from a Mastodon source on other\.example"):
        connector(mastodon).publish(reply(in_reply_to="other.example/123"))
    assert mastodon.server.requests == []


def test_outgoing_reply_validates_its_target() -> None:
    with pytest.raises(ValueError, match="needs in_reply_to"):
        OutgoingReply(idempotency_key="outbox-0002", created_at=now(), text="x")
    with pytest.raises(ValueError, match="needs a recipient"):
        OutgoingReply(idempotency_key="outbox-0002", created_at=now(), text="x", kind=ReplyKind.DIRECT)
