"""SMS and WhatsApp through Twilio (or any provider speaking Twilio's webhook and Messages API).

**In**: nothing is pulled. Twilio posts each inbound message to ``POST /hooks/{source}`` as
``application/x-www-form-urlencoded`` with an ``X-Twilio-Signature`` header;
:func:`verify_signature` checks it the way Twilio documents ("Webhooks security"): base64 of
HMAC-SHA1, keyed with the account's auth token, over the full URL Twilio called followed by every
POST parameter name and value, sorted by name. The API layer (:mod:`resonanz.api.form_hooks`)
then sends the parameters through the ingest pipeline.

**Out**: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (HTTP Basic with the account SID
or an API key SID and its secret, form body ``To``, ``From`` or ``MessagingServiceSid``, ``Body``).
The Messages API has no idempotency key, so after a send whose outcome is unknown the outbox asks
:meth:`TwilioConnector.find_published`, which lists the messages sent to the customer since the
reply was queued and looks for the same text (``publish_check = LOOKUP``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from resonanz.clock import ensure_utc, now
from resonanz.connectors.base import (
    Connector,
    OutgoingReply,
    PublishCheck,
    PublishResult,
    PullResult,
    RawItem,
    ReplyKind,
    read_secret,
)
from resonanz.connectors.http_api import MalformedBodyError, call
from resonanz.connectors.twilio.parse import WHATSAPP, bare_number, channel_of, parse_inbound, result_of
from resonanz.errors import ConnectorPermanentError, SignatureError
from resonanz.mentions.schemas import MentionIn

SIGNATURE_HEADER = "X-Twilio-Signature"
API = "https://api.twilio.com/2010-04-01"
DEFAULT_TOKEN_ENV = "RESONANZ_TWILIO_AUTH_TOKEN"  # noqa: S105 (a variable name, not a secret)
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
GUIDANCE = {
    401: "Twilio refused the credentials (error 20003); check account_sid, api_key_sid and the secret in "
    "auth_token_env (Console > Account > API keys & tokens)",
    403: "the account may not send this (trial account to an unverified number, a region without permission, "
    "or a suspended account)",
    404: "no such account or message; check account_sid",
}
PUBLISH_GUIDANCE = {
    **GUIDANCE,
    400: "Twilio refused the message (an invalid 'To' number, a number that cannot receive SMS, or a "
    "'From' number not owned by the account); see the error code's page",
}


def expected_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Twilio's signature of a form POST: HMAC-SHA1 over URL + sorted name/value pairs, base64."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(url: str, params: list[tuple[str, str]], header: str | None, auth_token: str) -> None:
    """Raise SignatureError unless ``header`` is Twilio's signature of this request."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not hmac.compare_digest(expected_signature(url, params, auth_token).encode(), header.strip().encode()):
        raise SignatureError(
            "X-Twilio-Signature does not match (check the auth token, and that webhook_url is exactly the URL "
            "configured in Twilio, scheme and query string included)"
        )


class TwilioConfig(BaseModel):
    """The Twilio account, the number(s) to send from, and the secret's name."""

    model_config = ConfigDict(extra="forbid")

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$", description="the account's SID (AC...)")
    api_key_sid: str | None = Field(
        default=None, pattern=r"^SK[0-9a-fA-F]{32}$", description="an API key SID (SK...) to send with"
    )
    auth_token_env: str = Field(default=DEFAULT_TOKEN_ENV, pattern=_ENV)
    api_secret_env: str | None = Field(default=None, pattern=_ENV, description="the API key's secret")
    from_number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164 sender")
    messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    webhook_url: str | None = Field(default=None, description="the URL configured in Twilio, if not derived")
    api_base: str = Field(default=API, description="the Messages API base (a test server or a compatible provider)")

    @model_validator(mode="after")
    def _sender(self) -> TwilioConfig:
        if self.api_key_sid and not self.api_secret_env:
            raise ValueError("api_key_sid needs api_secret_env (the environment variable holding the key's secret)")
        return self


