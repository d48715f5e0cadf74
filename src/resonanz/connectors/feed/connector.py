"""The RSS / Atom feed connector: the HTTP side (I/O). Splitting and mapping are pure and live in
:mod:`~resonanz.connectors.feed.document` and :mod:`~resonanz.connectors.feed.parse`.

One pull is one conditional GET: the cursor keeps the feed's ``ETag`` and ``Last-Modified``, a
``304 Not Modified`` ends the pull at once. Redirects are followed by hand (at most
:data:`MAX_REDIRECTS`) so that a loop can be named as a loop, and a permanent move (301/308) can be
reported with the new URL, which a person should put into the source. Failures are sorted for the
scheduler::

    timeouts, connection errors, 408, 5xx, 429   -> ConnectorTransientError (429/503: Retry-After)
    401, 403, 404, 410, other 4xx, redirect loop,
    too many redirects, body over the size limit -> ConnectorPermanentError (source disabled)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.clock import ensure_utc, now
from resonanz.connectors.base import Connector, PullResult, RawItem, SplitResult
from resonanz.connectors.feed.document import split_document
from resonanz.connectors.feed.parse import parse_entry
from resonanz.errors import ConnectorPermanentError, ConnectorTransientError
from resonanz.mentions.schemas import MentionIn

MAX_REDIRECTS = 5
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: undated entries remembered per source (their estimated date must not move between pulls)
MAX_REMEMBERED = 2000
_PERMANENT_STATUS = {
    401: "the feed at {url} needs a login",
    403: "the server refuses to serve {url} to Resonanz",
    404: "there is no feed at {url} (check the URL)",
    410: "the feed at {url} was removed",
}


class FeedConfig(BaseModel):
    """A feed source: the URL of the RSS or Atom document, and optionally how many of its newest
    entries to take per pull."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="the feed's URL (http or https)")
    max_items: int | None = Field(default=None, ge=1, le=100_000, description="take at most this many entries")

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http:// or https:// URL with a host (got {value!r})")
        return value


def parse_retry_after(value: str | None, *, at: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (ensure_utc(when) - at).total_seconds())


@dataclass
class Fetched:
    status: int
    url: str
    headers: dict[str, str]
    body: bytes = b""
    moved: list[tuple[int, str, str]] = field(default_factory=list)  # (status, from, to) of 301/308


def _status_error(response: httpx.Response, url: str) -> Exception:
    status = response.status_code
    label = f"HTTP {status} {response.reason_phrase}".rstrip()
    if status == 429 or status == 408 or status >= 500:
        retry_after = parse_retry_after(response.headers.get("retry-after"), at=now())
        wait = f"; the server asks to wait {retry_after:.0f} s" if retry_after is not None else "; will retry"
        return ConnectorTransientError(f"{label} from {url}{wait}", retry_after=retry_after)
    template = _PERMANENT_STATUS.get(status, "the server rejected the request for {url}")
    return ConnectorPermanentError(f"{label}: {template.format(url=url)}")


