"""Apple App Store reviews: the RSS feed pulled per storefront without gaps or duplicates, and
responses through the App Store Connect API with an ES256 token the fake verifies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from appstores_world import APP_ID, FakeApple, payload
from sqlalchemy import select

from resonanz.clock import now
from resonanz.config import Settings
from resonanz.connectors.appstores.apple import AppStoreConfig, AppStoreConnector
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, RawItem
from resonanz.connectors.http_api import compact_json
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError, ParseError
from resonanz.mentions.models import Mention
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import IngestRun, RunStatus
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import SourceCreate

KEYS = {"issuer_id": "57246542-96fe-1a63-e053-0824d011072a", "key_id": "ABC123DEFG"}


def add_source(db: Database, **config: Any) -> int:
    with transaction(db.sessions) as session:
        data = SourceCreate(name="ios", kind="appstore", config={"app_id": APP_ID, **config})
        return do_create_source(session, data=data).id


def pull(db: Database, settings: Settings, apple: FakeApple, source_id: int) -> IngestRun:
    with apple.client() as client:
        return pull_source(db.sessions, source_id=source_id, settings=settings, http=client)


def stored(db: Database) -> dict[str, tuple[str, int]]:
    with db.sessions() as session:
        return {m.external_id: (m.text, m.revision) for m in session.scalars(select(Mention))}


def test_parse_maps_the_documented_feed_entry() -> None:
    entry = payload("appstore", "feed_page.json")["feed"]["entry"][0]
    m = AppStoreConnector.parse(RawItem(payload=compact_json({"app_id": APP_ID, "country": "de", "entry": entry}),
                                        location="x"))  # fmt: skip
    assert (m.external_id, m.kind, m.platform) == (f"{APP_ID}/11887766554", "review", "appstore")
    assert m.title == "Absturz beim Bezahlen" and m.text.startswith("Seit dem Update")
    assert m.metrics == {"rating": 1, "votes": 2} and m.published_at.isoformat() == "2026-11-26T17:15:00+00:00"
    assert m.author is not None and m.author.handle == "https://itunes.apple.com/de/reviews/id1011121314"
    app_entry = {"id": {"label": "1"}, "updated": {"label": "2026-11-26T10:15:00-07:00"}, "title": {"label": "App"}}
    with pytest.raises(ParseError, match="im:rating"):
        AppStoreConnector.parse(RawItem(payload=compact_json({"app_id": APP_ID, "entry": app_entry}), location="x"))


def test_storefronts_are_read_until_the_last_position_and_edits_are_revisions(
    db: Database, store_settings: Settings, apple: FakeApple
) -> None:
    base = now()
    for n in range(1, 61):  # more than one page in Germany
        apple.add("de", n, at=base - timedelta(hours=100 - n))
    apple.add("at", 500, at=base)  # one review only: the feed sends an object, not a list
    source_id = add_source(db, countries="de,at")
    first = pull(db, store_settings, apple, source_id)
    assert (first.status, first.new) == (RunStatus.OK, 51)  # the first pull: page 1 of each storefront
    for n in range(61, 121):  # 60 new: the next pull reads two pages
        apple.add("de", n, at=base - timedelta(hours=100 - n))
    apple.add("de", 60, at=base + timedelta(hours=30), text="Jetzt 3 Sterne")  # edited
    second = pull(db, store_settings, apple, source_id)
    assert (second.new, second.updated, second.duplicate) == (60, 1, 0)
    assert stored(db)[f"{APP_ID}/11887760060"] == ("Jetzt 3 Sterne", 2)
    assert pull(db, store_settings, apple, source_id).new == 0  # a restart: nothing twice
    pages = [r.url.path for r in apple.requests if "/de/" in r.url.path]
    assert pages[0].endswith("page=1/id=1234567890/sortby=mostrecent/json")


def test_a_malformed_feed_page_is_quarantined_and_the_position_kept(
    db: Database, store_settings: Settings, apple: FakeApple
) -> None:
    apple.add("us", 1, at=now())
    source_id = add_source(db)
    apple.scripted.append(httpx.Response(200, text="<html>Service Unavailable</html>"))
    run = pull(db, store_settings, apple, source_id)
    assert run.rejected == 1 and run.new == 0
    assert pull(db, store_settings, apple, source_id).new == 1
    apple.scripted.append(httpx.Response(503, headers={"Retry-After": "60"}))
    assert "503" in (pull(db, store_settings, apple, source_id).error or "")


def reply(text: str = "Danke! Version 4.2.2 behebt den Absturz.") -> OutgoingReply:
    return OutgoingReply(idempotency_key="outbox:3", created_at=now(), text=text, in_reply_to=f"{APP_ID}/11887760001")


def test_response_with_an_es256_token_and_the_lookup(store_settings: Settings, apple: FakeApple) -> None:
    store = AppStoreConnector(AppStoreConfig(app_id=APP_ID, **KEYS), settings=store_settings, http=apple.client())
    assert store.find_published(reply()) is None
    result = store.publish(reply())
    assert result.external_id == f"{APP_ID}/11887760001/response/00000000-aaaa-4bbb-8ccc-000000000001"
    found = store.find_published(reply())
    assert found is not None and found.external_id == result.external_id
    assert store.find_published(reply("anderer Text")) is None
    with pytest.raises(ConnectorPermanentError, match="has a response already"):
        store.publish(reply())  # 409


def test_reply_needs_the_api_key_and_errors_are_sorted(store_settings: Settings, apple: FakeApple) -> None:
    with pytest.raises(ConnectorPermanentError, match="set issuer_id and key_id"):
        AppStoreConnector(AppStoreConfig(app_id=APP_ID), settings=store_settings, http=apple.client()).publish(reply())
    store = AppStoreConnector(AppStoreConfig(app_id=APP_ID, **KEYS), settings=store_settings, http=apple.client())
    apple.scripted.append(httpx.Response(502))
    with pytest.raises(PublishOutcomeUnknownError):
        store.publish(reply())
    apple.scripted.append(httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(ConnectorTransientError) as caught:
        store.publish(reply())
    assert not isinstance(caught.value, PublishOutcomeUnknownError)
    apple.scripted.append(httpx.Response(401, json={"errors": [{"status": "401", "code": "NOT_AUTHORIZED"}]}))
    with pytest.raises(ConnectorPermanentError, match="issuer_id, key_id"):
        store.publish(reply())


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="two-letter"):
        AppStoreConfig(app_id=APP_ID, countries=["deu"])
    assert AppStoreConfig(app_id=APP_ID, countries="DE, at").countries == ["de", "at"]  # type: ignore[arg-type]