class TwilioConnector(Connector):
    """Inbound SMS / WhatsApp by signed webhook; replies through the Messages API."""

    kind: ClassVar[str] = "twilio"
    title: ClassVar[str] = "SMS / WhatsApp (Twilio)"
    platform: ClassVar[str] = "sms"
    Config: ClassVar[type[BaseModel]] = TwilioConfig
    pulls: ClassVar[bool] = False
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY, ReplyKind.DIRECT})
    publish_check: ClassVar[PublishCheck] = PublishCheck.LOOKUP

    @property
    def cfg(self) -> TwilioConfig:
        assert isinstance(self.config, TwilioConfig)
        return self.config

    def auth_token(self) -> str:
        """The account's auth token, which signs webhooks."""
        token = read_secret(self.cfg.auth_token_env, settings=self.settings)
        if token is None:
            raise ConnectorPermanentError(
                f"no Twilio auth token: set the environment variable {self.cfg.auth_token_env} (or that key in "
                "RESONANZ_SECRETS_FILE); it is on the Twilio Console's dashboard under Account Info"
            )
        return token

    def _auth(self) -> tuple[str, str]:
        if self.cfg.api_key_sid and self.cfg.api_secret_env:
            secret = read_secret(self.cfg.api_secret_env, settings=self.settings)
            if secret is None:
                raise ConnectorPermanentError(f"no Twilio API key secret: set {self.cfg.api_secret_env}")
            return self.cfg.api_key_sid, secret
        return self.cfg.account_sid, self.auth_token()

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        """Nothing to fetch: Twilio pushes to ``POST /hooks/{source}``."""
        return PullResult(cursor=cursor)

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_inbound(item)

    # -- publish ----------------------------------------------------------------------------

    def _messages_url(self) -> str:
        return f"{self.cfg.api_base.rstrip('/')}/Accounts/{self.cfg.account_sid}/Messages.json"

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=self.settings.http_timeout_s, follow_redirects=False)

    def _request(self, method: str, url: str, *, what: str, write: bool = False, **kwargs: Any) -> Any:
        client = self.http if self.http is not None else self._client()
        try:
            response = call(
                client,
                method,
                url,
                what=what,
                max_bytes=self.settings.http_max_bytes,
                guidance=PUBLISH_GUIDANCE if write else GUIDANCE,
                write=write,
                headers={"Accept": "application/json", "User-Agent": self.settings.user_agent,
                         "Authorization": _basic(*self._auth())},
                **kwargs,
            )  # fmt: skip
            return response.json()
        except MalformedBodyError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        finally:
            if self.http is None:
                client.close()

    def _addresses(self, reply: OutgoingReply) -> tuple[str, dict[str, str]]:
        """(customer address, sender fields) of a reply; a reply without recipient reads the
        message answered from the API to find who sent it and to which number."""
        to, ours = reply.recipient, None
        if not to and reply.in_reply_to:
            url = f"{self.cfg.api_base.rstrip('/')}/Accounts/{self.cfg.account_sid}/Messages/{reply.in_reply_to}.json"
            original = self._request("GET", url, what=f"the message answered ({reply.in_reply_to})")
            to = str(original.get("from") or "") if isinstance(original, dict) else ""
            ours = str(original.get("to") or "") if isinstance(original, dict) else None
        if not to:
            raise ConnectorPermanentError("no phone number to send the reply to")
        whatsapp = to.startswith(WHATSAPP)
        if self.cfg.messaging_service_sid:
            return to, {"MessagingServiceSid": self.cfg.messaging_service_sid}
        sender = self.cfg.from_number or (bare_number(ours) if ours else None)
        if not sender:
            raise ConnectorPermanentError("set from_number or messaging_service_sid to send replies")
        return to, {"From": (WHATSAPP + sender) if whatsapp else sender}

    def publish(self, reply: OutgoingReply) -> PublishResult:
        to, sender = self._addresses(reply)
        message = self._request(
            "POST", self._messages_url(), what="sending a message", write=True, form={"To": to, "Body": reply.text,
                                                                                       **sender}
        )  # fmt: skip
        return self._result(message)

    def _result(self, message: Any) -> PublishResult:
        try:
            sid, created = result_of(message)
        except ValueError as exc:
            raise ConnectorPermanentError(str(exc)) from exc
        return PublishResult(
            platform=channel_of(str(message.get("to") or "")),
            external_id=sid,
            published_at=_rfc2822(created) or now(),
            raw=message,
        )

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """A message to the same customer, created since the reply was queued, with the same text."""
        to, _sender = self._addresses(reply)
        since = reply.created_utc - timedelta(minutes=5)
        params = {"To": to, "DateSent>": since.strftime("%Y-%m-%d"), "PageSize": "50"}
        page = self._request("GET", self._messages_url(), what="the messages sent", params=params)
        for message in (page.get("messages") if isinstance(page, dict) else None) or []:
            if not isinstance(message, dict) or message.get("direction", "outbound-api") == "inbound":
                continue
            created = _rfc2822(message.get("date_created"))
            if message.get("body") == reply.text and (created is None or created >= since):
                return self._result(message)
        return None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _rfc2822(value: Any) -> datetime | None:
    """Twilio writes times like ``Wed, 18 Aug 2021 20:01:24 +0000``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return ensure_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None
