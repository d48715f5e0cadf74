"""The inbound webhook connector: mentions pushed to ``POST /hooks/{source}``.

Nothing is pulled; the API receives the body, checks its HMAC-SHA256 signature with the source's
secret and sends the records through the same pipeline as a pull. The secret never lives in the
database: the source's config names the environment variable (or secrets-file entry) holding it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from resonanz.connectors.base import Connector, PullResult, RawItem, Rejected, SplitResult
from resonanz.connectors.file.parse import DEFAULT_PLATFORM, RecordError, parse_record
from resonanz.connectors.webhook.parse import record_item, split_body
from resonanz.errors import SignatureError
from resonanz.mentions.schemas import MentionIn

SIGNATURE_HEADER = "X-Resonanz-Signature"
SECRET_ENV_PREFIX = "RESONANZ_WEBHOOK_SECRET_"  # noqa: S105 (a variable name, not a secret)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def default_secret_env(source_name: str) -> str:
    """``RESONANZ_WEBHOOK_SECRET_<NAME>``: the name upper-cased, anything else than A-Z/0-9 -> ``_``."""
    return SECRET_ENV_PREFIX + _NOT_ALNUM.sub("_", source_name.upper())


def sign(body: bytes, secret: str) -> str:
    """The header value a sender puts on ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> None:
    """Raise SignatureError unless ``header`` is the HMAC-SHA256 of the raw ``body``."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header (expected sha256=<hex HMAC of the body>)")
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        raise SignatureError(f"{SIGNATURE_HEADER} must look like sha256=<hex>")
    # compare_digest on the full strings: time does not depend on where they differ.
    if not hmac.compare_digest(sign(body, secret).encode(), f"sha256={given.strip().lower()}".encode()):
        raise SignatureError("signature does not match the body (check the secret, and sign the exact bytes sent)")


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="environment variable (or secrets-file key) holding the secret; "
        "default RESONANZ_WEBHOOK_SECRET_<NAME>",
    )


class WebhookConnector(Connector):
    kind: ClassVar[str] = "webhook"
    title: ClassVar[str] = "Inbound webhook (JSON, HMAC-signed)"
    platform: ClassVar[str] = DEFAULT_PLATFORM
    Config: ClassVar[type[BaseModel]] = WebhookConfig
    pulls: ClassVar[bool] = False

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        """Nothing to fetch: senders push to ``POST /hooks/{source}``."""
        return PullResult(cursor=cursor)

    @classmethod
    def split(cls, document: bytes, context: dict[str, Any]) -> SplitResult:
        """A request body cut into one raw item per record."""
        try:
            records = split_body(document)
        except RecordError as exc:
            return SplitResult(rejected=[Rejected(payload=document, reason=str(exc), location="body")])
        return SplitResult(items=[record_item(path, record) for path, record in records])

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_record(item)
