"""Buckets of a :class:`Scope` in its time zone, and sums over the hourly rollups in them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from resonanz.listening.analytics_schemas import Scope
from resonanz.listening.rollup_models import Dim, RollupHour, ScopeKind

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


def scope_members(scope: Scope) -> list[tuple[str, int]]:
    """The rollup scopes summed for ``scope``."""
    members = [(ScopeKind.query.value, q) for q in scope.query_ids or ()]
    members += [(ScopeKind.brand.value, b) for b in scope.brand_ids or ()]
    return members or [(ScopeKind.all.value, 0)]


def _member_filter(members: Sequence[tuple[str, int]]) -> ColumnElement[bool]:
    return or_(*(and_(RollupHour.scope_kind == kind, RollupHour.scope_id == sid) for kind, sid in members))


def rollup_sums(
    session: Session,
    scope: Scope,
    dims: Sequence[Any],
    *,
    dim: Dim = Dim.sentiment,
    members: Sequence[tuple[str, int]] | None = None,
) -> list[Any]:
    """Sums of count and reach of dimension ``dim``'s rows grouped by ``dims`` over the widened
    range (any dimension's rows sum to the mention counts; ``sentiment`` has the fewest)."""
    bounds = bucket_bounds(scope)
    stmt = (
        select(*dims, func.sum(RollupHour.count), func.sum(RollupHour.reach))
        .where(_member_filter(members or scope_members(scope)))
        .where(RollupHour.dim == dim.value)
        .where(RollupHour.hour >= bounds[0], RollupHour.hour < bounds[-1])
    )
    if dims:
        stmt = stmt.group_by(*dims)
    return list(session.execute(stmt).all())


def hour_column(session: Session) -> Any:
    """``rollup_hour.hour`` as the driver returns it: on SQLite the stored text, skipping
    SQLAlchemy's per-row datetime parsing (a regex per value, measured as most of a 90-day
    series' time); :class:`BucketIndex` parses each distinct hour once."""
    if session.get_bind().dialect.name == "sqlite":
        return type_coerce(RollupHour.hour, String).label("hour")
    return RollupHour.hour


class BucketIndex:
    """The bucket (index into ``bounds``) of an hour, as a datetime or as SQLite's stored text."""

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
    """Mentions of ``scope`` in the whole UTC hours of ``[start, end)``."""
    stmt = (
        select(func.sum(RollupHour.count))
        .where(_member_filter(scope_members(scope)))
        .where(RollupHour.dim == Dim.sentiment.value)
        .where(RollupHour.hour >= start, RollupHour.hour < end)
    )
    return int(session.scalar(stmt) or 0)
