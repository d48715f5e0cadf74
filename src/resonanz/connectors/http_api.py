"""HTTP plumbing shared by the JSON API connectors (Mastodon, Bluesky, Hacker News, Reddit).

:func:`call` makes one request and sorts every failure the way the scheduler and the outbox need
it (STYLE.md: transient vs permanent; for writes, "may have been sent")::

    connect error / connect timeout              -> ConnectorTransientError (nothing was sent)
    read timeout, dropped connection             -> ConnectorTransientError on reads,
                                                    PublishOutcomeUnknownError on writes
    408, 429, 503                                -> ConnectorTransientError (+ retry_after)
    500, 502, 504                                -> ConnectorTransientError on reads,
                                                    PublishOutcomeUnknownError on writes
    401, 403                                     -> ConnectorPermanentError + the connector's guidance
    404, 410, other 4xx, body over the limit     -> ConnectorPermanentError

``retry_after`` comes from ``Retry-After`` or the platform's rate-limit reset header, which the
platforms spell differently: Mastodon ``X-RateLimit-Reset`` is an ISO 8601 time, Bluesky
``RateLimit-Reset`` a Unix time, Reddit ``X-Ratelimit-Reset`` seconds from now.
:func:`retry_after_of` reads all three forms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from resonanz.clock import ensure_utc, now
from resonanz.connectors.base import PublishOutcomeUnknownError
from resonanz.connectors.feed.connector import parse_retry_after
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError

RESET_HEADERS = ("x-ratelimit-reset", "ratelimit-reset")
REMAINING_HEADERS = ("x-ratelimit-remaining", "ratelimit-remaining")
_UNKNOWN_ON_WRITE = frozenset({500, 502, 504})
#: a reset value above this is a Unix time, below it a number of seconds
_EPOCH_THRESHOLD = 1_000_000_000


class MalformedBodyError(ValueError):
    """A 2xx response whose body is not the JSON the platform documents."""


@dataclass(frozen=True)
class Response:
    status: int
    url: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedBodyError(f"the response from {self.url} is not JSON: {exc}") from exc

    def remaining(self) -> int | None:
        """Requests left in the platform's current rate-limit window, if it says."""
        for name in REMAINING_HEADERS:
            value = self.headers.get(name, "").strip()
            try:
                return int(float(value))  # Reddit writes "99.0"
            except ValueError:
                continue
        return None


def _reset_seconds(value: str, at: datetime) -> float | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return max(0.0, (ensure_utc(when) - at).total_seconds())
    if number > _EPOCH_THRESHOLD:
        return max(0.0, number - at.timestamp())
    return max(0.0, number)


def retry_after_of(headers: Mapping[str, str], *, at: datetime) -> float | None:
    """Seconds to wait: ``Retry-After`` first, else the rate-limit reset (any of the three forms)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    wait = parse_retry_after(lowered.get("retry-after"), at=at)
    if wait is not None:
        return wait
    for name in RESET_HEADERS:
        if lowered.get(name):
            found = _reset_seconds(lowered[name], at)
            if found is not None:
                return found
    return None


def error_message(body: bytes) -> str:
    """The platform's own words from an error body (``error``, ``message``, ``error_description``)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("error", "message", "error_description") if data.get(k)]
        return ": ".join(dict.fromkeys(parts))
    return ""


def status_error(response: Response, *, what: str, guidance: Mapping[int, str], write: bool) -> Exception:
    """The connector error for a non-2xx answer (see the module docstring)."""
    status = response.status
    said = error_message(response.body)
    label = f"HTTP {status} from {what}" + (f" ({said})" if said else "")
    if status in (408, 429) or status >= 500:
        retry_after = retry_after_of(response.headers, at=now())
        wait = f"; the platform asks to wait {retry_after:.0f} s" if retry_after is not None else "; will retry"
        if write and status in _UNKNOWN_ON_WRITE:
            return PublishOutcomeUnknownError(f"{label}; the post may or may not be out", retry_after=retry_after)
        return ConnectorTransientError(label + wait, retry_after=retry_after)
    hint = guidance.get(status)
    return ConnectorPermanentError(f"{label}: {hint}" if hint else label)


def call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    max_bytes: int,
    guidance: Mapping[int, str] | None = None,
    write: bool = False,
    params: Any = None,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, Any] | None = None,
    answer_statuses: frozenset[int] = frozenset(),
) -> Response:
    """One request; a 2xx :class:`Response` or the error the module docstring names.

    ``what`` names the request in messages ("the hashtag timeline #bahn"); ``write`` marks a
    request that changes something, whose failure after sending is :class:`PublishOutcomeUnknownError`.
    ``answer_statuses`` are error statuses the caller reads itself (e.g. a lookup's "not found").
    """
    try:
        raw = client.request(method, url, params=params, headers=headers, json=json_body, data=form)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ConnectorTransientError(f"could not reach {url} for {what}: {type(exc).__name__}") from exc
    except httpx.TimeoutException as exc:
        if write:
            raise PublishOutcomeUnknownError(
                f"timed out waiting for {url} ({what}); the post may or may not be out"
            ) from exc
        raise ConnectorTransientError(f"timed out fetching {what} from {url} ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        if write:
            raise PublishOutcomeUnknownError(f"connection to {url} failed during {what}: {type(exc).__name__}") from exc
        raise ConnectorTransientError(f"could not fetch {what} from {url}: {type(exc).__name__}: {exc}") from exc
    body = raw.content
    response = Response(raw.status_code, str(raw.url), {k.lower(): v for k, v in raw.headers.items()}, body)
    if len(body) > max_bytes:
        raise ConnectorPermanentError(
            f"the answer for {what} is {len(body):,} bytes, over the limit of {max_bytes:,}; "
            "raise RESONANZ_HTTP_MAX_BYTES to accept it"
        )
    if not 200 <= raw.status_code < 300 and raw.status_code not in answer_statuses:
        raise status_error(response, what=what, guidance=guidance or {}, write=write)
    return response


def compact_json(value: Any) -> bytes:
    """The stored form of a raw item: compact UTF-8 JSON (lone surrogates kept, as the file import does)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
