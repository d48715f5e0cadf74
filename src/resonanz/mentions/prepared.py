"""A mention made ready to store: every value :func:`~resonanz.mentions.ingest.store_batch` derives
from an item without the database (folded index body, content and revision hashes, JSON texts).

Preparing is pure, so a bulk import can do it in a worker process and hand the main process
plain tuples (cheap to pickle) that it only has to write. ``store_batch`` prepares its items
itself, so every way in computes the same values the same way.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from resonanz.mentions.schemas import MentionIn
from resonanz.mentions.search_index import index_body
from resonanz.mentions.text import digest, folded_content_hash

#: Texts shorter than this are too generic ("Danke!", "+1") to call a repost of each other.
MIN_DUPLICATE_TEXT = 24


class Prepared(NamedTuple):
    """The stored form of one item. The first :data:`ROW_FIELDS` fields are mention columns as
    SQLite stores them, in the order of :data:`ROW_COLUMNS`, so the writer makes a row with one
    slice (see :class:`~resonanz.mentions.bulk.MentionWriter`)."""

    platform: str
    external_id: str
    kind: str
    url: str | None
    parent_external_id: str | None
    #: the thread key stored: the item's thread id, else its parent's id, else its own id
    thread: str
    #: ``published_at`` as SQLite stores it (:func:`sqlite_datetime`)
    published_text: str
    title: str | None
    text: str
    html: str | None
    language_hint: str | None
    #: JSON texts of the media, metrics and raw payload, as the JSON columns store them
    media: str
    metrics: str
    raw: str
    content_hash: str
    revision_hash: str
    # -- not mention columns as they are --
    handle: str | None
    author_name: str | None
    author_url: str | None
    followers: int | None
    #: the folded search-index body
    body: str
    #: long enough to be recognised as a repost of the same text elsewhere
    repostable: bool

    @property
    def published_at(self) -> datetime:
        """The aware UTC time (kept as text only: a datetime costs a ``__reduce__`` call each way
        through the worker's pipe, and SQLite stores the text)."""
        return from_sqlite_datetime(self.published_text)


#: The mention columns the first fields of :class:`Prepared` hold, in order.
ROW_COLUMNS = (
    "platform", "external_id", "kind", "url", "parent_external_id", "thread_external_id", "published_at", "title",
    "text", "html", "language_hint", "media", "metrics", "raw", "content_hash", "revision_hash",
)  # fmt: skip
ROW_FIELDS = len(ROW_COLUMNS)
#: Where :attr:`Prepared.published_text` is (PostgreSQL's rows hold the datetime there instead).
PUBLISHED_AT = ROW_COLUMNS.index("published_at")


def dumps(value: Any) -> str:
    """JSON text as the JSON columns store it. orjson is five to ten times faster than the
    standard library; what it refuses (integers over 64 bits, non-string keys) goes the slow way."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def sqlite_datetime(value: datetime) -> str:
    """The text SQLAlchemy stores for a :class:`~resonanz.db.types.UTCDateTime` on SQLite
    ('2026-03-01 12:00:00.000000', naive UTC), without its per-value processor chain."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; use resonanz.clock.now()")
    if value.tzinfo is UTC:  # parsed times are UTC already: cut "+00:00" off instead of converting
        return value.isoformat(" ", "microseconds")[:-6]
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def from_sqlite_datetime(value: str) -> datetime:
    """The aware UTC datetime :func:`sqlite_datetime` made ``value`` from (exact: microseconds).

    Parsing the offset gives ``UTC`` itself, ten times faster than ``.replace(tzinfo=UTC)``."""
    return datetime.fromisoformat(value + "+00:00")


def loads(value: str) -> Any:
    return json.loads(value)


def revision_hash(item: MentionIn) -> str:
    """Everything whose change makes a re-pulled item an edit (engagement counts do not)."""
    author = item.author.handle if item.author else None
    return digest(
        item.title, item.text, item.html, item.url, author, item.parent_external_id, item.published_at.isoformat()
    )


def prepare(m: MentionIn) -> Prepared:
    """The stored form of ``m`` (pure; runs once per ingested item)."""
    a = m.author
    body = index_body(m.title, m.text)
    return Prepared(
        m.platform,
        m.external_id,
        str(m.kind),
        m.url,
        m.parent_external_id,
        m.thread_external_id or m.parent_external_id or m.external_id,
        sqlite_datetime(m.published_at),
        m.title,
        m.text,
        m.html,
        m.language_hint,
        dumps(m.media),
        dumps(m.metrics),
        dumps(m.raw),
        folded_content_hash(body),
        revision_hash(m),
        a.handle if a else None,
        a.name if a else None,
        a.url if a else None,
        a.followers if a else None,
        body,
        len(m.text) >= MIN_DUPLICATE_TEXT,
    )
