"""The numbers detectors read, straight from ``query_match`` + ``mention`` (+ ``author``).

A rule's scope is one query, or every query of a brand (a mention matched by two of the
brand's queries counts once). The matches table is indexed on ``(query_id, published_at)``, so a
rule reads its own rows only; hourly sums are grouped in SQL (4 weeks of one rule = 672 rows).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.orm import Session

from resonanz.db.engine import is_postgres
from resonanz.listening.alerts.models import AlertRule
from resonanz.listening.alerts.rules import Bucket
from resonanz.listening.models import Query, QueryMatch
from resonanz.mentions.models import Author, Mention


def scope_query_ids(session: Session, rule: AlertRule) -> list[int]:
    if rule.query_id is not None:
        return [rule.query_id]
    if rule.brand_id is not None:
        return list(session.scalars(select(Query.id).where(Query.brand_id == rule.brand_id)))
    return []


def _scope_matches(query_ids: list[int], since: datetime, until: datetime) -> Any:
    """Distinct (mention_id) of the scope published in ``[since, until)``, as a subquery."""
    stmt = (
        select(QueryMatch.mention_id)
        .where(QueryMatch.query_id.in_(query_ids), QueryMatch.published_at >= since, QueryMatch.published_at < until)
        .distinct()
    )
    return stmt.subquery("scope")


def hourly_series(
    session: Session, *, query_ids: list[int], since: datetime, until: datetime
) -> dict[datetime, Bucket]:
    """Per UTC hour in ``[since, until)``: mentions, negative ones, summed followers, summed risk."""
    if not query_ids:
        return {}
    scope = _scope_matches(query_ids, since, until)
    if is_postgres(session):
        hour = func.date_trunc("hour", func.timezone("UTC", Mention.published_at)).label("hour")
    else:
        hour = func.strftime("%Y-%m-%d %H:00:00", Mention.published_at).label("hour")
    stmt: Select[Any] = (
        select(
            hour,
            func.count(),
            func.sum(case((Mention.sentiment == "negative", 1), else_=0)),
            func.sum(func.coalesce(Author.followers, 0)),
            func.sum(func.coalesce(Mention.risk_score, 0.0)),
        )
        .select_from(scope)
        .join(Mention, Mention.id == scope.c.mention_id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .group_by(literal_column("hour"))
    )
    series: dict[datetime, Bucket] = {}
    for raw_hour, total, negative, reach, risk in session.execute(stmt):
        at = raw_hour if isinstance(raw_hour, datetime) else datetime.fromisoformat(str(raw_hour))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        series[at] = Bucket(int(total), int(negative or 0), int(reach or 0), float(risk or 0.0))
    return series


@dataclass(frozen=True)
class MentionRow:
    id: int
    published_at: datetime
    title: str | None
    text: str
    url: str | None
    lang: str | None
    platform: str
    sentiment: str | None
    intent: str | None
    author_id: int | None
    author_handle: str | None
    followers: int


def mentions_in(
    session: Session, *, query_ids: list[int], since: datetime, until: datetime, limit: int = 50_000
) -> list[MentionRow]:
    """The scope's mentions in ``[since, until)`` in time order (event rules, explanations)."""
    if not query_ids:
        return []
    scope = _scope_matches(query_ids, since, until)
    stmt = (
        select(
            Mention.id,
            Mention.published_at,
            Mention.title,
            Mention.text,
            Mention.url,
            Mention.lang,
            Mention.platform,
            Mention.sentiment,
            Mention.intent,
            Mention.author_id,
            Author.handle,
            func.coalesce(Author.followers, 0),
        )
        .select_from(scope)
        .join(Mention, Mention.id == scope.c.mention_id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .order_by(Mention.published_at, Mention.id)
        .limit(limit)
    )
    return [MentionRow(*row) for row in session.execute(stmt)]  # type: ignore[call-arg]


def sample_texts(
    session: Session, *, query_ids: list[int], since: datetime, until: datetime, limit: int = 1000
) -> list[str]:
    """Up to ``limit`` texts of the scope, spread over the range (every n-th by id)."""
    if not query_ids:
        return []
    scope = _scope_matches(query_ids, since, until)
    stmt = (
        select(Mention.title, Mention.text)
        .select_from(scope)
        .join(Mention, Mention.id == scope.c.mention_id)
        .order_by(Mention.id)
        .limit(limit * 4)
    )
    rows = session.execute(stmt).all()
    step = max(1, len(rows) // limit)
    return [f"{title}\n{text}" if title else text for title, text in rows[::step]][:limit]


def earlier_authors(session: Session, *, query_ids: list[int], author_ids: list[int], before: datetime) -> set[int]:
    """Which of ``author_ids`` had a mention in the scope before ``before``."""
    if not query_ids or not author_ids:
        return set()
    stmt = (
        select(Mention.author_id)
        .join(QueryMatch, QueryMatch.mention_id == Mention.id)
        .where(QueryMatch.query_id.in_(query_ids), QueryMatch.published_at < before)
        .where(Mention.author_id.in_(author_ids))
        .distinct()
    )
    return {int(a) for a in session.scalars(stmt) if a is not None}


def daily_totals(series: dict[datetime, Bucket]) -> dict[datetime, int]:
    """Hourly buckets summed per UTC day (the backtest chart)."""
    days: dict[datetime, int] = defaultdict(int)
    for at, bucket in series.items():
        days[at.replace(hour=0, minute=0, second=0, microsecond=0)] += bucket.total
    return dict(days)


def floor_to(at: datetime, minutes: int) -> datetime:
    """The start of the ``minutes``-long bucket holding ``at`` (UTC, aligned to the epoch)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=minutes)
    return epoch + ((at.astimezone(UTC) - epoch) // step) * step
