"""Rollups (hourly and daily) equal a direct GROUP BY over the raw rows, after a rebuild and after
batches that add, change and delete mentions and matches, refreshed incrementally (property style:
random stores, several seeds); a mention chosen through two queries counts once."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, literal, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from resonanz.cli.main import app as cli_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.rollup_models import RollupDay, RollupHour, RollupMention, RollupSet, RollupSetQuery
from resonanz.listening.rollups import rebuild, refresh_mentions
from resonanz.mentions.models import Author, Mention
from resonanz.plugins import get_plugin_manager
from tests.listening.dashboards_data import T0, mention, query, random_store

Counts = dict[tuple[str, int], Counter[tuple[str, str, str]]]
#: dimension -> the raw column it counts (NULL counted as "", no source as "0")
DIMS = {
    "total": literal(""),
    "sentiment": func.coalesce(Mention.sentiment, ""),
    "lang": func.coalesce(Mention.lang, ""),
    "platform": Mention.platform,
    "source": func.coalesce(Mention.source_id, 0),
}


def _put(out: Counts, scope: tuple[str, int], dim: str, value: object, n: int, r: int) -> None:
    counter = out.setdefault(scope, Counter())
    counter[(dim, str(value), "n")] += n
    counter[(dim, str(value), "r")] += r


def _direct(session: Session) -> Counts:
    """Count and reach per scope, dimension and value, by GROUP BY over the raw rows; the match
    sets (each mention in the one set of exactly its queries) from the raw matches in Python."""
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
    for dim, column in DIMS.items():
        base = (
            select(column, func.count(), reach).select_from(Mention).outerjoin(Author, Author.id == Mention.author_id)
        )
        for value, n, r in session.execute(base.group_by(column)):
            _put(out, ("all", 0), dim, value, n, r)
        per_query = base.add_columns(QueryMatch.query_id).join(QueryMatch, QueryMatch.mention_id == Mention.id)
        for value, n, r, qid in session.execute(per_query.group_by(column, QueryMatch.query_id)):
            _put(out, ("query", qid), dim, value, n, r)
        per_brand = (
            select(column, func.count(), reach, distinct_brand.c.brand_id)
            .select_from(distinct_brand)
            .join(Mention, Mention.id == distinct_brand.c.mid)
            .outerjoin(Author, Author.id == Mention.author_id)
            .group_by(column, distinct_brand.c.brand_id)
        )
        for value, n, r, bid in session.execute(per_brand):
            _put(out, ("brand", bid), dim, value, n, r)
    set_of = {
        tuple(map(int, ids.split(","))): sid for sid, ids in session.execute(select(RollupSet.id, RollupSet.query_ids))
    }
    combos: dict[int, set[int]] = {}
    for qid, mid in session.execute(select(QueryMatch.query_id, QueryMatch.mention_id)):
        combos.setdefault(mid, set()).add(qid)
    rows = session.execute(
        select(Mention.id, *list(DIMS.values())[1:], func.coalesce(Author.followers, 0)).outerjoin(
            Author, Author.id == Mention.author_id
        )
    )
    for mid, *values, r in rows:
        if mid in combos:
            for dim, value in zip(DIMS, ["", *values], strict=True):
                _put(out, ("set", set_of[tuple(sorted(combos[mid]))]), dim, value, 1, r)
    return _clean(out)


def _rolled(session: Session, model: type[RollupHour] | type[RollupDay] = RollupHour) -> Counts:
    out: Counts = {}
    for row in session.scalars(select(model)):
        at = row.hour if isinstance(row, RollupHour) else row.day
        assert at == at.replace(minute=0, second=0, microsecond=0)
        if isinstance(row, RollupDay):
            assert at.hour == 0
        assert row.count > 0
        _put(out, (row.scope_kind, row.scope_id), row.dim, row.value, row.count, row.reach)
    return _clean(out)


def _clean(found: Counts) -> Counts:
    return {k: Counter({d: v for d, v in c.items() if v}) for k, c in found.items()}


def _hourly_all(session: Session) -> Counter[object]:
    """Per-hour totals of the all scope straight from the raw rows (Python floors the hour)."""
    return Counter(p.replace(minute=0, second=0, microsecond=0) for p in session.scalars(select(Mention.published_at)))


def _check(session: Session) -> None:
    direct = _direct(session)
    assert _rolled(session) == direct
    assert _rolled(session, RollupDay) == direct
    hourly = Counter[object]()
    for hour, n in session.execute(
        select(RollupHour.hour, func.sum(RollupHour.count))
        .where(RollupHour.scope_kind == "all", RollupHour.dim == "lang")
        .group_by(RollupHour.hour)
    ):
        hourly[hour] = n
    assert hourly == _hourly_all(session)


def _hook(session: Session, ids: list[int]) -> None:
    session.flush()
    get_plugin_manager().hook.mentions_matched(session=session, mention_ids=ids)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_group_by_after_rebuild_and_after_changing_batches(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    data = random_store(session, rng, 150)
    rebuild(session)
    _check(session)

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
    _hook(session, [m.id for m in (*changed, *added)])
    _check(session)


@pytest.mark.parametrize("seed", [4, 5])
def test_incremental_refreshes_of_random_changes_equal_a_rebuild(session: Session, seed: int) -> None:
    """Only the hook from an empty store, through rounds of new mentions, re-analysis (labels and
    language), re-applied queries (matches added and dropped), an author's new follower count, a
    moved publication time and deleted mentions: always equal to the raw rows, and to a rebuild."""
    rng = random.Random(seed)
    data = random_store(session, rng, 0)
    queries = data["queries"]
    live: list[Mention] = []
    for _round in range(4):
        batch = [
            mention(
                session,
                T0 + timedelta(seconds=rng.randrange(3 * 86400)),
                sentiment=rng.choice(["positive", "negative", None]),
                lang=rng.choice(["de", "en", None]),
                queries=tuple(q.id for q in queries if rng.random() < 0.5),
            )
            for _ in range(25)
        ]
        touched = [m.id for m in batch]
        for m in rng.sample(live, min(len(live), 15)):
            touched.append(m.id)
            change = rng.randrange(4)
            if change == 0:
                session.execute(update(Mention).where(Mention.id == m.id).values(sentiment="neutral", lang="fr"))
            elif change == 1:
                session.execute(delete(QueryMatch).where(QueryMatch.mention_id == m.id))
            elif change == 2:
                session.execute(
                    delete(QueryMatch).where(QueryMatch.mention_id == m.id, QueryMatch.query_id == queries[2].id)
                )
                session.add(
                    QueryMatch(query_id=queries[2].id, mention_id=m.id, published_at=m.published_at, query_version=1)
                )
                session.flush()
            else:
                later = m.published_at + timedelta(hours=rng.randrange(1, 30))
                session.execute(update(Mention).where(Mention.id == m.id).values(published_at=later))
                session.execute(update(QueryMatch).where(QueryMatch.mention_id == m.id).values(published_at=later))
        if live:
            gone = live.pop(rng.randrange(len(live)))
            session.execute(delete(QueryMatch).where(QueryMatch.mention_id == gone.id))
            session.execute(delete(Mention).where(Mention.id == gone.id))
            touched.append(gone.id)
        live += batch
        _hook(session, touched)
        session.expire_all()
        _check(session)
    incremental = _rolled(session), _rolled(session, RollupDay)
    rebuild(session)
    assert (_rolled(session), _rolled(session, RollupDay)) == incremental


def test_a_repeated_refresh_changes_nothing(session: Session) -> None:
    first = mention(session, T0, sentiment="negative")
    assert refresh_mentions(session, mention_ids=[first.id]) == 2 * 5  # hour + day, 5 dimensions
    assert refresh_mentions(session, mention_ids=[first.id]) == 0
    session.execute(update(Mention).where(Mention.id == first.id).values(sentiment="positive"))
    # the negative buckets go (hour + day) and the positive ones come
    assert refresh_mentions(session, mention_ids=[first.id]) == 4
    values = session.scalars(select(RollupHour.value).where(RollupHour.dim == "sentiment")).all()
    assert values == ["positive"]


def test_several_queries_count_each_mention_once_through_their_match_sets(session: Session) -> None:
    a, b = query(session, "a"), query(session, "b")
    both = mention(session, T0, queries=(a.id, b.id))
    only_a = mention(session, T0, queries=(a.id,))
    refresh_mentions(session, mention_ids=[both.id, only_a.id])
    sets = dict(session.execute(select(RollupSet.query_ids, RollupSet.id)).all())
    assert set(sets) == {f"{a.id},{b.id}", f"{a.id}"}
    assert sorted(session.execute(select(RollupSetQuery.query_id, RollupSetQuery.set_id)).all()) == sorted(
        [(a.id, sets[f"{a.id},{b.id}"]), (b.id, sets[f"{a.id},{b.id}"]), (a.id, sets[f"{a.id}"])]
    )
    total = select(func.sum(RollupHour.count)).where(RollupHour.scope_kind == "set", RollupHour.dim == "total")
    assert session.scalar(total) == 2


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
    # 2 hours x 5 dimensions, and their day: 5 dimensions with both sentiments = 6 rows
    assert json.loads(result.output)["buckets"] == 16
    with db.sessions() as session:
        assert session.scalar(select(func.sum(RollupHour.count)).where(RollupHour.dim == "sentiment")) == 2


def test_postgres_serialises_two_refreshes_of_one_mention_or_bucket(db: Database, is_pg: bool) -> None:
    """The second of two concurrent refreshes of one mention (its advisory lock) or of one bucket
    (the row the first upserted) waits for the first to commit, and then counts on top of it."""
    if not is_pg:
        pytest.skip("SQLite has one writer at a time")
    with db.sessions() as setup:
        first, second, third = (mention(setup, T0 + timedelta(minutes=m)) for m in (5, 30, 50))
        setup.commit()
    # the same mention, then two mentions of one hour (their buckets are the same rows)
    for mine, theirs, written in (([first.id], [first.id], 0), ([second.id], [third.id], 10)):
        with db.sessions() as a, db.sessions() as b:
            refresh_mentions(a, mention_ids=mine)  # holds its locks until it commits
            b.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                refresh_mentions(b, mention_ids=theirs)
            b.rollback()
            a.commit()
            assert refresh_mentions(b, mention_ids=theirs) == written  # sees a's committed rows
            b.commit()
    with db.sessions() as check:
        total = select(func.sum(RollupHour.count)).where(RollupHour.scope_kind == "all", RollupHour.dim == "lang")
        assert check.scalar(total) == 3
        assert check.scalar(select(func.count()).select_from(RollupMention)) == 3
        check.execute(delete(RollupHour))
        check.execute(delete(RollupDay))
        check.execute(delete(RollupMention))
        check.execute(delete(Mention).where(Mention.id.in_([first.id, second.id, third.id])))
        check.commit()
