"""Buckets of a :class:`Scope` in its time zone, and sums over the hourly rollups in them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, func, or_, select, text, type_coerce, union_all
from sqlalchemy.orm import Session

from resonanz.db.engine import is_postgres
from resonanz.listening.analytics_schemas import Scope
from resonanz.listening.models import Query
from resonanz.listening.rollup_models import Dim, RollupDay, RollupHour, RollupSetQuery, ScopeKind

HOUR = timedelta(hours=1)


def _local_midnight(day: date, scope: Scope) -> datetime:
    return datetime.combine(day, time(0), tzinfo=scope.zone).astimezone(UTC)


def bucket_bounds(scope: Scope) -> list[datetime]:
    """UTC boundaries of the scope's buckets: ``n + 1`` instants for ``n`` buckets, the first at or
    before ``since`` and the last at or after ``until`` (the range widened to whole buckets)."""
    if scope.interval == "hour":
        cursor = scope.since.replace(minute=0, second=0, microsecond=0)
        bounds = [cursor]
        while cursor < scope.until:
            cursor += HOUR
            bounds.append(cursor)
        return bounds
    local = scope.since.astimezone(scope.zone).date()
    step = 1
    if scope.interval == "week":
        local -= timedelta(days=local.weekday())
        step = 7
    bounds = [_local_midnight(local, scope)]
    while bounds[-1] < scope.until:
        local += timedelta(days=step)
        bounds.append(_local_midnight(local, scope))
    return bounds


def scope_members(session: Session, scope: Scope) -> list[tuple[str, int]]:
    """The rollup scopes summed for ``scope``: ``all``; the one query or brand chosen; or, when
    several are chosen together, every match set that holds any of their queries — each mention is
    in exactly one set, so a mention matched by two chosen queries (or brands) counts once. Empty
    when nothing chosen has matched anything."""
    chosen = [(ScopeKind.query.value, q) for q in scope.query_ids or ()]
    chosen += [(ScopeKind.brand.value, b) for b in scope.brand_ids or ()]
    if not chosen:
        return [(ScopeKind.all.value, 0)]
    if len(chosen) == 1:
        return chosen
    memo: dict[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]] | None = session.info.get(_MEMO)
    key = tuple(chosen)
    if memo is not None and key in memo:
        return list(memo[key])
    found = _match_sets(session, scope)
    if memo is not None:
        memo[key] = tuple(found)
    return found


def _match_sets(session: Session, scope: Scope) -> list[tuple[str, int]]:
    query_ids = set(scope.query_ids or ())
    if scope.brand_ids:
        query_ids.update(session.scalars(select(Query.id).where(Query.brand_id.in_(scope.brand_ids))))
    if not query_ids:
        return []
    stmt = select(RollupSetQuery.set_id).where(RollupSetQuery.query_id.in_(sorted(query_ids))).distinct()
    return [(ScopeKind.matchset.value, sid) for sid in sorted(session.scalars(stmt))]


def _member_filter(table: Any, members: Sequence[tuple[str, int]]) -> ColumnElement[bool]:
    ids: dict[str, list[int]] = {}
    for kind, sid in members:
        ids.setdefault(kind, []).append(sid)
    return or_(
        *(
            and_(table.scope_kind == kind, table.scope_id == sids[0] if len(sids) == 1 else table.scope_id.in_(sids))
            for kind, sids in ids.items()
        )
    )


def series_sums(
    session: Session,
    scope: Scope,
    *,
    dim: Dim,
    by_value: bool = False,
    by_scope: bool = False,
    members: Sequence[tuple[str, int]] | None = None,
) -> list[Any]:
    """Rows ``([scope_kind, scope_id,] time, [value,] count, reach)`` of dimension ``dim`` over the
    widened range; feed the times to :class:`BucketIndex` and add the rows up per bucket (a
    bucket may get several rows, some negative: see :func:`_day_series`). Hourly buckets read the
    hourly rows; day and week buckets read mostly daily rows."""
    bounds = bucket_bounds(scope)
    members = scope_members(session, scope) if members is None else members
    if not members:
        return []
    if scope.interval != "hour" and all(b.minute == 0 and b.second == 0 for b in bounds):
        return _day_series(session, bounds, dim=dim, by_value=by_value, by_scope=by_scope, members=members)
    return _read(session, RollupHour, members, dim, by_value, by_scope, (RollupHour.hour >= bounds[0],
                 RollupHour.hour < bounds[-1]))  # fmt: skip


def _read(
    session: Session,
    table: Any,
    members: Sequence[tuple[str, int]],
    dim: Dim,
    by_value: bool,
    by_scope: bool,
    where: Sequence[ColumnElement[bool]],
) -> list[Any]:
    """Sums grouped by ([scope,] time, [value]); on SQLite the time is the stored text (skipping
    SQLAlchemy's per-row datetime parsing, measured as most of a 90-day series' time)."""
    at = table.hour if table is RollupHour else table.day
    time_col = type_coerce(at, String).label("at") if session.get_bind().dialect.name == "sqlite" else at
    dims = [*((table.scope_kind, table.scope_id) if by_scope else ()), time_col, *((table.value,) if by_value else ())]
    stmt = (
        select(*dims, func.sum(table.count), func.sum(table.reach))
        .where(_member_filter(table, members))
        .where(table.dim == dim.value)
        .where(*where)
        .group_by(*dims)
    )
    return list(session.execute(stmt).all())


def _day_series(
    session: Session,
    bounds: Sequence[datetime],
    *,
    dim: Dim,
    by_value: bool,
    by_scope: bool,
    members: Sequence[tuple[str, int]],
) -> list[Any]:
    """Day/week buckets from the daily rollups by differences of running sums: with ``F(t)`` the
    count up to instant ``t``, bucket ``i`` is ``F(bounds[i+1]) - F(bounds[i])``. Each bound ``t``
    is anchored at the nearer UTC midnight ``x``: ``F(t) = F(x) + H[x, t)`` when ``x`` is before it,
    ``F(x) - H[t, x)`` when after, where ``H`` sums the few hourly rows in between. So bucket ``i``
    is the daily rows of ``[x_i, x_i+1)`` plus or minus the hours at its two ends: for Berlin's
    local days 1-2 hourly rows per bound and one daily row per day, where the hourly series read
    24. Exact for any whole-hour zone and across DST (sums are additive). Rows come back with
    ``bounds[i]`` as their time."""
    anchors: list[datetime] = []
    #: hour -> (bound index, +1: the hour is before its bound, -1: after)
    edges: dict[datetime, tuple[int, int]] = {}
    for j, t in enumerate(bounds):
        floor = t.replace(hour=0)
        ceil = floor if floor == t else floor + timedelta(days=1)
        if t - floor <= ceil - t:
            anchors.append(floor)
            hours, sign = _hours(floor, t), 1
        else:
            anchors.append(ceil)
            hours, sign = _hours(t, ceil), -1
        for hour in hours:
            edges[hour] = (j, sign)
    last = len(bounds) - 2  # the last bucket's index
    rows: list[Any] = []
    parse = _Parse()
    head = 2 if by_scope else 0

    def put(row: Any, i: int, sign: int) -> None:
        if 0 <= i <= last:
            n, r = int(row[-2]) * sign, int(row[-1] or 0) * sign
            rows.append((*row[:head], bounds[i], *row[head + 1 : -2], n, r))

    daily = (RollupDay.day >= anchors[0], RollupDay.day < anchors[-1])
    for row in _read(session, RollupDay, members, dim, by_value, by_scope, daily):
        put(row, bisect_right(anchors, parse(row[head])) - 1, 1)
    if edges:
        hourly = (RollupHour.hour.in_(sorted(edges)),)
        for row in _read(session, RollupHour, members, dim, by_value, by_scope, hourly):
            j, sign = edges[parse(row[head])]
            put(row, j - 1, sign)  # F(bounds[j]) ends bucket j - 1 ...
            put(row, j, -sign)  # ... and starts bucket j
    return rows


def _hours(start: datetime, end: datetime) -> list[datetime]:
    out = []
    while start < end:
        out.append(start)
        start += HOUR
    return out


class _Parse:
    """A stored time (SQLite text or a datetime) as an aware UTC datetime, each distinct one once."""

    def __init__(self) -> None:
        self.cache: dict[Any, datetime] = {}

    def __call__(self, value: datetime | str) -> datetime:
        found = self.cache.get(value)
        if found is None:
            found = value if isinstance(value, datetime) else datetime.fromisoformat(value).replace(tzinfo=UTC)
            self.cache[value] = found
        return found


def _ceil_day(value: datetime) -> datetime:
    floor = value.replace(hour=0, minute=0, second=0, microsecond=0)
    return floor if floor == value else floor + timedelta(days=1)


def range_sums(
    session: Session,
    members: Sequence[tuple[str, int]],
    dims: Sequence[Dim],
    start: datetime,
    end: datetime,
) -> dict[tuple[str, str], tuple[int, int]]:
    """(dimension, value) -> (count, reach) over ``[start, end)`` (whole UTC hours) for these
    dimensions: whole UTC days from ``rollup_day``, the ragged ends from ``rollup_hour``, so a
    90-day facet reads ~90 rows per value, not ~2,160. The parts are one ``UNION ALL`` of a
    ``SELECT`` each (not an OR of ranges, which SQLite plans as a wider scan): one round trip where
    three cost PostgreSQL ~3 statements' overhead, and a dashboard sums five ranges."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    if not members or start >= end:
        return out
    first, last = _ceil_day(start), end.replace(hour=0, minute=0, second=0, microsecond=0)
    names = [d.value for d in dims]
    parts: list[tuple[Any, Any, datetime, datetime]] = []
    if first < last:
        parts.append((RollupDay, RollupDay.day, first, last))
        parts += [(RollupHour, RollupHour.hour, start, first), (RollupHour, RollupHour.hour, last, end)]
    else:
        parts.append((RollupHour, RollupHour.hour, start, end))
    selects = [
        select(table.dim, table.value, func.sum(table.count), func.sum(table.reach))
        .where(_member_filter(table, members))
        .where(table.dim.in_(names) if len(names) > 1 else table.dim == names[0])
        .where(at >= a, at < b)
        .group_by(table.dim, table.value)
        for table, at, a, b in parts
        if a < b
    ]
    if selects:
        stmt: Any = selects[0] if len(selects) == 1 else union_all(*selects)
        for d, value, n, r in session.execute(stmt):
            count, reach = out.get((d, value), (0, 0))
            out[(d, value)] = (count + int(n), reach + int(r or 0))
    return out


