"""The domain exception tree. Business code raises these; only the API, web and CLI layers turn
them into status codes or exit codes.

::

    ResonanzError
    ├── ConfigError                 settings or a source's config are invalid
    ├── NotFoundError               a row asked for by id or name does not exist
    ├── ConflictError               a unique name is taken, a state does not allow the change
    ├── InputError                  bad input from a user or file, with a location
    │   ├── ParseError              one item could not be parsed (goes to quarantine)
    │   └── ImportFormatError       a whole file is unusable (e.g. a required column is missing)
    ├── SignatureError              a webhook's HMAC signature is missing or wrong
    ├── AuthenticationError         not signed in, or wrong e-mail/password/token (HTTP 401)
    ├── PermissionDeniedError       signed in, but the role lacks the permission (HTTP 403)
    ├── RateLimitedError            too many attempts; may carry ``retry_after`` (HTTP 429)
    └── ConnectorError              a connector could not fetch or publish
        ├── ConnectorTransientError retry later (429, 5xx, timeouts); may carry ``retry_after``
        └── ConnectorPermanentError the source cannot work until a person acts (404, 410, 401)
"""

from __future__ import annotations


class ResonanzError(Exception):
    """Base of every error Resonanz raises on purpose."""


class ConfigError(ResonanzError):
    """Settings or a source configuration are invalid."""


class NotFoundError(ResonanzError):
    """A row asked for by id or name does not exist."""


class ConflictError(ResonanzError):
    """The change conflicts with existing state (a taken name, a state that forbids it)."""


class InputError(ResonanzError):
    """Bad input, with where it happened (``location``: 'line 17', 'entry 3', 'field text')."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        self.reason = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class ParseError(InputError):
    """One raw item could not be turned into a mention; it is quarantined, the rest goes on."""


class ImportFormatError(InputError):
    """A whole import file is unusable, so nothing from it is imported."""


class SignatureError(ResonanzError):
    """A webhook request's signature is missing or does not match the source's secret."""


class AuthenticationError(ResonanzError):
    """Not signed in, or the credentials are wrong. The message never says which part was wrong."""


class PermissionDeniedError(ResonanzError):
    """The person is known but their role does not carry the permission the action needs."""


class RateLimitedError(ResonanzError):
    """Too many attempts in a window (sign-in); ``retry_after`` is seconds until the next try."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ConnectorError(ResonanzError):
    """A connector could not talk to its platform."""


class ConnectorTransientError(ConnectorError):
    """Worth retrying later: rate limits, server errors, timeouts.

    ``retry_after`` (seconds) is set when the platform said how long to wait.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ConnectorPermanentError(ConnectorError):
    """The source cannot work until a person changes something (gone, forbidden, bad config)."""
