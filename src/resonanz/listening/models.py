"""Tables for what a company listens to: brands, their saved queries (versioned text) and the
stored matches of each query per mention.

Why matches are stored rather than computed per chart: dashboards, alerts and cases all ask
"which mentions belong to this query" many times a minute; the streaming matcher answers it once
per mention as it arrives (and a background job re-applies a changed query to history), so a
chart reads an index on ``(query_id, published_at)`` instead of running full-text search.
``published_at`` is copied onto the match row for that reason.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime


class BrandKind(StrEnum):
    own = "own"
    product = "product"
    competitor = "competitor"


class Brand(Base):
    """A monitored entity; share of voice compares brands, a competitor is a brand of kind
    ``competitor``. ``aliases`` (newline-separated) feed the entities stage's brand finder."""

    __tablename__ = "brand"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=BrandKind.own)
    description: Mapped[str | None] = mapped_column(Text)
    aliases: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Query(Base):
    """A saved listening query. ``text`` and ``version`` are the current version's; every change
    also writes a :class:`QueryVersion` row (who, when, old and new text)."""

    __tablename__ = "listening_query"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the version whose matches are complete over history (None while a re-apply job runs)
    applied_version: Mapped[int | None] = mapped_column(Integer)


class QueryVersion(Base):
    """One saved text of a query: the history a user can read and restore."""

    __tablename__ = "listening_query_version"
    __table_args__ = (Index("ix_listening_query_version_query", "query_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("listening_query.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QueryMatch(Base):
    """Mention ``mention_id`` matches query ``query_id`` (as of ``query_version``)."""

    __tablename__ = "query_match"
    __table_args__ = (
        Index("ix_query_match_query_published", "query_id", "published_at", "mention_id"),
        Index("ix_query_match_mention", "mention_id"),
    )

    query_id: Mapped[int] = mapped_column(ForeignKey("listening_query.id", ondelete="CASCADE"), primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mention.id", ondelete="CASCADE"), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    query_version: Mapped[int] = mapped_column(Integer)