#: the planner setting :func:`dashboard_reads` turns off for a dashboard's statements
_PARALLEL = "max_parallel_workers_per_gather"
#: ``session.info`` key of :func:`scope_members`' memo inside :func:`dashboard_reads`
_MEMO = "resonanz.analytics.scope_members"


@contextmanager
def dashboard_reads(session: Session) -> Iterator[None]:
    """What one dashboard's ~20 reads share.

    * :func:`scope_members` reads a multi-selection's match sets once, not once per chart (five
      round trips were five waits for the server on a loaded machine).
    * PostgreSQL: the statements run without parallel workers (the setting is restored after; on
      an error it ends with the transaction). Why: the reads take 1-20 ms; the bigger ones (a
      multi-selection's facets over a dozen match sets, one ``UNION ALL``) were planned as a
      Parallel Append, whose two workers start per statement, compete for the cores with the
      other requests, and cost CPU outside the backend for a few ms saved at best.
    """
    outer = _MEMO in session.info
    if not outer:
        session.info[_MEMO] = {}
    try:
        if not is_postgres(session):
            yield
            return
        before = session.execute(
            text(f"SELECT current_setting('{_PARALLEL}'), set_config('{_PARALLEL}', '0', true)")
        ).one()[0]
        yield
        session.execute(text(f"SELECT set_config('{_PARALLEL}', :before, true)"), {"before": before})
    finally:
        if not outer:
            session.info.pop(_MEMO, None)


class BucketIndex:
    """The bucket (index into ``bounds``) of an hour, as a datetime or as SQLite's stored text
    (:func:`series_sums` reads the text, skipping SQLAlchemy's per-row datetime parsing — a regex
    per value, measured as most of a 90-day series' time; each distinct hour is parsed once)."""

    def __init__(self, bounds: Sequence[datetime]) -> None:
        self.bounds = bounds
        self.cache: dict[Any, int] = {}

    def __call__(self, hour: datetime | str) -> int:
        found = self.cache.get(hour)
        if found is None:
            value = hour if isinstance(hour, datetime) else datetime.fromisoformat(hour).replace(tzinfo=UTC)
            found = self.cache[hour] = bisect_right(self.bounds, value) - 1
        return found


def total_in(session: Session, scope: Scope, start: datetime, end: datetime) -> int:
    """Mentions of ``scope`` (each once) in the whole UTC hours of ``[start, end)``."""
    found = range_sums(session, scope_members(session, scope), [Dim.total], start, end)
    return found.get((Dim.total.value, ""), (0, 0))[0]
