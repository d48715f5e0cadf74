"""``resonanz export``: mentions and daily aggregates as CSV or Parquet, streamed.

Why streamed: an analyst exports a year of a busy brand (a million rows and more). Rows come from
one server-side cursor (``yield_per``) in batches and each batch is written and dropped — a CSV
chunk, or a Parquet row group — so memory stays flat however many rows there are
(docs/benchmarks.md, "Export"). The file is written next to its target and renamed into place at
the end, so a failed export never leaves half a file behind under the asked-for name.

The column sets (:data:`MENTION_COLUMNS`, :data:`AGGREGATE_COLUMNS`) are a published contract
(docs/reports.md): columns are only ever added at the end. Timestamps are UTC (ISO 8601 with
``+00:00`` in CSV, ``timestamp[us, tz=UTC]`` in Parquet); days of the aggregates are UTC days.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, case, func, literal, literal_column, select
from sqlalchemy.orm import Session

from resonanz.db.engine import is_postgres
from resonanz.errors import InputError, NotFoundError
from resonanz.listening.models import Brand, Query, QueryMatch
from resonanz.mentions.explorer_plan import ENGAGEMENT_POSTGRESQL, ENGAGEMENT_SQLITE
from resonanz.mentions.models import Author, Mention
from resonanz.reports.export_files import Column, write_csv, write_parquet
from resonanz.reports.pseudonyms import Pseudonymiser
from resonanz.sources.models import Source

DEFAULT_BATCH = 5_000
#: a select of any columns (SQLAlchemy 2.1 types a select by its column types)
AnySelect = Select[*tuple[Any, ...]]


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


class ExportKind(StrEnum):
    mentions = "mentions"
    aggregates = "aggregates"


MENTION_COLUMNS: tuple[Column, ...] = (
    Column("id", "int64"),
    Column("published_at", "timestamp"),
    Column("platform", "string"),
    Column("kind", "string"),
    Column("source", "string"),
    Column("external_id", "string"),
    Column("url", "string"),
    Column("author_id", "int64"),
    Column("author_handle", "string"),
    Column("author_name", "string"),
    Column("author_followers", "int64"),
    Column("title", "string"),
    Column("text", "string"),
    Column("lang", "string"),
    Column("sentiment", "string"),
    Column("sentiment_score", "float64"),
    Column("intent", "string"),
    Column("risk_score", "float64"),
    Column("needs_response", "bool"),
    Column("offensive", "bool"),
    Column("engagement", "int64"),
    Column("parent_id", "int64"),
    Column("duplicate_of_id", "int64"),
)

AGGREGATE_COLUMNS: tuple[Column, ...] = (
    Column("day", "date"),
    Column("scope_kind", "string"),
    Column("scope_name", "string"),
    Column("mentions", "int64"),
    Column("positive", "int64"),
    Column("neutral", "int64"),
    Column("negative", "int64"),
    Column("net_sentiment", "float64"),
)

#: columns a pseudonymised export blanks (they identify a person or lead to them)
BLANKED = frozenset({"external_id", "url", "author_id", "author_name"})


@dataclass(frozen=True)
class ExportResult:
    kind: ExportKind
    format: ExportFormat
    rows: int
    path: Path | None
    seconds: float


@dataclass(frozen=True)
class Scope:
    """What to export: query ids (None = every mention) and a half-open time range."""

    query_ids: list[int] | None
    brand_name: str | None
    query_name: str | None
    since: datetime | None
    until: datetime | None


def resolve_scope(
    session: Session, *, query: str | None, brand: str | None, since: datetime | None, until: datetime | None
) -> Scope:
    """Names to ids; an unknown name is a NotFoundError, both at once an InputError."""
    if query and brand:
        raise InputError("give --query or --brand, not both", location="--brand")
    if since is not None and until is not None and since >= until:
        raise InputError("--since must be before --until", location="--since")
    for name, value in (("--since", since), ("--until", until)):
        if value is not None and value.tzinfo is None:
            raise InputError("a time needs its zone (e.g. 2026-01-01T00:00:00+00:00)", location=name)
    ids: list[int] | None = None
    if query:
        qid = session.scalar(select(Query.id).where(Query.name == query))
        if qid is None:
            raise NotFoundError(f"no query named {query!r}")
        ids = [qid]
    elif brand:
        bid = session.scalar(select(Brand.id).where(Brand.name == brand))
        if bid is None:
            raise NotFoundError(f"no brand named {brand!r}")
        ids = list(session.scalars(select(Query.id).where(Query.brand_id == bid).order_by(Query.id)))
    return Scope(query_ids=ids, brand_name=brand, query_name=query, since=since, until=until)


def _mention_select(session: Session, scope: Scope) -> AnySelect:
    engagement = ENGAGEMENT_POSTGRESQL if is_postgres(session) else ENGAGEMENT_SQLITE
    stmt = (
        select(
            Mention.id,
            Mention.published_at,
            Mention.platform,
            Mention.kind,
            Source.name,
            Mention.external_id,
            Mention.url,
            Mention.author_id,
            Author.handle,
            Author.name,
            Author.followers,
            Mention.title,
            Mention.text,
            Mention.lang,
            Mention.sentiment,
            Mention.sentiment_score,
            Mention.intent,
            Mention.risk_score,
            Mention.needs_response,
            Mention.offensive,
            literal_column(engagement.replace("metrics", "mention.metrics")),
            Mention.parent_id,
            Mention.duplicate_of_id,
        )
        .outerjoin(Source, Source.id == Mention.source_id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .order_by(Mention.published_at, Mention.id)
    )
    if scope.query_ids is not None:
        matched = select(QueryMatch.mention_id).where(QueryMatch.query_id.in_(scope.query_ids or [-1]))
        if scope.since is not None:
            matched = matched.where(QueryMatch.published_at >= scope.since)
        if scope.until is not None:
            matched = matched.where(QueryMatch.published_at < scope.until)
        stmt = stmt.where(Mention.id.in_(matched))
    if scope.since is not None:
        stmt = stmt.where(Mention.published_at >= scope.since)
    if scope.until is not None:
        stmt = stmt.where(Mention.published_at < scope.until)
    return stmt


def iter_mention_batches(
    session: Session, *, scope: Scope, pseudonymiser: Pseudonymiser | None = None, batch_size: int = DEFAULT_BATCH
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in :data:`MENTION_COLUMNS` order, ``batch_size`` at a time, oldest first."""
    result = session.execute(_mention_select(session, scope).execution_options(yield_per=batch_size))
    for part in result.partitions():
        if pseudonymiser is None:
            yield [(*r[:20], int(r[20] or 0), r[21], r[22]) for r in part]
        else:
            yield [_pseudonymise(pseudonymiser, (*r[:20], int(r[20] or 0), r[21], r[22])) for r in part]


