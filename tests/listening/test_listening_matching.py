"""Streaming matching at ingest: the real path (import -> analysis job -> query_match rows), the
batch's matches following re-analysis and corrections, the matcher cache, and the re-apply job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from resonanz.analysis.feedback import do_correct
from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.analysis.runner import analyze_ids, build_stages
from resonanz.db.database import Database
from resonanz.listening import matching
from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.queries import REAPPLY_KIND, do_create_query, do_update_query
from resonanz.listening.query import Doc
from resonanz.listening.reapply import reapply_step, run_reapply
from resonanz.mentions.models import Mention
from resonanz.sources.imports import import_file
from resonanz.worker.models import Job
from resonanz.worker.runner import drain
from tests.listening.factories import store_docs

RECORDS = [
    {"id": "a1", "text": "Die App stürzt schon wieder beim Bezahlen ab, echt ärgerlich!", "published_at": "2026-03-01"},
    {"id": "a2", "text": "Thanks for the quick help with my refund, great service!", "published_at": "2026-03-02"},
    {"id": "a3", "text": "Die neue App ist toll, danke!", "published_at": "2026-03-03"},
]


def _matches(db: Database) -> set[tuple[str, str]]:
    with db.sessions() as s:
        rows = s.execute(
            select(Query.name, Mention.external_id)
            .join(QueryMatch, QueryMatch.query_id == Query.id)
            .join(Mention, Mention.id == QueryMatch.mention_id)
        )
        return {(q, m) for q, m in rows}


def test_imported_mentions_are_matched_by_the_analysis_job(db: Database, tmp_path: Path) -> None:
    with db.sessions() as s:
        do_create_query(s, name="app", text="app")
        do_create_query(s, name="app angry", text="app sentiment:negative")
        do_create_query(s, name="refund", text="refund* OR erstattung")
        s.commit()
    drain(db, kinds=[REAPPLY_KIND])  # nothing stored yet: applied at once
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    import_file(db, path=path)
    assert _matches(db) == set()  # matching follows analysis, not the raw import
    drain(db, kinds=[ANALYSIS_KIND])
    assert _matches(db) == {("app", "a1"), ("app", "a3"), ("app angry", "a1"), ("refund", "a2")}
    with db.sessions() as s:
        versions = set(s.scalars(select(QueryMatch.query_version)))
        published = {m.mention_id: m.published_at for m in s.scalars(select(QueryMatch))}
        stored = {i: p for i, p in s.execute(select(Mention.id, Mention.published_at))}
        assert versions == {1}
        assert all(published[mid] == stored[mid] for mid in published)
        assert {q.applied_version for q in s.scalars(select(Query))} == {1}


def test_correction_and_reanalysis_change_the_matches(db: Database, tmp_path: Path) -> None:
    with db.sessions() as s:
        do_create_query(s, name="angry", text="app sentiment:negative")
        s.commit()
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    import_file(db, path=path)
    drain(db)
    assert _matches(db) == {("angry", "a1")}
    with db.sessions() as s:
        a1 = s.scalar(select(Mention.id).where(Mention.external_id == "a1"))
        a3 = s.scalar(select(Mention.id).where(Mention.external_id == "a3"))
        assert a1 is not None and a3 is not None
        do_correct(s, mention_id=a3, task="sentiment", label="negative", actor="tester")
        s.commit()
    assert _matches(db) == {("angry", "a1"), ("angry", "a3")}
    with db.sessions() as s:
        # re-analysis: the model's answer is replaced (no correction on a1), its match follows
        s.execute(update(Mention).where(Mention.id == a1).values(text="Die App ist super, danke!"))
        analyze_ids(s, build_stages(db.settings), [a1])
        s.commit()
    assert _matches(db) == {("angry", "a3")}


def test_the_cached_matcher_follows_saved_queries(session: Session) -> None:
    ids = store_docs(session, [Doc(text="Bahn kommt zu spät"), Doc(text="Flugzeug pünktlich")])
    assert matching.match_mentions(session, mention_ids=ids) == 0
    query = do_create_query(session, name="bahn", text="bahn")
    assert matching.match_mentions(session, mention_ids=ids) == 1
    first = matching.active_matcher(session)
    assert matching.active_matcher(session) is first  # nothing changed: not compiled again
    do_update_query(session, query=query, text="flugzeug OR bahn", note="both")
    assert matching.match_mentions(session, mention_ids=ids) == 2
    rows = session.execute(select(QueryMatch.mention_id, QueryMatch.query_version)).all()
    assert sorted(rows) == [(ids[0], 2), (ids[1], 2)]
    do_update_query(session, query=query, active=False)
    assert matching.match_mentions(session, mention_ids=ids) == 0
    assert len(session.execute(select(QueryMatch)).all()) == 2  # an inactive query's matches stay


def test_reapply_rebuilds_history_in_batches_and_stops_when_superseded(db: Database) -> None:
    texts = [f"Post {i} über die Bahn" if i % 3 == 0 else f"Post {i} über das Wetter" for i in range(25)]
    with db.sessions() as s:
        ids = store_docs(s, [Doc(text=t) for t in texts])
        query = do_create_query(s, name="bahn", text="bahn NEAR/2 über")  # checked in Python on PostgreSQL
        s.add(
            QueryMatch(
                query_id=query.id, mention_id=ids[1], published_at=s.get(Mention, ids[1]).published_at, query_version=0
            )
        )  # type: ignore[union-attr]
        s.commit()
        qid = query.id
    with db.sessions() as s:
        step = reapply_step(s, query_id=qid, version=1, after_id=0, batch=4)
        assert step.state == "more" and step.written == 4
        s.commit()
    result = run_reapply(db, {"query_id": qid, "version": 1, "after_id": step.after_id}, batch=3, slice_s=0)
    assert result["state"] == "continued"  # one batch per slice here; the rest is queued
    outcomes = drain(db, kinds=[REAPPLY_KIND])
    assert outcomes and outcomes[-1].result is not None
    with db.sessions() as s:
        found = set(s.scalars(select(QueryMatch.mention_id).where(QueryMatch.query_id == qid)))
        assert found == {ids[i] for i in range(25) if i % 3 == 0}  # the stale row of ids[1] is gone
        q = s.get(Query, qid)
        assert q is not None and q.applied_version == 1
        do_update_query(s, query=q, text="wetter", note="weather instead")
        s.commit()
    assert run_reapply(db, {"query_id": qid, "version": 1, "after_id": 0})["state"] == "superseded"
    drain(db, kinds=[REAPPLY_KIND])
    with db.sessions() as s:
        found = set(s.scalars(select(QueryMatch.mention_id).where(QueryMatch.query_id == qid)))
        assert found == {ids[i] for i in range(25) if i % 3}
        assert s.get(Query, qid).applied_version == 2  # type: ignore[union-attr]
        assert s.scalar(select(Job.id).where(Job.kind == REAPPLY_KIND, Job.state != "done")) is None


def test_single_character_wildcards_are_answered_by_the_index_on_sqlite(session: Session, is_pg: bool) -> None:
    from resonanz.listening.history import translate
    from resonanz.listening.query import compile_query
    from resonanz.listening.service import try_query

    store_docs(session, [Doc(text="Herr Müller"), Doc(text="Mr Miller"), Doc(text="Malter"), Doc(text="Möller")])
    plan = translate(session, compile_query("m?ller").tree)
    assert plan.exact is not is_pg  # ü folds to "ue": m?ller is miller (and muller), not mueller
    assert try_query(session, query="m?ller").count == 1
    assert try_query(session, query="m??ller OR m?lt?r").count == 3  # mueller, moeller, malter
    assert try_query(session, query="x?z").count == 0
    assert try_query(session, query="herr NEAR/1 m??ller").count == 1


def test_index_only_drafts_count_by_the_index_and_sample_a_large_curve(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from resonanz.listening import service
    from resonanz.listening.history import translate
    from resonanz.listening.query import compile_query

    ids = store_docs(
        session, [Doc(text=f"Bahn {i}" if i % 4 else "Wetter") for i in range(40)], step=timedelta(hours=5)
    )
    assert translate(session, compile_query("bahn").tree).index_only is not None
    assert translate(session, compile_query("bahn lang:de").tree).index_only is None
    full = service.try_query(session, query="bahn", samples=3)
    assert full.count == 30 and full.curve_every == 1 and sum(c for _, c in full.curve) == 30
    monkeypatch.setattr(service, "CURVE_ROWS", 10)
    monkeypatch.setattr(service, "SAMPLE_WALK_MIN", 5)
    sampled = service.try_query(session, query="bahn", samples=3)
    # SQLite takes k from the exact count; PostgreSQL from the planner's estimate of the matches,
    # which on a small, freshly written table may be below the count (then every match is read)
    k = sampled.curve_every
    assert sampled.count == 30 and (k == 3 if session.get_bind().dialect.name == "sqlite" else k >= 1)
    assert all(c % k == 0 for _, c in sampled.curve) and 0 < sum(c for _, c in sampled.curve) <= 60
    newest = [i for n, i in enumerate(ids) if n % 4][-3:][::-1]
    assert [s.id for s in sampled.samples] == [s.id for s in full.samples] == newest
