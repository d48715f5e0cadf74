"""The notifier contract: what a message is, how a channel sends it, and what came of it.

A notifier is a class with a ``kind`` (``email``, ``webhook``, ``slack`` …), a ``title``, a pydantic
``Config`` (what a channel stores: addresses, a URL, the *name* of a secret — never the secret
itself) and ``send(message) -> DeliveryResult``. Built-ins register through the
``register_notifiers`` hook like a plugin would (``resonanz.notifications.builtin``), so a plugin
adds a channel type without forking.

``send`` never raises for a failed delivery: it classifies the failure, because the caller (the
delivery job) must decide between "try again later" and "give up and tell a person"::

    DeliveryResult
    ├── sent        the server accepted the message
    ├── retry       try again later: HTTP 429 / 5xx / 408, timeouts, refused connections,
    │               SMTP 4xx; ``retry_after_s`` carries a server's Retry-After
    └── failed      no retry can help: HTTP 4xx (not 408/429), SMTP 5xx, bad credentials,
                    a missing secret or server setting
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, Field, ValidationError, field_validator

from resonanz.errors import ConfigError, InputError, NotFoundError, ResonanzError
from resonanz.i18n import LOCALES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resonanz.config import Settings

#: (filename, MIME type, content) — the form callers pass attachments in
Attachment = tuple[str, str, bytes]


@dataclass(frozen=True)
class Notification:
    """One message to deliver. ``text`` is always there (plain-text mail part, chat fallback);
    ``html`` is the rich form for e-mail; ``data`` is the structured form webhooks send (an
    alert's numbers, ids and link); ``to`` is who receives an e-mail (channels of other kinds
    ignore it)."""

    subject: str
    text: str
    html: str | None = None
    to: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    link: str | None = None
    event: str = "notification"
    data: dict[str, Any] = field(default_factory=dict)
    #: the language the words are in (``en``/``de``): a chat message labels its link in it
    language: str = "en"


class AudienceConfig(BaseModel):
    """What every built-in channel config carries about its readers: a chat channel or a webhook
    has no user whose settings say which language and zone they read, so the channel says it
    (unset: ``notification_language`` / ``notification_time_zone`` from the settings)."""

    language: str | None = Field(default=None, description="language of the messages: en or de")
    time_zone: str | None = Field(default=None, max_length=64, description="IANA zone for times, e.g. Europe/Berlin")

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.strip().lower() not in LOCALES:
            raise ValueError(f"choose one of {', '.join(LOCALES)}")
        return value.strip().lower()

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
        return value.strip()


class DeliveryStatus(StrEnum):
    sent = "sent"
    retry = "retry"
    failed = "failed"


@dataclass(frozen=True)
class DeliveryResult:
    """What came of one attempt; ``detail`` is shown to people (no secrets in it)."""

    status: DeliveryStatus
    detail: str = ""
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.sent

    def raise_for_status(self) -> None:
        """Raise :class:`DeliveryError` unless sent (for callers that prefer exceptions)."""
        if not self.ok:
            raise DeliveryError(self.detail or str(self.status), retryable=self.status is DeliveryStatus.retry)


class DeliveryError(ResonanzError):
    """A message was not delivered; ``retryable`` says whether a later attempt may succeed.
    ``retry_after`` (seconds) is read by the job runner as the delay before the next attempt."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(message)


def sent(detail: str = "") -> DeliveryResult:
    return DeliveryResult(DeliveryStatus.sent, detail)


def retry(detail: str, *, retry_after_s: float | None = None) -> DeliveryResult:
    return DeliveryResult(DeliveryStatus.retry, detail, retry_after_s)


def failed(detail: str) -> DeliveryResult:
    return DeliveryResult(DeliveryStatus.failed, detail)


class Notifier(Protocol):
    """A channel type. Instances are cheap: built per delivery from a stored config."""

    kind: ClassVar[str]
    title: ClassVar[str]
    Config: ClassVar[type[BaseModel]]

    def __init__(self, config: Any, *, settings: Settings) -> None: ...

    def send(self, message: Notification) -> DeliveryResult: ...


def classify_http(status: int, headers: Mapping[str, str] | None = None, *, body: str = "") -> DeliveryResult:
    """Sort an HTTP answer: 2xx sent; 408, 429 and 5xx retry (honouring ``Retry-After`` seconds);
    any other 4xx (a wrong URL, a revoked hook, a rejected payload) is permanent."""
    snippet = body.strip().replace("\n", " ")[:200]
    detail = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    if 200 <= status < 300:
        return sent(f"HTTP {status}")
    if status in (408, 429) or status >= 500:
        return retry(detail, retry_after_s=_retry_after(headers))
    return failed(detail)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, min(float(value), 3600.0))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


@functools.cache
def _registry() -> dict[str, type[Notifier]]:
    from resonanz.plugins import get_plugin_manager

    found: dict[str, type[Notifier]] = {}
    for batch in get_plugin_manager().hook.register_notifiers():
        for cls in batch or ():
            found[cls.kind] = cls
    return found


def notifier_classes() -> dict[str, type[Notifier]]:
    """Every registered notifier by kind (built-ins and plugins)."""
    return dict(_registry())


def validate_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Check a channel config against its notifier's ``Config``; returns the normalised dict.
    Raises :class:`NotFoundError` for an unknown kind, :class:`InputError` naming the field."""
    cls = notifier_classes().get(kind)
    if cls is None:
        known = ", ".join(sorted(notifier_classes()))
        raise NotFoundError(f"unknown notification channel kind {kind!r} (known: {known})")
    try:
        model = cls.Config.model_validate(dict(config))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        raise InputError(message, location=f"config.{where}") from exc
    return model.model_dump(mode="json")


def build_notifier(kind: str, config: Mapping[str, Any], *, settings: Settings) -> Notifier:
    """A ready notifier for a stored channel config (validated again: configs outlive code)."""
    cls = notifier_classes().get(kind)
    if cls is None:
        raise ConfigError(f"no notifier of kind {kind!r} is installed")
    try:
        model = cls.Config.model_validate(dict(config))
    except ValidationError as exc:
        raise ConfigError(f"channel config for {kind!r} is invalid: {exc.errors()[0]['msg']}") from exc
    return cls(model, settings=settings)
