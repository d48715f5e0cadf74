"""Dashboard rollups: mention counts and reach per UTC hour, per scope and dimension.

Why: a 30-day hourly-by-language GROUP BY over a million raw mentions takes ~560 ms on SQLite
(issue 5); the same chart over this table reads at most 720 hours x a few dimension values.
The table is kept current at ingest (``mentions_matched`` hook, :mod:`resonanz.listening.rollups`
recomputes the touched hours set-based, so re-analysis and corrections are reflected, never
double-counted) and can be rebuilt from raw rows (``resonanz analytics rebuild``).

A *scope* is what a chart counts: ``all`` (every mention, ``scope_id`` 0), one ``query`` (its
matches) or one ``brand`` (the distinct mentions matched by any of the brand's queries, so a post
matched by two queries of a brand counts once). Dimensions never hold NULL: an unknown language or
sentiment is ``""`` and a mention without a source has ``source_id`` 0, so they take part in the
primary key. Hours are UTC; a chart in another zone regroups them (whole-hour offsets are exact).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from resonanz.db.base import Base
from resonanz.db.types import UTCDateTime


class ScopeKind(StrEnum):
    all = "all"
    query = "query"
    brand = "brand"


class RollupHour(Base):
    """``count`` mentions with ``reach`` (sum of their authors' followers) in one bucket."""

    __tablename__ = "rollup_hour"
    # SQLite: stored in primary-key order (no rowid), so a scope's hour range is one contiguous,
    # covering read
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy's declarative attribute

    scope_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(10), primary_key=True)
    platform: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    reach: Mapped[int] = mapped_column(BigInteger)