def _pseudonymise(p: Pseudonymiser, row: tuple[Any, ...]) -> tuple[Any, ...]:
    platform, handle = row[2], row[8]
    return (
        *row[:5],
        None,  # external_id
        None,  # url
        None,  # author_id
        p.author(platform, handle) if handle is not None else None,
        None,  # author_name
        row[10],
        p.text(row[11], platform=platform) if row[11] else row[11],
        p.text(row[12], platform=platform) if row[12] else row[12],
        *row[13:],
    )


def _sentiment_sums(sentiment: Any) -> list[Any]:
    return [func.sum(case((sentiment == label, 1), else_=0)) for label in ("positive", "neutral", "negative")]


def iter_aggregate_batches(
    session: Session, *, scope: Scope, batch_size: int = DEFAULT_BATCH
) -> Iterator[list[tuple[Any, ...]]]:
    """Daily (UTC) volume and sentiment per query and per brand (or of everything when unscoped).

    A brand's day counts each mention once even when several of its queries matched it."""
    pg = is_postgres(session)

    def day(col: Any) -> Any:
        return func.date(func.timezone(literal_column("'UTC'"), col)) if pg else func.date(col)

    def ranged(stmt: AnySelect, col: Any) -> AnySelect:
        if scope.since is not None:
            stmt = stmt.where(col >= scope.since)
        if scope.until is not None:
            stmt = stmt.where(col < scope.until)
        return stmt

    stmts: list[AnySelect] = []
    query_ids = scope.query_ids
    per_query = (
        select(
            day(QueryMatch.published_at).label("d"),
            literal("query"),
            Query.name,
            func.count(),
            *_sentiment_sums(Mention.sentiment),
        )
        .join(Query, Query.id == QueryMatch.query_id)
        .join(Mention, Mention.id == QueryMatch.mention_id)
        .group_by(Query.name, day(QueryMatch.published_at))
    )
    if query_ids is not None:
        per_query = per_query.where(QueryMatch.query_id.in_(query_ids or [-1]))
    stmts.append(ranged(per_query, QueryMatch.published_at))
    if scope.query_name is None:
        pairs: AnySelect = (
            select(Query.brand_id.label("brand_id"), QueryMatch.mention_id.label("mention_id"))
            .join(Query, Query.id == QueryMatch.query_id)
            .where(Query.brand_id.is_not(None))
            .distinct()
        )
        if query_ids is not None:
            pairs = pairs.where(QueryMatch.query_id.in_(query_ids or [-1]))
        pairs_sq = ranged(pairs, QueryMatch.published_at).subquery()
        per_brand = (
            select(
                day(Mention.published_at),
                literal("brand"),
                Brand.name,
                func.count(),
                *_sentiment_sums(Mention.sentiment),
            )
            .select_from(pairs_sq)
            .join(Brand, Brand.id == pairs_sq.c.brand_id)
            .join(Mention, Mention.id == pairs_sq.c.mention_id)
            .group_by(Brand.name, day(Mention.published_at))
        )
        stmts.append(per_brand)
    if query_ids is None:
        everything = select(
            day(Mention.published_at), literal("all"), literal(""), func.count(), *_sentiment_sums(Mention.sentiment)
        ).group_by(day(Mention.published_at))
        stmts.append(ranged(everything, Mention.published_at))
    for stmt in stmts:
        stmt = stmt.order_by(literal_column("3"), literal_column("1"))
        result = session.execute(stmt.execution_options(yield_per=batch_size))
        for part in result.partitions():
            yield [_aggregate_row(r) for r in part]


