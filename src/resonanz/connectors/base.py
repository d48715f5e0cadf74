"""The connector contract.

A connector turns a platform into raw items and back. It never touches the database:

* :meth:`Connector.pull` does the I/O: given the stored cursor it fetches what is new and
  returns a :class:`PullResult` (raw items, the next cursor, rejected documents).
* :meth:`Connector.split` (pure) cuts one fetched document into raw items; replaying a
  quarantined document calls it again.
* :meth:`Connector.parse` (pure) maps one raw item to a :class:`MentionIn`, or raises
  :class:`~resonanz.errors.ParseError` saying what is wrong; the item then goes to quarantine.
* :meth:`Connector.publish` (optional, ``publishes = True``) sends an :class:`OutgoingReply` and
  returns a :class:`PublishResult`; see "Publishing" below.

Raw items are bytes (the platform's own payload, JSON-encoded where it was structured) plus a
small JSON ``context`` (the feed URL, the item's position): enough to parse the item again later
without fetching it again.

Publishing
----------

The care inbox never calls a platform directly: it writes the reply to an outbox, and a job calls
:meth:`Connector.publish`. A send can end three ways, and the outbox must tell them apart:

* it returned a :class:`PublishResult`: the reply is out (``external_id`` is the platform's id);
* it raised :class:`~resonanz.errors.ConnectorTransientError` (429, 503, refused connection):
  nothing was sent, try again later (``retry_after`` when the platform said how long);
  :class:`~resonanz.errors.ConnectorPermanentError` (401, 403, the post answered is gone, text
  refused): nothing was sent and retrying will not help, a person must act;
* it raised :class:`PublishOutcomeUnknownError` (a timeout or dropped connection after the request was
  sent, a 500/502/504 on the write): the reply may or may not be out. Sending again blindly could
  post it twice. What the outbox may do instead is declared by :attr:`Connector.publish_check`:
  ``LOOKUP`` - ask :meth:`Connector.find_published` (it finds the reply by its idempotency key or
  by what it says); ``KEY`` - send again with the same ``idempotency_key`` within
  :attr:`Connector.idempotency_window_s`, the platform answers with the first post instead of a
  second one; ``NONE`` - a person has to look.

Every try of one outbox row passes the same :class:`OutgoingReply`, with the same
``idempotency_key`` and ``created_at``: connectors derive their platform keys from those two.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from resonanz.clock import ensure_utc
from resonanz.config import Settings
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.schemas import MentionIn


@dataclass(frozen=True)
class RawItem:
    payload: bytes
    location: str
    content_type: str = "application/json"
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """A raw item or a whole document that cannot be used, and why."""

    payload: bytes
    reason: str
    location: str
    stage: str = "parse"
    content_type: str | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class SplitResult:
    items: list[RawItem] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PullResult:
    items: list[RawItem] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    not_modified: bool = False


def read_secret(name: str, *, settings: Settings) -> str | None:
    """The secret called ``name``: the environment first, then the JSON object in
    ``RESONANZ_SECRETS_FILE`` (read on each call, so a rotated value applies without restart); an
    empty value counts as unset. The same rules as :func:`resonanz.sources.secrets.resolve_secret`,
    which connectors may not import (they stay clear of the sources layer); an unreadable secrets
    file is a :class:`ConnectorPermanentError` here, so the source is disabled with the reason."""
    value = os.environ.get(name)
    if not value and settings.secrets_file is not None:
        path = settings.secrets_file
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConnectorPermanentError(f"secrets file {path} is not readable JSON: {exc}") from exc
        found = data.get(name) if isinstance(data, dict) else None
        if found is not None and not isinstance(found, str):
            raise ConnectorPermanentError(f"secret {name!r} in {path} must be a string")
        value = found
    return value or None


class ReplyKind(StrEnum):
    REPLY = "reply"  # an answer in the thread of ``in_reply_to``, visible as the platform shows replies
    DIRECT = "direct"  # a private message to ``recipient``


class PublishCheck(StrEnum):
    """How the outbox may settle a :class:`PublishOutcomeUnknownError` (see the module docstring)."""

    LOOKUP = "lookup"  # find_published answers whether the reply is out
    KEY = "key"  # publishing again with the same idempotency_key cannot post twice (within a window)
    NONE = "none"  # nothing to check with: a person must look


class OutgoingReply(BaseModel):
    """What the outbox asks a connector to send; the same object on every try.

    ``in_reply_to`` is the ``external_id`` of the mention answered, exactly as the connector's
    parse step wrote it, so the connector can find the platform's own ids in it. ``recipient`` is
    an author ``handle`` as parse wrote it (a direct message's addressee; for a reply, the author
    answered, whom platforms such as Mastodon only notify when the text mentions them).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    idempotency_key: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    created_at: AwareDatetime
    text: str = Field(min_length=1, max_length=100_000)
    kind: ReplyKind = ReplyKind.REPLY
    in_reply_to: str | None = Field(default=None, max_length=500)
    recipient: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _target(self) -> OutgoingReply:
        if self.kind == ReplyKind.REPLY and not self.in_reply_to:
            raise ValueError("a reply needs in_reply_to (the external_id of the mention answered)")
        if self.kind == ReplyKind.DIRECT and not self.recipient:
            raise ValueError("a direct message needs a recipient (the author's handle)")
        return self

    @property
    def created_utc(self) -> datetime:
        return ensure_utc(self.created_at)


