"""The Hacker News connector: the HTTP side of the Algolia HN Search API (read-only, no login).

Each query is read with ``/api/v1/search_by_date`` (newest first), bounded by
``numericFilters=created_at_i>=SINCE,created_at_i<=UNTIL`` and paged with ``page`` /
``hitsPerPage``. The position across pulls is a :class:`~resonanz.connectors.windows.Window`
(high-water mark, a 5-minute overlap for late indexing, the ids seen in it, the unread rest of an
unfinished pull). Algolia stops paging after 1,000 hits (``nbPages`` is capped); when a window
holds more, the pull narrows ``UNTIL`` to the oldest hit reached and starts again at page 0.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from resonanz.connectors.base import Connector, PullResult, RawItem, Rejected
from resonanz.connectors.hackernews.parse import PLATFORM, hit_time, parse_hit
from resonanz.connectors.http_api import MalformedBodyError, Response, call, compact_json
from resonanz.connectors.windows import Window
from resonanz.mentions.schemas import MentionIn

OVERLAP_S = 300.0
GUIDANCE = {
    400: "Algolia refused the query (check query and tags)",
    403: "Algolia refuses requests from this address",
    404: "no HN search API at this address (check api_url)",
}
Tags = Literal["(story,comment)", "story", "comment", "ask_hn", "show_hn", "poll"]


class HackerNewsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queries: list[str] = Field(min_length=1, description="search terms; each is its own stream")
    tags: Tags = Field(default="(story,comment)", description="which items: stories, comments or both")
    hits_per_page: int = Field(default=100, ge=1, le=1000)
    max_pages: int = Field(default=10, ge=1, le=200)
    api_url: str = Field(default="https://hn.algolia.com/api/v1", description="the API's base URL")

    @field_validator("queries", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part]
        return value

    @field_validator("api_url")
    @classmethod
    def _http(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL (got {value!r})")
        return value


class HackerNewsConnector(Connector):
    """Stories and comments on Hacker News matching search terms (read-only)."""

    kind: ClassVar[str] = "hackernews"
    title: ClassVar[str] = "Hacker News (Algolia search)"
    platform: ClassVar[str] = PLATFORM
    Config: ClassVar[type[BaseModel]] = HackerNewsConfig

    @property
    def cfg(self) -> HackerNewsConfig:
        assert isinstance(self.config, HackerNewsConfig)
        return self.config

    def pull(self, cursor: dict[str, Any]) -> PullResult:
        result = PullResult()
        same = cursor.get("api_url") == self.cfg.api_url and cursor.get("tags") == self.cfg.tags
        states: dict[str, Any] = dict(cursor.get("streams") or {}) if same else {}
        client = self.http if self.http is not None else httpx.Client(timeout=self.settings.http_timeout_s)
        try:
            for query in self.cfg.queries:
                self._pull_query(client, query, states, result)
        finally:
            if self.http is None:
                client.close()
        result.cursor = {"api_url": self.cfg.api_url, "tags": self.cfg.tags, "streams": states}
        return result

    def _get(self, client: httpx.Client, params: dict[str, Any], what: str) -> Response:
        return call(
            client,
            "GET",
            f"{self.cfg.api_url}/search_by_date",
            what=what,
            max_bytes=self.settings.http_max_bytes,
            guidance=GUIDANCE,
            params=params,
            headers={"Accept": "application/json", "User-Agent": self.settings.user_agent},
        )

    def _pull_query(self, client: httpx.Client, query: str, states: dict[str, Any], result: PullResult) -> None:
        key, what = f"search:{query}", f"the search {query!r}"
        window = Window.load(states.get(key), overlap_s=OVERLAP_S)
        until = window.until
        page, complete, more = 0, False, False
        for request_no in range(1, self.cfg.max_pages + 1):
            filters = []
            if window.since is not None:
                filters.append(f"created_at_i>={int(window.since)}")
            if until is not None:
                filters.append(f"created_at_i<={int(until)}")  # inclusive: ties come back as re-reads
            params: dict[str, Any] = {"query": query, "tags": self.cfg.tags, "hitsPerPage": self.cfg.hits_per_page}
            params["page"] = page
            if filters:
                params["numericFilters"] = ",".join(filters)
            response = self._get(client, params, what)
            location = f"{what}, page {page} (request {request_no})"
            try:
                data = response.json()
                if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
                    raise MalformedBodyError(f"the answer from {response.url} has no 'hits' list")
            except MalformedBodyError as exc:
                result.rejected.append(
                    Rejected(
                        payload=response.body, reason=str(exc), location=location, stage="fetch",
                        content_type=response.headers.get("content-type"), context={"url": response.url, "stream": key},
                    )
                )  # fmt: skip
                break
            hits = data["hits"]
            for n, hit in enumerate(hits):
                at = hit_time(hit) if isinstance(hit, dict) else None
                object_id = str(hit.get("objectID")) if isinstance(hit, dict) else ""
                if at is None or not object_id or window.offer(object_id, at.timestamp()):
                    item = RawItem(
                        payload=compact_json({"api": self.cfg.api_url, "hit": hit}),
                        location=f"{location}, hit {n + 1}",
                        context={"stream": key},
                    )
                    result.items.append(item)
            pages, total = int(data.get("nbPages") or 0), int(data.get("nbHits") or 0)
            more = bool(hits) and (page + 1 < pages or total > (page + 1) * self.cfg.hits_per_page)
            if not more or window.first:
                complete = True
                break
            if page + 1 < pages:
                page += 1
            else:  # Algolia's 1,000-hit paging limit: narrow the window and start again
                until, page = window.oldest, 0
        else:
            result.warnings.append(f"{what}: stopped after max_pages={self.cfg.max_pages}; the next pull goes on")
        states[key] = window.finish(complete=complete, more=more)

    @classmethod
    def parse(cls, item: RawItem) -> MentionIn:
        return parse_hit(item)