def _aggregate_row(r: Any) -> tuple[Any, ...]:
    d = r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0]))
    total, pos, neu, neg = (int(v or 0) for v in r[3:7])
    net = round((pos - neg) / total, 6) if total else 0.0
    return (d, r[1], r[2], total, pos, neu, neg, net)


def export(
    session: Session,
    *,
    kind: ExportKind,
    fmt: ExportFormat,
    out: Path | None,
    scope: Scope,
    pseudonymiser: Pseudonymiser | None = None,
    batch_size: int = DEFAULT_BATCH,
    stdout: IO[str] | None = None,
) -> ExportResult:
    """Write the export to ``out`` (``None``: CSV to ``stdout``). Returns how many rows.

    Run it in a read-only transaction (:func:`resonanz.db.engine.begin_read_only` before the
    first statement): on SQLite an ordinary one holds the write lock for the whole export."""
    started = time.perf_counter()
    columns = MENTION_COLUMNS if kind is ExportKind.mentions else AGGREGATE_COLUMNS
    batches: Callable[[], Iterator[list[tuple[Any, ...]]]]
    if kind is ExportKind.mentions:

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            return iter_mention_batches(session, scope=scope, pseudonymiser=pseudonymiser, batch_size=batch_size)

    else:
        if pseudonymiser is not None:
            raise InputError(
                "aggregates hold no personal data; --pseudonymise is for mentions", location="--pseudonymise"
            )

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            return iter_aggregate_batches(session, scope=scope, batch_size=batch_size)

    if out is None:
        if fmt is not ExportFormat.csv:
            raise InputError("Parquet is written to a file; give --out PATH", location="--out")
        rows = write_csv(stdout or sys.stdout, columns, batches())
        return ExportResult(kind, fmt, rows, None, time.perf_counter() - started)
    if out.is_dir():
        raise InputError(f"{out} is a directory; give a file name", location="--out")
    if not out.parent.exists():
        raise InputError(f"the folder {out.parent} does not exist", location="--out")
    partial = out.with_name(f".{out.name}.partial")
    try:
        if fmt is ExportFormat.csv:
            with open(partial, "w", encoding="utf-8", newline="") as fh:
                rows = write_csv(fh, columns, batches())
        else:
            rows = write_parquet(partial, columns, batches())
        os.replace(partial, out)
    finally:
        if partial.exists():
            partial.unlink()
    return ExportResult(kind, fmt, rows, out, time.perf_counter() - started)
