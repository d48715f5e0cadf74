"""Author, Mention and Quarantine tables.

The full-text index is not a model: it is a dialect-specific side table (``mention_fts`` FTS5 on
SQLite, ``mention_search`` tsvector + GIN on PostgreSQL) created by the migrations and maintained
by :mod:`resonanz.mentions.search_index`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime, json_type

#: Columns of ``mention`` that the analysis runner fills (projections of its stored results);
#: ingest never writes them.
ANALYSIS_COLUMNS = frozenset(
    {"lang", "lang_confidence", "sentiment", "sentiment_score", "intent", "needs_response", "risk_score", "offensive"}
)

#: Columns that lead an index ``(column, published_at, id)`` for the explorer's filters (the
#: author's also carries ``sentiment``: the author card counts their mentions per sentiment).
EXPLORER_INDEXED = ("lang", "sentiment", "intent", "source_id", "author_id", "platform")
#: ``ix_mention_published``: the list order plus the filter columns, so a walk in time order with
#: several broad filters reads the index only.
EXPLORER_COVERING = ("published_at", "id", "lang", "sentiment", "intent", "platform", "source_id", "author_id")


class MentionKind(StrEnum):
    POST = "post"
    COMMENT = "comment"
    ARTICLE = "article"
    REVIEW = "review"
    MESSAGE = "message"


class Author(Base):
    __tablename__ = "author"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(40))
    handle: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text)
    followers: Mapped[int | None] = mapped_column(Integer)
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("platform", "handle", name="uq_author_platform_handle"),
        Index("ix_author_handle", "handle"),
    )


class Mention(Base):
    """One post, comment, article, review or message, normalised.

    ``content_hash`` identifies the text (for cross-source duplicate detection); ``revision_hash``
    identifies everything a re-pull may change (to tell an edit from an unchanged re-pull).
    """

    __tablename__ = "mention"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(500))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default=MentionKind.POST)
    url: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("author.id", ondelete="SET NULL"))
    parent_external_id: Mapped[str | None] = mapped_column(String(500))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("mention.id", ondelete="SET NULL"), index=True)
    thread_external_id: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    language_hint: Mapped[str | None] = mapped_column(String(20))
    media: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    raw: Mapped[Any] = mapped_column(json_type(), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    revision_hash: Mapped[str] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("mention.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Projections of the analysis results (resonanz.analysis), indexed for filters and dashboards;
    # the full results with their stage versions live in ``analysis_result``.
    lang: Mapped[str | None] = mapped_column(String(8))
    lang_confidence: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(10))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    intent: Mapped[str | None] = mapped_column(String(20))
    needs_response: Mapped[bool | None] = mapped_column(Boolean)
    risk_score: Mapped[float | None] = mapped_column(Float)
    offensive: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_mention_platform_external_id"),
        Index("ix_mention_content_hash", "content_hash"),
        # (published_at, id) plus the explorer's filter columns: a covering walk in time order (0004)
        Index("ix_mention_published", *EXPLORER_COVERING),
        Index("ix_mention_parent_ext", "platform", "parent_external_id"),
        # The explorer's filters (migration 0004): each leads an index in list order, so a filtered
        # page is an index walk. The engagement expression index lives in the migration only.
        *(
            Index(f"ix_mention_{c}_published", c, "published_at", "id", *(("sentiment",) if c == "author_id" else ()))
            for c in EXPLORER_INDEXED
        ),
        # Partial (0005): only reposts carry duplicate_of_id. A full index let PostgreSQL's planner,
        # with the "empty table" statistics of a bulk load, AND it into the repost lookup's
        # ``duplicate_of_id IS NULL`` test: a scan of every original per looked-up hash, so a
        # PostgreSQL import slowed down quadratically (20k: 2,100/s; 200k did not finish).
        Index(
            "ix_mention_duplicate_of_id",
            "duplicate_of_id",
            sqlite_where=sql_text("duplicate_of_id IS NOT NULL"),
            postgresql_where=sql_text("duplicate_of_id IS NOT NULL"),
        ),
    )


class QuarantineStatus(StrEnum):
    PENDING = "pending"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class QuarantineItem(Base):
    """A raw item that could not be ingested, kept byte for byte with the reason and location."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_run.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(20))  # fetch | parse | normalise | store
    reason: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300))
    content_type: Mapped[str | None] = mapped_column(String(100))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    context: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    status: Mapped[str] = mapped_column(String(20), default=QuarantineStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replay_error: Mapped[str | None] = mapped_column(Text)
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mention.id", ondelete="SET NULL"))
