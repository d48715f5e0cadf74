"""The connector contract.

A connector turns a platform into raw items and back. It never touches the database:

* :meth:`Connector.pull` does the I/O: given the stored cursor it fetches what is new and
  returns a :class:`PullResult` (raw items, the next cursor, rejected documents).
* :meth:`Connector.split` (pure) cuts one fetched document into raw items; replaying a
  quarantined document calls it again.
* :meth:`Connector.parse` (pure) maps one raw item to a :class:`MentionIn`, or raises
  :class:`~resonanz.errors.ParseError` saying what is wrong; the item then goes to quarantine.

Raw items are bytes (the platform's own payload, JSON-encoded where it was structured) plus a
small JSON ``context`` (the feed URL, the item's position): enough to parse the item again later
without fetching it again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from resonanz.config import Settings
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


class Connector(ABC):
    """Base class of every connector; subclasses set the class attributes."""

    kind: ClassVar[str]
    title: ClassVar[str]
    platform: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    #: False for push-only kinds (files, webhooks): such sources are never put on a pull schedule.
    pulls: ClassVar[bool] = True

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
