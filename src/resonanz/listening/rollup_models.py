"""Dashboard rollups: mention counts and reach per UTC hour and UTC day, per scope, dimension and value.

Why: a 30-day hourly-by-language GROUP BY over a million raw mentions takes ~560 ms on SQLite
(issue 5); the same chart over this table reads at most 720 hours x a few dimension values. The
daily table serves what has no time axis (facets, totals of a range: whole UTC days from
``rollup_day``, the ragged ends from ``rollup_hour``), so a 90-day facet reads ~90 rows per value
instead of ~2,160. Both are kept current at ingest (``mentions_matched`` hook,
:mod:`resonanz.listening.rollups`, incrementally against the ledger :class:`RollupMention`) and can
be rebuilt from raw rows (``resonanz analytics rebuild``).

A *scope* is what a chart counts: ``all`` (every mention, ``scope_id`` 0), one ``query`` (its
matches), one ``brand`` (the distinct mentions matched by any of the brand's queries, so a post
matched by two queries of a brand counts once) or one ``set``: the mentions matched by exactly
the queries of one :class:`RollupSet`. Every matched mention is in exactly one set, so several
queries or brands chosen together are the sum over the sets that hold any of their queries — each
mention counted once (issue 5). Each mention counts once per *dimension* (``total``,
``sentiment``, ``lang``, ``platform``, ``source``) under its ``value`` there — not once per
combination: measured on the 1M benchmark set, a (lang x sentiment x platform x source) cross
product left ~39 rows per scope and hour. ``total`` (value ``""``) is one row per scope and hour,
what volume and share-of-voice series read. Values never hold NULL: unknown is ``""`` and a
mention without a source has source ``"0"``. Hours are UTC; a chart in another zone regroups them
(whole-hour offsets are exact).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime


class Dim(StrEnum):
    total = "total"
    sentiment = "sentiment"
    lang = "lang"
    platform = "platform"
    source = "source"


class ScopeKind(StrEnum):
    all = "all"
    query = "query"
    brand = "brand"
    matchset = "set"


class RollupHour(Base):
    """``count`` mentions with ``reach`` (sum of their authors' followers) in one bucket; every
    dimension's rows of a scope and hour sum to the same count."""

    __tablename__ = "rollup_hour"
    # SQLite: stored in primary-key order (no rowid), so a scope's hour range is one contiguous,
    # covering read; ix_rollup_hour_hour finds a touched hour's emptied rows for deletion
    __table_args__ = (Index("ix_rollup_hour_hour", "hour"), {"sqlite_with_rowid": False})

    scope_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dim: Mapped[str] = mapped_column(String(10), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    reach: Mapped[int] = mapped_column(BigInteger)


class RollupDay(Base):
    """The same sums per UTC day (``day`` is its midnight): what ranges without a time axis read."""

    __tablename__ = "rollup_day"
    __table_args__ = (Index("ix_rollup_day_day", "day"), {"sqlite_with_rowid": False})

    scope_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dim: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    reach: Mapped[int] = mapped_column(BigInteger)


class RollupSet(Base):
    """One distinct combination of matched queries (``query_ids``: sorted, comma-separated);
    ``digest`` (SHA-1 of ``query_ids``) keeps the unique key short however many queries match."""

    __tablename__ = "rollup_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(40), unique=True)
    query_ids: Mapped[str] = mapped_column(Text)


class RollupSetQuery(Base):
    """Which sets hold a query: the sets of a selection of queries are one indexed read."""

    __tablename__ = "rollup_set_query"

    query_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("rollup_set.id", ondelete="CASCADE"), primary_key=True)


class RollupMention(Base):
    """The ledger: what each mention was last counted as. A refresh compares a mention's current
    labels, reach and scopes with this row and moves only the difference (minus the old, plus the
    new), so re-analysis, corrections and re-applied queries never double-count, and a batch costs
    what its own mentions cost — not what their hours hold. ``scopes``: the ``kind:id`` pairs it was
    counted in, space-separated. No foreign key: a deleted mention's row is what a refresh needs
    to take its counts back out.

    ``level`` samples the top lists: the number of trailing zero bits of a hash of the id
    (:func:`resonanz.listening.rollups.sample_level`), so ``level >= L`` holds a random 1 in 2^L of
    the mentions. Read per level through ``ix_rollup_mention_level_hour``, a sample of a range costs
    the rows it returns, where "every k-th id of the range" scanned the whole range's index
    (measured: 23 ms for 90 days, 41 ms for a year at 1M mentions)."""

    __tablename__ = "rollup_mention"
    __table_args__ = (Index("ix_rollup_mention_level_hour", "level", "hour"),)

    mention_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime())
    sentiment: Mapped[str] = mapped_column(String(40))
    lang: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40))
    reach: Mapped[int] = mapped_column(BigInteger)
    scopes: Mapped[str] = mapped_column(Text)
    level: Mapped[int] = mapped_column(SmallInteger)
