"""The outbound webhook publisher: replies go to a URL of your choosing as signed JSON.

For channels Resonanz cannot post to itself (a shop's customer portal, a ticket system, a chat
bridge, an in-house SMS gateway), the outbox POSTs each reply to the configured ``url``; the
receiver delivers it. It never pulls. The body is signed with HMAC-SHA256 like the inbound webhook
(``X-Resonanz-Signature: sha256=<hex>``), and every try of one reply carries the same
``Idempotency-Key``: the receiver must answer a repeated key with its first answer and not deliver
twice (``publish_check = KEY``), which is what lets the outbox retry a 500 or a timeout safely.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from resonanz.clock import now
from resonanz.connectors.base import (
    Connector,
    OutgoingReply,
    PublishCheck,
    PublishOutcomeUnknownError,
    PublishResult,
    PullResult,
    RawItem,
    ReplyKind,
    read_secret,
)
from resonanz.connectors.http_api import Response, status_error
from resonanz.connectors.outbound_webhook.parse import (
    IDEMPOTENCY_HEADER,
    PLATFORM,
    SIGNATURE_HEADER,
    body_of,
    result_of,
    sign,
)
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError, ParseError
from resonanz.mentions.schemas import MentionIn

DEFAULT_SECRET_ENV = "RESONANZ_OUTBOUND_WEBHOOK_SECRET"  # noqa: S105 (a variable name, not a secret)
GUIDANCE = {
    401: "the receiver refused the signature: check that both sides use the same secret",
    403: "the receiver refused the signature: check that both sides use the same secret",
    404: "the receiver says the post answered is gone (deleted) or the URL is wrong",
    410: "the receiver says the post answered is gone (deleted)",
    422: "the receiver refused the reply's content",
}


class OutboundWebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description="where replies are POSTed")
    secret_env: str = Field(
        default=DEFAULT_SECRET_ENV,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="environment variable (or secrets-file key) holding the signing secret",
    )
    platforms: list[str] = Field(
        default_factory=list, description="case platforms this publisher answers (empty: any without its own)"
    )
    idempotency_window_s: int = Field(
        default=86_400, ge=60, description="how long the receiver remembers an Idempotency-Key"
    )


class OutboundWebhookConnector(Connector):
    kind: ClassVar[str] = "outbound_webhook"
    title: ClassVar[str] = "Outbound webhook (replies as signed JSON)"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = OutboundWebhookConfig
    pulls: ClassVar[bool] = False
    publishes: ClassVar[bool] = True
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset({ReplyKind.REPLY, ReplyKind.DIRECT})
    publish_check: ClassVar[PublishCheck] = PublishCheck.KEY
    idempotency_window_s: ClassVar[int | None] = 86_400

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        """Nothing to fetch: this connector only sends."""
        return PullResult(cursor=cursor)

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        raise ParseError("the outbound webhook only sends replies; it has no items to parse")

    def publish(self, reply: OutgoingReply) -> PublishResult:
        config = self.config
        assert isinstance(config, OutboundWebhookConfig)
        secret = read_secret(config.secret_env, settings=self.settings)
        if secret is None:
            raise ConnectorPermanentError(f"no signing secret: set {config.secret_env} where Resonanz runs")
        body = body_of(reply)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.settings.user_agent,
            SIGNATURE_HEADER: sign(body, secret),
            IDEMPOTENCY_HEADER: reply.idempotency_key,
        }
        client = self.http if self.http is not None else httpx.Client(timeout=self.settings.http_timeout_s)
        try:
            answer = call_raw(client, str(config.url), body, headers)
        finally:
            if self.http is None:
                client.close()
        return result_of(answer, reply, at=now())


def call_raw(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """POST ``body`` as is (the signature covers these exact bytes). Failures are sorted as
    :mod:`resonanz.connectors.http_api` sorts writes: nothing sent -> transient; maybe sent (timeout
    after sending, 500/502/504) -> PublishOutcomeUnknownError; refused -> permanent."""
    try:
        raw = client.post(url, content=body, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ConnectorTransientError(f"could not reach {url}: {type(exc).__name__}") from exc
    except httpx.HTTPError as exc:
        raise PublishOutcomeUnknownError(
            f"connection to {url} failed after sending ({type(exc).__name__}); the reply may or may not be out"
        ) from exc
    response = Response(raw.status_code, str(raw.url), {k.lower(): v for k, v in raw.headers.items()}, raw.content)
    if not 200 <= raw.status_code < 300:
        raise status_error(response, what="the reply", guidance=GUIDANCE, write=True)
    return raw.content
