"""Rollups equal a direct GROUP BY over the raw rows, after a rebuild and after batches that change
labels and matches (property style: random stores, several seeds)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.rollup_models import RollupHour
from resonanz.listening.rollups import rebuild, refresh_mentions
from resonanz.mentions.models import Author, Mention
from resonanz.plugins import get_plugin_manager
from tests.listening.dashboards_data import T0, mention, random_store

Dims = tuple[str, str, str, int]


def _direct(session: Session) -> dict[tuple[str, int], Counter[Dims]]:
    """Counts and reach per scope and dimensions, by a GROUP BY over raw rows (whole range)."""
    dims = (
        func.coalesce(Mention.lang, ""),
        func.coalesce(Mention.sentiment, ""),
        Mention.platform,
        func.coalesce(Mention.source_id, 0),
    )
    reach = func.coalesce(func.sum(func.coalesce(Author.followers, 0)), 0)
    out: dict[tuple[str, int], Counter[Dims]] = {}
    base = select(*dims, func.count(), reach).select_from(Mention).outerjoin(Author, Author.id == Mention.author_id)
    for *key, n, r in session.execute(base.group_by(*dims)):
        out.setdefault(("all", 0), Counter())[(*key, "n")] += n  # type: ignore[index]
        out[("all", 0)][(*key, "r")] += r  # type: ignore[index]
    per_query = base.add_columns(QueryMatch.query_id).join(QueryMatch, QueryMatch.mention_id == Mention.id)
    for *key, n, r, qid in session.execute(per_query.group_by(*dims, QueryMatch.query_id)):
        out.setdefault(("query", qid), Counter())[(*key, "n")] += n  # type: ignore[index]
        out[("query", qid)][(*key, "r")] += r  # type: ignore[index]
    # a brand counts the distinct mentions of its queries
    distinct = (
        select(Mention.id, Query.brand_id)
        .join(QueryMatch, QueryMatch.mention_id == Mention.id)
        .join(Query, Query.id == QueryMatch.query_id)
        .where(Query.brand_id.is_not(None))
        .distinct()
        .subquery()
    )
    by_brand = (
        select(*dims, func.count(), reach, distinct.c.brand_id)
        .select_from(distinct)
        .join(Mention, Mention.id == distinct.c.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .group_by(*dims, distinct.c.brand_id)
    )
    for *key, n, r, bid in session.execute(by_brand):
        out.setdefault(("brand", bid), Counter())[(*key, "n")] += n  # type: ignore[index]
        out[("brand", bid)][(*key, "r")] += r  # type: ignore[index]
    return out


def _rolled(session: Session) -> dict[tuple[str, int], Counter[Dims]]:
    out: dict[tuple[str, int], Counter[Dims]] = {}
    for row in session.scalars(select(RollupHour)):
        key = (row.lang, row.sentiment, row.platform, row.source_id)
        assert row.hour == row.hour.replace(minute=0, second=0, microsecond=0)
        assert row.count > 0
        out.setdefault((row.scope_kind, row.scope_id), Counter())[(*key, "n")] += row.count  # type: ignore[index]
        out[(row.scope_kind, row.scope_id)][(*key, "r")] += row.reach  # type: ignore[index]
    return {k: Counter({d: v for d, v in c.items() if v}) for k, c in out.items()}


def _clean(found: dict[tuple[str, int], Counter[Dims]]) -> dict[tuple[str, int], Counter[Dims]]:
    return {k: Counter({d: v for d, v in c.items() if v}) for k, c in found.items()}


def _hourly_all(session: Session) -> Counter[object]:
    """Per-hour totals of the all scope straight from the raw rows (Python floors the hour)."""
    return Counter(p.replace(minute=0, second=0, microsecond=0) for p in session.scalars(select(Mention.published_at)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_group_by_after_rebuild_and_after_changing_batches(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    data = random_store(session, rng, 150)
    rebuild(session)
    assert _rolled(session) == _clean(_direct(session))
    hourly = Counter[object]()
    for hour, n in session.execute(
        select(RollupHour.hour, func.sum(RollupHour.count))
        .where(RollupHour.scope_kind == "all")
        .group_by(RollupHour.hour)
    ):
        hourly[hour] = n
    assert hourly == _hourly_all(session)

    # a batch: relabel some mentions, drop some matches, add new ones; the hook refreshes them
    mentions = data["mentions"]
    changed = rng.sample(mentions, 20)
    for m in changed[:10]:
        session.execute(
            update(Mention).where(Mention.id == m.id).values(sentiment=rng.choice(["positive", "negative"]))
        )
    for m in changed[10:]:
        session.execute(delete(QueryMatch).where(QueryMatch.mention_id == m.id))
    added = [
        mention(session, T0 + timedelta(seconds=rng.randrange(4 * 86400)), queries=(data["queries"][0].id,))
        for _ in range(5)
    ]
    session.flush()
    get_plugin_manager().hook.mentions_matched(session=session, mention_ids=[m.id for m in (*changed, *added)])
    assert _rolled(session) == _clean(_direct(session))


def test_refresh_of_nothing_writes_nothing(session: Session) -> None:
    assert refresh_mentions(session, mention_ids=[]) == 0
    assert session.scalar(select(func.count()).select_from(RollupHour)) == 0
