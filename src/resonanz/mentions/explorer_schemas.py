"""What the mentions explorer takes and returns (pages, the API and the CLI share these).

:class:`ExplorerQuery` is the search box plus filters; lists are normalised (sorted, without
repeats) so the same filters always make the same query fingerprint, which the cursors carry.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from resonanz.clock import ensure_utc

Sentiment = Literal["positive", "neutral", "negative"]
#: the intent stage's labels (resonanz.analysis.classifiers.intent.LABELS; a test holds them equal)
Intent = Literal["complaint", "question", "praise", "suggestion", "other"]
Sort = Literal["newest", "oldest", "engagement"]
SORTS: tuple[Sort, ...] = ("newest", "oldest", "engagement")
MAX_LIMIT = 200


class ExplorerQuery(BaseModel):
    """Search text (the syntax of :mod:`resonanz.mentions.search`) and filters, all combined with AND;
    the values inside one filter combine with OR. ``author`` is a handle (with or without ``@``) or
    an author id. ``since`` and ``until`` both include their instant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str | None = Field(default=None, max_length=500)
    source_ids: list[int] = Field(default_factory=list, max_length=100)
    platforms: list[str] = Field(default_factory=list, max_length=50)
    langs: list[str] = Field(default_factory=list, max_length=50)
    sentiments: list[Sentiment] = Field(default_factory=list)
    intents: list[Intent] = Field(default_factory=list)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    author: str | None = Field(default=None, max_length=300)
    #: mentions matched by any of these listening queries (dashboards click through with them)
    query_ids: list[int] = Field(default_factory=list, max_length=50)
    sort: Sort = "newest"

    @field_validator("q", "author")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        value = value.strip() if value is not None else None
        return value or None

    @field_validator("source_ids", "platforms", "langs", "sentiments", "intents", "query_ids")
    @classmethod
    def _normalise(cls, values: list[Any]) -> list[Any]:
        if values and isinstance(values[0], str):
            values = [v.strip().lower() for v in values if v.strip()]
        return sorted(set(values))

    @field_validator("platforms", "langs")
    @classmethod
    def _short_names(cls, values: list[str]) -> list[str]:
        for v in values:
            if len(v) > 40:
                raise ValueError(f"{v[:40]!r}… is longer than 40 characters")
        return values

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return ensure_utc(value) if value is not None else None

    @model_validator(mode="after")
    def _range(self) -> ExplorerQuery:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since must not be later than until")
        return self

    def fingerprint(self) -> str:
        """Short digest of everything but nothing else than what decides the rows and their order."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class MentionSummary(BaseModel):
    """One row of the explorer list. ``snippet`` is plain text (never HTML): escape it when shown."""

    model_config = ConfigDict(frozen=True)

    id: int
    platform: str
    kind: str
    source_id: int | None
    source_name: str | None
    author_id: int | None
    author_handle: str | None
    author_name: str | None
    published_at: datetime
    title: str | None
    snippet: str
    url: str | None
    lang: str | None
    sentiment: str | None
    intent: str | None
    needs_response: bool | None
    risk: float | None
    engagement: float
    parent_id: int | None
    duplicate_of_id: int | None


class ExplorerPage(BaseModel):
    items: list[MentionSummary]
    next_cursor: str | None
    limit: int


class AuthorCard(BaseModel):
    id: int
    platform: str
    handle: str
    name: str | None
    url: str | None
    followers: int | None
    mention_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    #: stored mentions per sentiment label ("unknown": not analysed yet)
    sentiment_split: dict[str, int]


class AnalysisEntry(BaseModel):
    """One stage's stored result with its explanation (``reasons`` and the like live in ``result``)."""

    stage: str
    version: str
    revision: int
    current: bool  # computed for the mention's current revision
    result: dict[str, Any]
    created_at: datetime


class Correction(BaseModel):
    task: str
    label: str
    previous: str | None
    note: str | None
    actor: str
    created_at: datetime


class MentionFull(BaseModel):
    """Every stored field of a mention. ``html`` is the sanitised HTML from ingest; ``raw`` is the
    platform's payload — the page decides who may see it (``mentions.raw``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: str
    external_id: str
    kind: str
    url: str | None
    source_id: int | None
    author_id: int | None
    parent_id: int | None
    parent_external_id: str | None
    thread_external_id: str | None
    published_at: datetime
    fetched_at: datetime
    updated_at: datetime
    title: str | None
    text: str
    html: str | None
    language_hint: str | None
    media: list[dict[str, Any]]
    metrics: dict[str, Any]
    raw: Any
    duplicate_of_id: int | None
    revision: int
    lang: str | None
    lang_confidence: float | None
    sentiment: str | None
    sentiment_score: float | None
    intent: str | None
    needs_response: bool | None
    risk_score: float | None
    offensive: bool | None


class MentionDetail(BaseModel):
    mention: MentionFull
    source_name: str | None
    parent: MentionSummary | None
    #: the first mention of the thread (following parents up), when it is not this one or the parent
    root: MentionSummary | None
    replies: list[MentionSummary]  # oldest first, at most ``replies_limit``
    reply_count: int
    #: the mention this one repeats (``duplicate_of_id``), and the reposts of this one
    original: MentionSummary | None
    duplicates: list[MentionSummary]
    duplicate_count: int
    author: AuthorCard | None
    analysis: list[AnalysisEntry]
    corrections: list[Correction]
