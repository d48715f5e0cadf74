"""Replies through Twilio's Messages API (httpx.MockTransport answering as the API documents)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from resonanz.config import Settings
from resonanz.connectors.base import OutgoingReply, PublishOutcomeUnknownError, ReplyKind
from resonanz.connectors.twilio.connector import TwilioConfig, TwilioConnector
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "twilio"
ACCOUNT = "ACae0b4f6a9e5d7c3b2a1f0e9d8c7b6a5f"
KEY = "SK0123456789abcdef0123456789abcdef"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CREATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def connector(settings: Settings, handler: Callable[[httpx.Request], httpx.Response], **config: Any) -> TwilioConnector:
    cfg = TwilioConfig.model_validate({"account_sid": ACCOUNT, "from_number": "+4930123456789", **config})
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return TwilioConnector(cfg, settings=settings, http=client)


def reply(**fields: Any) -> OutgoingReply:
    values: dict[str, Any] = {
        "idempotency_key": "outbox:7",
        "created_at": CREATED,
        "text": "Hallo, wir rufen Sie heute noch an. Ihr Radwerk-Team",
        "in_reply_to": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "recipient": "+4915112345678",
    }
    return OutgoingReply(**{**values, **fields})


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_TWILIO_AUTH_TOKEN", "auth-token-1")
    monkeypatch.setenv("TWILIO_KEY_SECRET", "key-secret-1")


def test_an_sms_reply_is_a_form_post_with_basic_auth(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=payload("message_created.json"))

    result = connector(settings, handler).publish(reply())
    (request,) = seen
    assert request.method == "POST" and request.url.path == MESSAGES
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT}:auth-token-1".encode()).decode()
    form = parse_qs(request.content.decode())
    assert form == {"To": ["+4915112345678"], "From": ["+4930123456789"], "Body": [reply().text]}
    assert (result.platform, result.external_id) == ("sms", "SM9a8b7c6d5e4f30211a2b3c4d5e6f7081")
    assert result.published_at == datetime(2026, 11, 27, 12, 0, 5, tzinfo=UTC)


def test_whatsapp_replies_send_from_the_whatsapp_number_and_api_keys_work(settings: Settings) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={**payload("message_created.json"), "to": "whatsapp:+4915187654321"})

    mail = connector(settings, handler, api_key_sid=KEY, api_secret_env="TWILIO_KEY_SECRET")
    result = mail.publish(reply(recipient="whatsapp:+4915187654321", kind=ReplyKind.DIRECT, in_reply_to=None))
    form = parse_qs(seen[0].content.decode())
    assert form["From"] == ["whatsapp:+4930123456789"] and form["To"] == ["whatsapp:+4915187654321"]
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(f"{KEY}:key-secret-1".encode()).decode()
    assert result.platform == "whatsapp"


def test_a_reply_without_recipient_reads_the_message_answered(settings: Settings) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.url.path.endswith("/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json")
            return httpx.Response(200, json={"sid": "SM1f0e", "from": "+4915112345678", "to": "+4930999999"})
        assert parse_qs(request.content.decode())["To"] == ["+4915112345678"]
        return httpx.Response(201, json=payload("message_created.json"))

    assert connector(settings, handler).publish(reply(recipient=None)).external_id.startswith("SM9a8b")


def test_messaging_service_replaces_the_from_number(settings: Settings) -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(201, json=payload("message_created.json"))

    connector(settings, handler, messaging_service_sid="MG" + "a" * 32).publish(reply())
    assert seen[0]["MessagingServiceSid"] == ["MG" + "a" * 32] and "From" not in seen[0]


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (httpx.Response(400, json=payload("error_21211.json")), ConnectorPermanentError, "not a valid phone number"),
        (httpx.Response(401, json=payload("error_20003.json")), ConnectorPermanentError, "API keys & tokens"),
        (
            httpx.Response(404, json={"code": 20404, "message": "not found", "status": 404}),
            ConnectorPermanentError,
            "account_sid",
        ),
        (
            httpx.Response(429, json=payload("error_20429.json"), headers={"Retry-After": "30"}),
            ConnectorTransientError,
            "wait 30 s",
        ),
        (httpx.Response(503, text="unavailable"), ConnectorTransientError, "503"),
        (httpx.Response(500, text="oops"), PublishOutcomeUnknownError, "may or may not be out"),
        (httpx.ReadTimeout("slow"), PublishOutcomeUnknownError, "timed out"),
        (httpx.ConnectError("refused"), ConnectorTransientError, "could not reach"),
        (httpx.Response(201, text="<html>not json</html>"), ConnectorPermanentError, "not JSON"),
    ],
)
def test_errors_are_sorted(settings: Settings, answer: Any, error: type[Exception], words: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(error, match=words) as caught:
        connector(settings, handler).publish(reply())
    if error is not PublishOutcomeUnknownError:
        assert not isinstance(caught.value, PublishOutcomeUnknownError)
    if words == "wait 30 s":
        assert caught.value.retry_after == 30  # type: ignore[attr-defined]


def test_find_published_looks_for_the_same_text_sent_to_the_customer(settings: Settings) -> None:
    sent = payload("message_created.json")
    pages: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        pages.append(request)
        other = {**sent, "sid": "SM000", "body": "etwas anderes"}
        inbound = {**sent, "sid": "SM111", "direction": "inbound"}
        return httpx.Response(200, json={"messages": [other, inbound, sent], "next_page_uri": None, "page": 0})

    found = connector(settings, handler).find_published(reply())
    assert found is not None and found.external_id == sent["sid"]
    params = pages[0].url.params
    assert params["To"] == "+4915112345678" and params["DateSent>"] == "2026-11-27"
    assert connector(settings, handler).find_published(reply(text="nie gesendet")) is None


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="api_secret_env"):
        TwilioConfig(account_sid=ACCOUNT, api_key_sid=KEY)
    with pytest.raises(ValueError, match="account_sid"):
        TwilioConfig(account_sid="not-a-sid")
