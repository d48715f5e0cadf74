"""Inbound SMS / WhatsApp on POST /hooks/{source}: Twilio's form encoding and X-Twilio-Signature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.connectors.twilio.connector import expected_signature
from resonanz.db.database import Database
from resonanz.mentions.models import Author, Mention, QuarantineItem
from resonanz.sources.actions import do_create_source
from resonanz.sources.models import Source, SourceHealth
from resonanz.sources.schemas import SourceCreate

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "twilio"
TOKEN = "b1e2c3d4e5f60718293a4b5c6d7e8f90"
ACCOUNT = "ACae0b4f6a9e5d7c3b2a1f0e9d8c7b6a5f"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def body(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def signed(url: str, data: bytes, token: str = TOKEN) -> dict[str, str]:
    params = parse_qsl(data.decode(), keep_blank_values=True)
    return {**FORM, "X-Twilio-Signature": expected_signature(url, params, token)}


@pytest.fixture
def client(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("RESONANZ_TWILIO_AUTH_TOKEN", TOKEN)
    with db.sessions() as session, session.begin():
        config = {"account_sid": ACCOUNT, "from_number": "+4930123456789"}
        do_create_source(session, data=SourceCreate(name="sms", kind="twilio", config=config))
    yield TestClient(create_app(db.settings, database=db))


def url(settings: Settings, path: str = "/hooks/sms") -> str:
    return settings.public_url.rstrip("/") + path


def mentions(db: Database) -> list[Mention]:
    with db.sessions() as session:
        return list(session.scalars(select(Mention).order_by(Mention.id)))


def test_a_signed_sms_is_stored_in_its_conversation_and_a_retry_is_a_duplicate(
    client: TestClient, db: Database, settings: Settings
) -> None:
    data = body("inbound_sms.form")
    response = client.post("/hooks/sms", content=data, headers=signed(url(settings), data))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml") and "<Response></Response>" in response.text
    (mention,) = mentions(db)
    assert (mention.platform, mention.external_id, mention.kind) == (
        "sms",
        "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "message",
    )
    assert mention.text == "Mein Rad ist kaputt, Bestellung 4711. Bitte Rückruf!"
    assert mention.thread_external_id == "sms:+4930123456789:+4915112345678"
    again = client.post("/hooks/sms", content=data, headers=signed(url(settings), data))  # Twilio retries
    assert again.status_code == 200 and len(mentions(db)) == 1
    with db.sessions() as session:
        source = session.scalars(select(Source)).one()
        assert source.health == SourceHealth.OK and source.last_success_at is not None


def test_whatsapp_with_media_and_a_query_string_in_the_signed_url(
    client: TestClient, db: Database, settings: Settings
) -> None:
    data = body("inbound_whatsapp.form")
    response = client.post(
        "/hooks/sms?lang=de", content=data, headers=signed(url(settings, "/hooks/sms?lang=de"), data)
    )
    assert response.status_code == 200, response.text
    (mention,) = mentions(db)
    assert mention.platform == "whatsapp" and mention.thread_external_id == "whatsapp:+4930123456789:+4915187654321"
    assert mention.media[0]["kind"] == "image/jpeg" and "/Media/ME0123" in mention.media[0]["url"]
    with db.sessions() as session:
        author = session.get(Author, mention.author_id)
        assert author is not None and (author.handle, author.name) == ("whatsapp:+4915187654321", "Anna S.")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        (FORM, "missing X-Twilio-Signature"),
        ({**FORM, "X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "does not match"),
    ],
)
def test_missing_or_wrong_signatures_are_refused(
    client: TestClient, db: Database, headers: dict[str, str], detail: str
) -> None:
    response = client.post("/hooks/sms", content=body("inbound_sms.form"), headers=headers)
    assert response.status_code == 401 and detail in response.json()["detail"]
    assert mentions(db) == []


def test_a_signature_over_another_url_or_with_another_token_fails(
    client: TestClient, db: Database, settings: Settings
) -> None:
    data = body("inbound_sms.form")
    assert (
        client.post("/hooks/sms", content=data, headers=signed(url(settings, "/hooks/other"), data)).status_code == 401
    )
    assert client.post("/hooks/sms", content=data, headers=signed(url(settings), data, "x" * 32)).status_code == 401
    tampered = data.replace(b"4711", b"4712")
    assert client.post("/hooks/sms", content=tampered, headers=signed(url(settings), data)).status_code == 401


def test_status_callbacks_are_acknowledged_not_stored(client: TestClient, db: Database, settings: Settings) -> None:
    data = body("status_callback.form")
    assert client.post("/hooks/sms", content=data, headers=signed(url(settings), data)).status_code == 200
    assert mentions(db) == []


def test_an_unusable_message_is_quarantined(client: TestClient, db: Database, settings: Settings) -> None:
    data = b"AccountSid=" + ACCOUNT.encode() + b"&From=%2B4915112345678&To=%2B4930123456789&Body=hallo"
    response = client.post("/hooks/sms", content=data, headers=signed(url(settings), data))
    assert response.status_code == 422 and "MessageSid" in response.json()["detail"]
    with db.sessions() as session:
        (item,) = session.scalars(select(QuarantineItem))
        assert b"hallo" in item.raw and item.context["received_at"]


def test_unknown_sources_disabled_sources_and_json_webhooks_are_unchanged(
    client: TestClient, db: Database, settings: Settings
) -> None:
    data = body("inbound_sms.form")
    assert (
        client.post("/hooks/nope", content=data, headers=signed(url(settings, "/hooks/nope"), data)).status_code == 404
    )
    with db.sessions() as session, session.begin():
        session.scalars(select(Source)).one().enabled = False
    assert client.post("/hooks/sms", content=data, headers=signed(url(settings), data)).status_code == 403
    # a JSON post to the Twilio source still goes the JSON way, which knows no such webhook source
    assert client.post("/hooks/sms", content=b"{}", headers={"Content-Type": "application/json"}).status_code == 404


def test_webhook_url_setting_overrides_the_derived_url(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESONANZ_TWILIO_AUTH_TOKEN", TOKEN)
    public = "https://care.radwerk.example/hooks/sms2"
    with db.sessions() as session, session.begin():
        config = {"account_sid": ACCOUNT, "webhook_url": public}
        do_create_source(session, data=SourceCreate(name="sms2", kind="twilio", config=config))
    client = TestClient(create_app(db.settings, database=db))
    data = body("inbound_sms.form")
    assert client.post("/hooks/sms2", content=data, headers=signed(public, data)).status_code == 200


def test_signature_matches_twilios_published_example() -> None:
    """The example from Twilio's request-validation docs and SDK tests."""
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}  # fmt: skip
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert expected_signature(url, params.items(), "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
