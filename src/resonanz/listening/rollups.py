"""Keep :class:`~resonanz.listening.rollup_models.RollupHour` current: recompute touched hours.

Each mention counts once per dimension (sentiment, language, platform, source) in every scope it
belongs to (see the model). Why recompute instead of increment: re-analysis and people's corrections change a mention's
sentiment (or language) after it was first counted, and a re-applied query adds or removes
matches; an increment would count such a mention twice or under its old label. So a batch names
the UTC hours it touched and every bucket of those hours — in every scope — is computed again from
the raw rows, set-based: one read of the hours' mentions (index ``ix_mention_published``), one of
their query matches (``ix_query_match_mention``), the sums in Python, one DELETE and one INSERT.
The cost is proportional to the mentions in the touched hours, not to the store.

Aggregating in Python keeps one code path for SQLite and PostgreSQL (no dialect-specific hour
truncation) and lets a brand count the *distinct* mentions of its queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.orm import Session

from resonanz.db.engine import is_postgres
from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.rollup_models import Dim, RollupHour, ScopeKind
from resonanz.mentions.models import Author, Mention

HOUR = timedelta(hours=1)
#: ids per IN list (SQLite's parameter limit is 32,766; keep statements small)
ID_CHUNK = 2_000
#: hours recomputed per statement when rebuilding (a week: a bounded read per step)
REBUILD_STEP_HOURS = 24 * 7

#: (scope kind, scope id, dimension, hour, value)
Key = tuple[str, int, str, datetime, str]


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def hour_ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted, merged ``[start, end)`` ranges covering the given whole hours."""
    ranges: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + HOUR)
        else:
            ranges.append((hour, hour + HOUR))
    return ranges


def touched_hours(session: Session, *, mention_ids: Sequence[int]) -> set[datetime]:
    hours: set[datetime] = set()
    for i in range(0, len(mention_ids), ID_CHUNK):
        chunk = list(mention_ids[i : i + ID_CHUNK])
        hours.update(floor_hour(p) for p in session.scalars(select(Mention.published_at).where(Mention.id.in_(chunk))))
    return hours


def refresh_mentions(session: Session, *, mention_ids: Sequence[int]) -> int:
    """Recompute every bucket of the hours these mentions were published in; returns the number
    of bucket rows written. Call inside the batch's transaction (never commits)."""
    if not mention_ids:
        return 0
    return recompute_hours(session, hours=touched_hours(session, mention_ids=mention_ids))


def recompute_hours(session: Session, *, hours: Iterable[datetime]) -> int:
    """Replace all rollup rows of these UTC hours (every scope) by fresh sums of the raw rows."""
    ranges = hour_ranges(floor_hour(h) for h in hours)
    written = 0
    for i in range(0, len(ranges), 50):
        written += _recompute_ranges(session, ranges[i : i + 50])
    return written


#: first key of the PostgreSQL advisory locks that serialise recomputing one hour
LOCK_SPACE = 0x524F4C4C  # "ROLL"


def _lock_hours(session: Session, ranges: Sequence[tuple[datetime, datetime]]) -> None:
    """PostgreSQL: take a transaction lock per hour, in order, before reading it. Two workers
    recomputing the same hour would otherwise each read the raw rows without the other's
    uncommitted batch and the later DELETE + INSERT would drop the earlier batch's mentions (or
    fail on the primary key). The second now waits and then reads the first's committed rows.
    SQLite has one writer at a time, so nothing to do there."""
    if not is_postgres(session):
        return
    for start, end in ranges:
        hour = start
        while hour < end:
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, :hour)"),
                {"space": LOCK_SPACE, "hour": int(hour.timestamp()) // 3600},
            )
            hour += HOUR


def _recompute_ranges(session: Session, ranges: Sequence[tuple[datetime, datetime]]) -> int:
    if not ranges:
        return 0
    _lock_hours(session, ranges)
    brand_of = dict(session.execute(select(Query.id, Query.brand_id).where(Query.brand_id.is_not(None))).all())
    # one statement per range: SQLite plans an OR of ranges as a scan of the whole table
    rows: list[Any] = []
    for start, end in ranges:
        rows += session.execute(
            select(
                Mention.id,
                Mention.published_at,
                Mention.lang,
                Mention.sentiment,
                Mention.platform,
                Mention.source_id,
                Author.followers,
            )
            .outerjoin(Author, Author.id == Mention.author_id)
            .where(Mention.published_at >= start, Mention.published_at < end)
        ).all()
    # matches by the mentions' ids (index ix_query_match_mention): a join filtered on the mention's
    # time lets SQLite scan all of query_match per statement
    matches: dict[int, list[int]] = {}
    ids = [row[0] for row in rows]
    for i in range(0, len(ids), ID_CHUNK):
        stmt = select(QueryMatch.query_id, QueryMatch.mention_id).where(
            QueryMatch.mention_id.in_(ids[i : i + ID_CHUNK])
        )
        for query_id, mention_id in session.execute(stmt):
            matches.setdefault(mention_id, []).append(query_id)
    sums: dict[Key, list[int]] = {}
    for mid, published, lang, sentiment, platform, source_id, followers in rows:
        hour = floor_hour(published)
        reach = followers or 0
        values = (
            (Dim.sentiment.value, sentiment or ""),
            (Dim.lang.value, lang or ""),
            (Dim.platform.value, (platform or "")[:40]),
            (Dim.source.value, str(source_id or 0)),
        )
        scopes: list[tuple[str, int]] = [(ScopeKind.all.value, 0)]
        brands: set[int] = set()
        for query_id in matches.get(mid, ()):
            scopes.append((ScopeKind.query.value, query_id))
            brand = brand_of.get(query_id)
            if brand is not None:
                brands.add(brand)
        scopes += [(ScopeKind.brand.value, brand) for brand in brands]
        for kind, scope_id in scopes:
            for dim, value in values:
                key = (kind, scope_id, dim, hour, value)
                bucket = sums.get(key)
                if bucket is None:
                    sums[key] = [1, reach]
                else:
                    bucket[0] += 1
                    bucket[1] += reach
    for start, end in ranges:  # index ix_rollup_hour_hour
        session.execute(delete(RollupHour).where(RollupHour.hour >= start, RollupHour.hour < end))
    params = [
        {"scope_kind": k[0], "scope_id": k[1], "dim": k[2], "hour": k[3], "value": k[4], "count": v[0], "reach": v[1]}
        for k, v in sums.items()
    ]
    # Core executemany (not the ORM's bulk insert: measured 3x slower for 50,000 buckets)
    table = RollupHour.__table__
    assert isinstance(table, Table)
    for i in range(0, len(params), 5_000):
        session.execute(insert(table), params[i : i + 5_000])
    return len(params)


def rebuild(session: Session, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Drop every rollup row and recompute them from the raw mentions, a week at a time; returns
    the number of rows written. ``progress(done_hours, total_hours)`` is called after each step.
    Runs in the caller's transaction (the CLI commits once at the end, so readers never see a
    half-built table)."""
    session.execute(delete(RollupHour))
    first, last = session.execute(select(func.min(Mention.published_at), func.max(Mention.published_at))).one()
    if first is None or last is None:
        return 0
    start, end = floor_hour(first), floor_hour(last) + HOUR
    total = int((end - start) / HOUR)
    written = 0
    cursor = start
    while cursor < end:
        step_end = min(end, cursor + HOUR * REBUILD_STEP_HOURS)
        written += _recompute_ranges(session, [(cursor, step_end)])
        cursor = step_end
        if progress is not None:
            progress(int((cursor - start) / HOUR), total)
    return written
