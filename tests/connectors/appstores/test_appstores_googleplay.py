"""Google Play reviews: pull through the real pull job (no gaps, no duplicates, edits as
revisions), replies, the lookup, and Google's error answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from appstores_world import PACKAGE, FakePlay, payload
from sqlalchemy import select

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.appstores.googleplay import GooglePlayConfig, GooglePlayConnector
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, RawItem
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
        data = SourceCreate(name="play", kind="googleplay", config={"package_name": PACKAGE, **config})
        return do_create_source(session, data=data).id


def pull(db: Database, settings: Settings, play: FakePlay, source_id: int) -> IngestRun:
    with play.client() as client:
        return pull_source(db.sessions, source_id=source_id, settings=settings, http=client)


def texts(db: Database) -> dict[str, tuple[str, int]]:
    with db.sessions() as session:
        return {m.external_id: (m.text, m.revision) for m in session.scalars(select(Mention))}


def test_parse_maps_the_documented_review() -> None:
    review = payload("googleplay", "review.json")
    item = RawItem(payload=compact_json({"package": PACKAGE, "review": review}), location="x")
    m = GooglePlayConnector.parse(item)
    assert m.external_id == f"{PACKAGE}/gp:AOqpTOGWaiR2EDqWbLhhUf0kXXV1hT0q8YkWA0Cv1cTlS0EXAMPLE"
    assert (m.kind, m.platform, m.thread_external_id) == ("review", "googleplay", m.external_id)
    assert m.text == "Die App stürzt beim Bezahlen ab. Bestellung 4711 hängt."
    assert m.metrics == {"rating": 2, "thumbs_up": 3, "thumbs_down": 0} and m.language_hint == "de-DE"
    assert m.published_at == datetime.fromtimestamp(1764230400.796, tz=UTC)
    assert m.author is not None and m.author.name == "Jana K." and m.raw["answered"] is True


def test_pages_are_walked_and_only_new_or_edited_reviews_come_again(
    db: Database, store_settings: Settings, play: FakePlay
) -> None:
    base = now()
    for n in range(1, 6):
        play.add(n, at=base - timedelta(hours=n))
    source_id = add_source(db)
    first = pull(db, store_settings, play, source_id)
    assert (first.status, first.new) == (RunStatus.OK, 5)  # three pages of two
    assert [r.url.params.get("token") for r in play.requests if "reviews" in r.url.path] == [None, "2", "4"]
    assert pull(db, store_settings, play, source_id).new == 0  # a restart re-reads the week: nothing new
    play.add(6, at=base)
    play.add(2, at=base + timedelta(minutes=1), text="Nach dem Update geht es, danke!")  # the author edits
    run = pull(db, store_settings, play, source_id)
    assert (run.new, run.updated, run.duplicate) == (1, 1, 0)
    assert texts(db)[f"{PACKAGE}/gp:review-2"] == ("Nach dem Update geht es, danke!", 2)
    assert len(texts(db)) == 6


def test_quota_403_is_transient_with_a_long_wait_and_a_permission_403_is_permanent(
    db: Database, store_settings: Settings, play: FakePlay
) -> None:
    source_id = add_source(db)
    play.scripted.append(httpx.Response(403, json=payload("googleplay", "error_403_quota.json")))
    run = pull(db, store_settings, play, source_id)
    assert run.status == RunStatus.FAILED and "quota used up (rateLimitExceeded)" in (run.error or "")
    with db.sessions() as session:
        source = session.get(Source, source_id)
        assert source is not None and source.health == SourceHealth.FAILING
        assert source.next_pull_at is not None and source.next_pull_at >= now() + timedelta(minutes=59)
    play.scripted.append(httpx.Response(403, json=payload("googleplay", "error_403_permission.json")))
    run = pull(db, store_settings, play, source_id)
    assert "Users and permissions" in (run.error or "")
    with db.sessions() as session:
        assert session.get(Source, source_id).health == SourceHealth.DISABLED  # type: ignore[union-attr]


def test_a_wrong_key_and_a_malformed_page(
    db: Database, store_settings: Settings, play: FakePlay, tmp_path: Path
) -> None:
    source_id = add_source(db)
    play.scripted.append(httpx.Response(200, text="<html>oops</html>"))
    run = pull(db, store_settings, play, source_id)
    assert run.rejected == 1 and run.status != RunStatus.OK
    other = tmp_path / "other.json"  # a key Google does not know (revoked, or another project's)
    other.write_text(json.dumps({"RESONANZ_GOOGLE_PLAY_SERVICE_ACCOUNT": FakePlay().service_account()}))
    wrong = store_settings.model_copy(update={"secrets_file": other})
    store = GooglePlayConnector(GooglePlayConfig(package_name=PACKAGE), settings=wrong, http=play.client())
    with pytest.raises(ConnectorPermanentError, match="refused the service account key"):
        store.pull({})


def reply(text: str = "Danke, das Update 4.2.2 behebt den Absturz.") -> OutgoingReply:
    return OutgoingReply(idempotency_key="outbox:9", created_at=now(), text=text, in_reply_to=f"{PACKAGE}/gp:review-1")


def connector(settings: Settings, play: FakePlay) -> GooglePlayConnector:
    return GooglePlayConnector(GooglePlayConfig(package_name=PACKAGE), settings=settings, http=play.client())


def test_reply_and_lookup(store_settings: Settings, play: FakePlay) -> None:
    play.add(1, at=now())
    store = connector(store_settings, play)
    assert store.find_published(reply()) is None
    result = store.publish(reply())
    assert result.external_id == f"{PACKAGE}/gp:review-1/reply"
    post = next(r for r in play.requests if r.method == "POST" and "reply" in r.url.path)
    assert post.url.path.endswith("/reviews/gp:review-1:reply") and b"replyText" in post.content
    found = store.find_published(reply())
    assert found is not None and found.external_id == result.external_id
    with pytest.raises(ConnectorPermanentError, match="at most 350"):
        store.publish(reply("x" * 351))
    with pytest.raises(ConnectorPermanentError, match="is not a review of"):
        store.publish(OutgoingReply(idempotency_key="outbox:9", created_at=now(), text="hi", in_reply_to="other.app/x"))


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(500, json={"error": {"code": 500}}), PublishOutcomeUnknownError),
        (httpx.ReadTimeout("slow"), PublishOutcomeUnknownError),
        (httpx.Response(429, headers={"Retry-After": "120"}), ConnectorTransientError),
        (httpx.Response(404, json={"error": {"code": 404, "message": "Review not found"}}), ConnectorPermanentError),
    ],
)
def test_reply_errors(store_settings: Settings, play: FakePlay, answer: Any, error: type[Exception]) -> None:
    play.scripted.append(answer)
    with pytest.raises(error) as caught:
        connector(store_settings, play).publish(reply())
    if error is ConnectorTransientError:
        assert not isinstance(caught.value, PublishOutcomeUnknownError) and caught.value.retry_after == 120  # type: ignore[attr-defined]