class PublishResult(BaseModel):
    """A reply that is out: the platform's id for it in the same form parse gives mentions, so the
    sent reply links into the thread when it is pulled back."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    external_id: str = Field(min_length=1, max_length=500)
    url: str | None = None
    published_at: AwareDatetime
    raw: Any = None


class PublishOutcomeUnknownError(ConnectorTransientError):
    """The request may have reached the platform (timeout after sending, dropped connection, 5xx on
    the write): check before sending again, as :attr:`Connector.publish_check` says."""


class Connector(ABC):
    """Base class of every connector; subclasses set the class attributes."""

    kind: ClassVar[str]
    title: ClassVar[str]
    platform: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    #: False for push-only kinds (files, webhooks): such sources are never put on a pull schedule.
    pulls: ClassVar[bool] = True
    #: True where :meth:`publish` can send replies; ``reply_kinds`` says which.
    publishes: ClassVar[bool] = False
    reply_kinds: ClassVar[frozenset[ReplyKind]] = frozenset()
    publish_check: ClassVar[PublishCheck] = PublishCheck.NONE
    #: with ``publish_check = KEY``: how long the platform remembers an idempotency key (seconds)
    idempotency_window_s: ClassVar[int | None] = None

    def __init__(self, config: BaseModel, *, settings: Settings, http: httpx.Client | None = None) -> None:
        self.config = config
        self.settings = settings
        self.http = http

    @abstractmethod
    def pull(self, cursor: dict[str, Any]) -> PullResult:
        """Fetch what is new since ``cursor``; raise ConnectorTransientError / ConnectorPermanentError."""

    @classmethod
    def split(cls, document: bytes, context: dict[str, Any]) -> SplitResult:
        """Cut a fetched document into raw items (pure). Connectors whose pull already yields
        single items need not override this."""
        return SplitResult(items=[RawItem(payload=document, location=str(context.get("location", "item")))])

    @classmethod
    @abstractmethod
    def parse(cls, item: RawItem) -> MentionIn:
        """Map one raw item to a normalised mention (pure)."""

    def publish(self, reply: OutgoingReply) -> PublishResult:
        """Send ``reply``; raise the errors listed in the module docstring. Read-only connectors
        keep this default, which refuses permanently."""
        raise ConnectorPermanentError(f"{self.title} is read-only here: Resonanz cannot publish replies to it")

    def find_published(self, reply: OutgoingReply) -> PublishResult | None:
        """The published form of ``reply`` if it is out, else None (``publish_check = LOOKUP`` only)."""
        raise ConnectorPermanentError(f"{self.title} cannot look up whether a reply was published")