def _read_capped(response: httpx.Response, url: str, limit: int) -> bytes:
    """The decoded body, or a permanent error once it grows past ``limit`` (read no further)."""
    declared = response.headers.get("content-length", "")
    hint = "raise RESONANZ_HTTP_MAX_BYTES to accept it"
    if declared.isdigit() and int(declared) > limit:
        raise ConnectorPermanentError(
            f"the feed at {url} is {int(declared):,} bytes, over the limit of {limit:,} bytes; {hint}"
        )
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise ConnectorPermanentError(
                f"the feed at {url} is larger than the limit of {limit:,} bytes (stopped reading); {hint}"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(client: httpx.Client, url: str, *, headers: dict[str, str], max_bytes: int) -> Fetched:
    """GET ``url`` following at most :data:`MAX_REDIRECTS` redirects; raise the connector errors
    described in the module docstring."""
    seen = [url]
    moved: list[tuple[int, str, str]] = []
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            with client.stream("GET", current, headers=headers, follow_redirects=False) as response:
                status = response.status_code
                if status in _REDIRECTS:
                    if not response.headers.get("location", "").strip():
                        raise ConnectorPermanentError(f"HTTP {status} from {current} without a Location header")
                    target = urljoin(current, response.headers["location"].strip())
                    if urlsplit(target).scheme not in ("http", "https"):
                        raise ConnectorPermanentError(f"HTTP {status} from {current} redirects to non-web {target}")
                    if status in (301, 308):
                        moved.append((status, current, target))
                    if target in seen:
                        chain = " -> ".join([*seen[seen.index(target) :], target])
                        raise ConnectorPermanentError(f"redirect loop: {chain}")
                    seen.append(target)
                    current = target
                    continue
                if status == 304:
                    return Fetched(status, current, dict(response.headers), moved=moved)
                if not 200 <= status < 300:
                    raise _status_error(response, current)
                body = _read_capped(response, current, max_bytes)
                return Fetched(status, current, dict(response.headers), body, moved)
        except httpx.UnsupportedProtocol as exc:
            raise ConnectorPermanentError(f"cannot fetch {current}: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise ConnectorTransientError(f"timed out fetching {current} ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise ConnectorTransientError(f"could not fetch {current}: {type(exc).__name__}: {exc}") from exc
    raise ConnectorPermanentError(f"too many redirects (more than {MAX_REDIRECTS}): {' -> '.join(seen)}")


def keep_estimated_dates(items: list[RawItem], known: dict[str, str]) -> tuple[list[RawItem], dict[str, str]]:
    """Give undated entries the date they were given when first seen.

    An entry without a date gets the feed's date or the fetch time; both move on every pull, and a
    moving date would make every re-pull an "edit". The cursor remembers the first estimate per
    entry (only for entries still in the feed, so it stays small) and it is written back into the
    payload, so a later replay of the item keeps it too.
    """
    remembered: dict[str, str] = {}
    out: list[RawItem] = []
    for item in items:
        key = item.context.get("undated_key")
        if not key:
            out.append(item)
            continue
        first = known.get(key)
        if first and first != item.context.get("estimated_date"):
            data = json.loads(item.payload)
            data["estimated_date"] = first
            item = replace(
                item,
                payload=json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                context={**item.context, "estimated_date": first},
            )
        if len(remembered) < MAX_REMEMBERED:
            remembered[key] = str(item.context.get("estimated_date"))
        out.append(item)
    return out, remembered


class FeedConnector(Connector):
    """RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 feeds, blog comment feeds included (read-only)."""

    kind: ClassVar[str] = "feed"
    title: ClassVar[str] = "RSS / Atom feed"
    platform: ClassVar[str] = "feed"
    Config: ClassVar[type[BaseModel]] = FeedConfig

    def _client(self) -> httpx.Client:
        return httpx.Client(
            timeout=self.settings.http_timeout_s,
            headers={"User-Agent": self.settings.user_agent},
            follow_redirects=False,  # followed by hand in fetch(), at most MAX_REDIRECTS
            max_redirects=MAX_REDIRECTS,
        )

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        config = self.config
        assert isinstance(config, FeedConfig)
        headers = {"Accept": ACCEPT, "User-Agent": self.settings.user_agent}
        if cursor.get("url") == config.url:  # validators belong to the URL they came from
            if cursor.get("etag"):
                headers["If-None-Match"] = str(cursor["etag"])
            if cursor.get("last_modified"):
                headers["If-Modified-Since"] = str(cursor["last_modified"])
        client = self.http if self.http is not None else self._client()
        try:
            fetched = fetch(client, config.url, headers=headers, max_bytes=self.settings.http_max_bytes)
        finally:
            if self.http is None:
                client.close()
        warnings = [
            f"the feed moved permanently (HTTP {status}) from {old} to {new}; change the source's URL to {new}"
            for status, old, new in fetched.moved
        ]
        if fetched.status == 304:
            return PullResult(cursor=dict(cursor), warnings=warnings, not_modified=True)
        fetched_at = now()
        lowered = {k.lower(): v for k, v in fetched.headers.items()}
        new_cursor: dict[str, Any] = {"url": config.url, "final_url": fetched.url, "fetched_at": fetched_at.isoformat()}
        for key, header in (("etag", "etag"), ("last_modified", "last-modified")):
            if lowered.get(header):
                new_cursor[key] = lowered[header]
        context = {
            "feed_url": config.url,
            "base_url": fetched.url,
            "fetched_at": fetched_at.isoformat(),
            "response_headers": {"content-type": lowered.get("content-type", "")},
        }
        split = self.split(fetched.body, context)
        items = split.items[: config.max_items] if config.max_items else split.items
        items, new_cursor["estimated_dates"] = keep_estimated_dates(items, cursor.get("estimated_dates") or {})
        return PullResult(
            items=items, cursor=new_cursor, rejected=split.rejected, warnings=[*warnings, *split.warnings]
        )

    @classmethod
    def split(cls, document: bytes, context: dict[str, Any]) -> SplitResult:
        return split_document(document, context)

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_entry(item)
