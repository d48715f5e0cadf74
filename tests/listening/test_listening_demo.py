"""The demo's brands and queries: created before the mentions, matched by the analysis job, and the
stored matches are exactly what the history evaluator finds (the two evaluators agree)."""

from __future__ import annotations

from sqlalchemy import select

from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.db.database import Database
from resonanz.demo.listening import load_listening
from resonanz.demo.workspace import load_demo
from resonanz.listening.brands import list_brands
from resonanz.listening.models import QueryMatch
from resonanz.listening.queries import list_queries
from resonanz.listening.service import matching_ids
from resonanz.worker.runner import drain


def test_demo_brands_and_queries_have_matches(db: Database) -> None:
    load_demo(db, scale=0.05)
    drain(db, kinds=[ANALYSIS_KIND])
    with db.sessions() as s:
        assert [(b.name, b.kind) for b in list_brands(s)] == [
            ("Nordwelle Mobil", "own"),
            ("Alpenblitz Mobility", "competitor"),
            ("Rheinkurve Bahn", "competitor"),
        ]
        queries = list_queries(s)
        assert 5 <= len(queries) <= 8
        for query in queries:
            stored = set(s.scalars(select(QueryMatch.mention_id).where(QueryMatch.query_id == query.id)))
            assert stored, query.name
            assert stored == set(matching_ids(s, query.text)), query.name
            assert query.applied_version == query.version
    assert load_listening(db) == len(queries)  # idempotent: no new queries, no new versions
    with db.sessions() as s:
        assert {q.version for q in list_queries(s)} == {1}
