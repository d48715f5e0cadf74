"""Rollups equal a direct GROUP BY over the raw rows, after a rebuild and after batches that change
labels and matches (property style: random stores, several seeds)."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from resonanz.cli.main import app as cli_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.rollup_models import RollupHour
from resonanz.listening.rollups import rebuild, refresh_mentions
from resonanz.mentions.models import Author, Mention
from resonanz.plugins import get_plugin_manager
from tests.listening.dashboards_data import T0, mention, random_store

Counts = dict[tuple[str, int], Counter[tuple[str, str, str]]]
#: dimension -> the raw column it counts (NULL counted as "", no source as "0")
DIMS = {
    "sentiment": func.coalesce(Mention.sentiment, ""),
    "lang": func.coalesce(Mention.lang, ""),
    "platform": Mention.platform,
    "source": func.coalesce(Mention.source_id, 0),
}


def _direct(session: Session) -> Counts:
    """Count and reach per scope, dimension and value, by GROUP BY over the raw rows."""
    reach = func.coalesce(func.sum(func.coalesce(Author.followers, 0)), 0)
    distinct_brand = (
        select(Mention.id.label("mid"), Query.brand_id)
        .join(QueryMatch, QueryMatch.mention_id == Mention.id)
        .join(Query, Query.id == QueryMatch.query_id)
        .where(Query.brand_id.is_not(None))
        .distinct()
        .subquery()
    )
    out: Counts = {}

    def put(scope: tuple[str, int], dim: str, value: object, n: int, r: int) -> None:
        counter = out.setdefault(scope, Counter())
        counter[(dim, str(value), "n")] += n
        counter[(dim, str(value), "r")] += r

    for dim, column in DIMS.items():
        base = (
            select(column, func.count(), reach).select_from(Mention).outerjoin(Author, Author.id == Mention.author_id)
        )
        for value, n, r in session.execute(base.group_by(column)):
            put(("all", 0), dim, value, n, r)
        per_query = base.add_columns(QueryMatch.query_id).join(QueryMatch, QueryMatch.mention_id == Mention.id)
        for value, n, r, qid in session.execute(per_query.group_by(column, QueryMatch.query_id)):
            put(("query", qid), dim, value, n, r)
        per_brand = (
            select(column, func.count(), reach, distinct_brand.c.brand_id)
            .select_from(distinct_brand)
            .join(Mention, Mention.id == distinct_brand.c.mid)
            .outerjoin(Author, Author.id == Mention.author_id)
            .group_by(column, distinct_brand.c.brand_id)
        )
        for value, n, r, bid in session.execute(per_brand):
            put(("brand", bid), dim, value, n, r)
    return _clean(out)


def _rolled(session: Session) -> Counts:
    out: Counts = {}
    for row in session.scalars(select(RollupHour)):
        assert row.hour == row.hour.replace(minute=0, second=0, microsecond=0)
        assert row.count > 0
        counter = out.setdefault((row.scope_kind, row.scope_id), Counter())
        counter[(row.dim, row.value, "n")] += row.count
        counter[(row.dim, row.value, "r")] += row.reach
    return _clean(out)


def _clean(found: Counts) -> Counts:
    return {k: Counter({d: v for d, v in c.items() if v}) for k, c in found.items()}


def _hourly_all(session: Session) -> Counter[object]:
    """Per-hour totals of the all scope straight from the raw rows (Python floors the hour)."""
    return Counter(p.replace(minute=0, second=0, microsecond=0) for p in session.scalars(select(Mention.published_at)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_group_by_after_rebuild_and_after_changing_batches(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    data = random_store(session, rng, 150)
    rebuild(session)
    assert _rolled(session) == _direct(session)
    hourly = Counter[object]()
    for hour, n in session.execute(
        select(RollupHour.hour, func.sum(RollupHour.count))
        .where(RollupHour.scope_kind == "all", RollupHour.dim == "lang")
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
    assert _rolled(session) == _direct(session)


def test_refresh_of_nothing_writes_nothing(session: Session) -> None:
    assert refresh_mentions(session, mention_ids=[]) == 0
    assert session.scalar(select(func.count()).select_from(RollupHour)) == 0


def test_cli_rebuild_writes_the_buckets(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.sessions() as session:
        mention(session, T0)
        mention(session, T0 + timedelta(hours=2), sentiment="negative")
        session.commit()
    monkeypatch.setenv("RESONANZ_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RESONANZ_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(cli_app, ["analytics", "rebuild", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["buckets"] == 8  # 2 hours x 4 dimensions
    with db.sessions() as session:
        assert session.scalar(select(func.sum(RollupHour.count)).where(RollupHour.dim == "sentiment")) == 2


def test_postgres_serialises_two_refreshes_of_one_hour(db: Database, is_pg: bool) -> None:
    if not is_pg:
        pytest.skip("SQLite has one writer at a time")
    with db.sessions() as setup:
        first = mention(setup, T0 + timedelta(minutes=5))
        second = mention(setup, T0 + timedelta(minutes=50))
        setup.commit()
    with db.sessions() as a, db.sessions() as b:
        refresh_mentions(a, mention_ids=[first.id])  # holds the hour's lock until it commits
        b.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            refresh_mentions(b, mention_ids=[second.id])
        b.rollback()
        a.commit()
        refresh_mentions(b, mention_ids=[second.id])
        b.commit()
    with db.sessions() as check:
        total = select(func.sum(RollupHour.count)).where(RollupHour.scope_kind == "all", RollupHour.dim == "lang")
        assert check.scalar(total) == 2
