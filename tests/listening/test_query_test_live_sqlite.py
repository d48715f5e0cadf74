"""``query test`` in the live editor on SQLite (:mod:`resonanz.listening.history_live`): a draft of
columns only is counted through the covering index, exactly as the CLI counts it; a draft driven by
the full-text index with other conditions is estimated from every k-th candidate past a threshold
(lowered here), says so, and stays near the true count; the CLI's limit still counts exactly."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.listening import service
from resonanz.listening.history import translate
from resonanz.listening.history_live import covered, through_covering_index
from resonanz.listening.query import compile_query
from resonanz.listening.service import try_query
from resonanz.mentions.models import Mention
from tests.listening.test_query_test_sampling import _corpus


@pytest.fixture(autouse=True)
def _sqlite_only(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL's editor path samples the index's pages (test_query_test_sampling)")


def test_a_draft_of_columns_only_is_counted_exactly_through_the_covering_index(session: Session) -> None:
    truth = _corpus(session)
    live = try_query(session, query="lang:de", samples=3, time_limit_s=1.5)
    cli = try_query(session, query="lang:de", samples=3, time_limit_s=10)
    assert live.count == cli.count == len(truth["_de"]) and not live.truncated
    assert live.curve == cli.curve and live.samples == cli.samples
    where = translate(session, compile_query("lang:de").tree).where
    assert where is not None and covered(where)
    stmt = select(Mention.id).where(through_covering_index(where))
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    steps = " ".join(str(row[-1]) for row in plan)
    assert "SCAN mention USING COVERING INDEX" in steps, steps  # no row read per value


def test_only_the_mention_columns_the_index_holds_take_it(session: Session) -> None:
    for draft, expected in (("lang:de sentiment:negative", True), ("bahn lang:de", False), ("has:link", False)):
        where = translate(session, compile_query(draft).tree).where
        assert covered(where) is expected, draft


def test_a_driven_draft_is_estimated_from_every_kth_candidate_in_the_editor(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = _corpus(session)
    monkeypatch.setattr(service, "LIVE_SAMPLE_ROWS", 400)  # "bahn" has ~1,800 candidates: every 5th
    live = try_query(session, query="bahn lang:de", samples=5, time_limit_s=1.5)
    true = len(truth["bahn lang:de"])
    assert live.exact and live.truncated and live.curve_every == 5
    assert live.candidates == len(truth["bahn"]) and live.scanned_share == 0.2
    assert live.estimate is not None and abs(live.estimate - true) <= 0.15 * true
    assert live.count < true and sum(c for _, c in live.curve) == live.estimate
    assert {s.id for s in live.samples} <= truth["bahn lang:de"] and len(live.samples) == 5
    cli = try_query(session, query="bahn lang:de", samples=5, time_limit_s=10)
    assert cli.count == true and not cli.truncated and cli.estimate is None
