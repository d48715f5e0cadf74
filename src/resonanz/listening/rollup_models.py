"""Dashboard rollups: mention counts and reach per UTC hour, per scope, dimension and value.

Why: a 30-day hourly-by-language GROUP BY over a million raw mentions takes ~560 ms on SQLite
(issue 5); the same chart over this table reads at most 720 hours x a few dimension values.
The table is kept current at ingest (``mentions_matched`` hook, :mod:`resonanz.listening.rollups`
recomputes the touched hours set-based, so re-analysis and corrections are reflected, never
double-counted) and can be rebuilt from raw rows (``resonanz analytics rebuild``).

A *scope* is what a chart counts: ``all`` (every mention, ``scope_id`` 0), one ``query`` (its
matches) or one ``brand`` (the distinct mentions matched by any of the brand's queries, so a post
matched by two queries of a brand counts once). Each mention counts once per *dimension*
(``sentiment``, ``lang``, ``platform``, ``source``) under its ``value`` there — not once per
combination: measured on the 1M benchmark set, a (lang x sentiment x platform x source) cross
product left ~39 rows per scope and hour, so a 30-day time series read ~28,000 rows; per dimension,
the time series read the ``sentiment`` rows only (at most 4 per hour). Values never hold NULL:
unknown is ``""`` and a mention without a source has source ``"0"``. Hours are UTC; a chart in
another zone regroups them (whole-hour offsets are exact).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime


class Dim(StrEnum):
    sentiment = "sentiment"
    lang = "lang"
    platform = "platform"
    source = "source"


class ScopeKind(StrEnum):
    all = "all"
    query = "query"
    brand = "brand"


class RollupHour(Base):
    """``count`` mentions with ``reach`` (sum of their authors' followers) in one bucket; every
    dimension's rows of a scope and hour sum to the same count."""

    __tablename__ = "rollup_hour"
    # SQLite: stored in primary-key order (no rowid), so a scope's hour range is one contiguous,
    # covering read
    # the ingest hook replaces whole hours of every scope: ix_rollup_hour_hour finds them
    __table_args__ = (Index("ix_rollup_hour_hour", "hour"), {"sqlite_with_rowid": False})

    scope_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dim: Mapped[str] = mapped_column(String(10), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    reach: Mapped[int] = mapped_column(BigInteger)
