"""How the whole dashboard reads (PostgreSQL latency work, issue 5 (b)): it must say what the
single functions say, its top authors come from a second read by author id, and on PostgreSQL its
statements run without parallel workers, the setting restored after."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from resonanz.analysis.models import AnalysisResult
from resonanz.listening import analytics
from resonanz.listening.analytics import Scope
from resonanz.listening.analytics_buckets import dashboard_reads, scope_members
from resonanz.listening.rollups import rebuild
from tests.listening.dashboards_data import T0, author, mention, random_store


def _board_parts(board: Any) -> dict[str, Any]:
    return {
        "volume": board.volume,
        "sentiment": board.sentiment,
        "share_of_voice": board.share_of_voice,
        "languages": board.languages,
        "platforms": board.platforms,
        "sources": board.sources,
        "top_hashtags": board.top_hashtags,
        "authors_by_reach": board.authors_by_reach,
        "authors_by_volume": board.authors_by_volume,
    }


def test_the_dashboard_says_what_its_single_functions_say(session: Session) -> None:
    """Shared reads (one series read, facets with the range's total, tops reusing that total) give
    the same numbers as each function on its own, for every kind of scope."""
    data = random_store(session, random.Random(11), 80, days=3)
    for m in data["mentions"]:
        m_tags = {"hashtags": [f"#t{m.id % 3}"], "keyphrases": [], "urls": [], "domains": []}
        _entities(session, m.id, m_tags)
    rebuild(session)
    q1, q2, q3 = (q.id for q in data["queries"])
    own = data["brands"][0].id
    for chosen in (
        {},
        {"query_ids": [q1]},
        {"brand_ids": [own]},
        {"query_ids": [q1, q3]},
        {"query_ids": [q2], "brand_ids": [own]},
    ):
        for interval, hours in (("hour", 30), ("day", 60)):
            since = T0 + timedelta(hours=5)
            scope = Scope(
                since=since, until=since + timedelta(hours=hours), tz="Europe/Berlin", interval=interval, **chosen
            )
            board = analytics.dashboard(session, scope=scope)
            alone = {
                "volume": analytics.volume(session, scope=scope),
                "sentiment": analytics.sentiment_over_time(session, scope=scope),
                "share_of_voice": analytics.share_of_voice(session, scope=scope),
                "languages": analytics.languages(session, scope=scope),
                "platforms": analytics.platforms(session, scope=scope),
                "sources": analytics.sources(session, scope=scope),
                "top_hashtags": analytics.top_hashtags(session, scope=scope),
                "authors_by_reach": analytics.top_authors(session, scope=scope, by="reach"),
                "authors_by_volume": analytics.top_authors(session, scope=scope, by="volume"),
            }
            assert _board_parts(board) == alone, (chosen, interval)
            assert board.top_hashtags.total == board.volume.total == board.languages.total


def _entities(session: Session, mention_id: int, result: dict[str, Any]) -> None:
    session.add(
        AnalysisResult(mention_id=mention_id, stage="entities", version="1", revision=1, result=result, created_at=T0)
    )
    session.flush()


def test_top_authors_count_each_authors_mentions_and_leave_out_mentions_without_one(session: Session) -> None:
    often, once = author(session, "often", 10), author(session, "once", 900)
    t = datetime(2026, 3, 29, 9, tzinfo=UTC)
    for _ in range(3):
        mention(session, t, author_id=often.id)
    mention(session, t, author_id=once.id)
    mention(session, t)  # no author
    rebuild(session)
    scope = Scope(since=t - timedelta(hours=1), until=t + timedelta(hours=1), interval="hour")
    board = analytics.dashboard(session, scope=scope)
    assert [(a.handle, a.count, a.followers) for a in board.authors_by_volume.items] == [
        ("often", 3, 10),
        ("once", 1, 900),
    ]
    assert [a.handle for a in board.authors_by_reach.items] == ["once", "often"]
    assert board.authors_by_volume.total == 5 and not board.authors_by_volume.sampled


def test_dashboard_reads_turn_parallel_workers_off_inside_and_restore_the_setting(
    session: Session, is_pg: bool
) -> None:
    if not is_pg:
        with dashboard_reads(session):  # nothing to switch on SQLite
            pass
        return
    show = text("SHOW max_parallel_workers_per_gather")
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 3"))
    with dashboard_reads(session):
        assert session.execute(show).scalar_one() == "0"
    assert session.execute(show).scalar_one() == "3"
    with pytest.raises(ZeroDivisionError), dashboard_reads(session):
        1 / 0  # noqa: B018
    session.rollback()  # an error ends the transaction, and the setting with it
    assert session.execute(show).scalar_one() != "0"


def test_a_multi_selection_reads_its_match_sets_once_per_dashboard(session: Session) -> None:
    data = random_store(session, random.Random(5), 40, days=2)
    rebuild(session)
    q1, _q2, q3 = (q.id for q in data["queries"])
    scope = Scope(since=T0, until=T0 + timedelta(days=2), tz="Europe/Berlin", query_ids=[q1, q3])
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "rollup_set_query" in statement:
            reads.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        board = analytics.dashboard(session, scope=scope)
        assert len(reads) == 1
        with dashboard_reads(session):
            first = scope_members(session, scope)
            assert scope_members(session, scope) == first
        assert len(reads) == 2
        scope_members(session, scope)  # outside: read again
        assert len(reads) == 3
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert board.volume.total == analytics.volume(session, scope=scope).total


def test_entity_lists_count_alike_on_both_databases_and_odd_results_are_skipped(session: Session) -> None:
    """PostgreSQL counts the entity lists in SQL, SQLite in Python: the same counts, hashtags
    lower-cased, and a result that is not an object or a list that is not a list counts nothing."""
    t = datetime(2026, 3, 29, 9, tzinfo=UTC)
    mention(
        session,
        t,
        entities={"hashtags": ["#Zug", "#Bahn"], "keyphrases": ["zug", "akku"], "urls": ["https://a.example/x"]},
    )
    mention(session, t, entities={"hashtags": ["#bahn"], "keyphrases": ["zug"], "domains": ["a.example"]})
    mention(session, t, entities={"hashtags": "#notalist", "keyphrases": ["zug"], "urls": None})
    mention(session, t, entities=["not", "an", "object"])  # type: ignore[arg-type]
    mention(session, t)  # no entities result
    rebuild(session)
    scope = Scope(since=t - timedelta(hours=1), until=t + timedelta(hours=1), interval="hour")
    board = analytics.dashboard(session, scope=scope)
    assert [(i.value, i.count) for i in board.top_hashtags.items] == [("#bahn", 2), ("#zug", 1)]
    assert [(i.value, i.count) for i in board.top_terms.items] == [("zug", 3), ("akku", 1)]
    assert [(i.value, i.count) for i in board.top_links.items] == [("https://a.example/x", 1)]
    assert [(i.value, i.count) for i in board.top_domains.items] == [("a.example", 1)]
    assert board.top_terms.total == board.top_terms.sample_size == 5
