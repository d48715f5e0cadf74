"""``query test`` within a budget: a checked draft with more candidates than it may check answers
from an evenly spread sample with an estimate and the share checked (``partial``), its samples are
still the real newest matches, a deadline stops the scan honestly, and the curve counts days in the
user's zone — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Role
from resonanz.api.app import create_app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening import service
from resonanz.listening.history import translate
from resonanz.listening.query import Doc, compile_query
from resonanz.listening.service import matching_ids, try_query
from resonanz.mentions.models import Mention
from tests.listening.factories import T0, store_docs
from tests.support.accounts_factory import api_client


def _tagged(session: Session, n: int = 300) -> set[int]:
    """``n`` mentions, all with the word "chaos", about two thirds as the hashtag #chaos (the
    checked path: the index only knows the word). Returns the ids of those with the tag."""
    rng = random.Random(7)
    tagged = [rng.random() < 0.66 for _ in range(n)]
    docs = [Doc(text="bahn #chaos heute" if t else "bahn chaos heute") for t in tagged]
    ids = store_docs(session, docs, step=timedelta(minutes=37))
    session.commit()
    return {mid for mid, t in zip(ids, tagged, strict=True) if t}


def test_a_complete_scan_is_exact(session: Session) -> None:
    tagged = _tagged(session)
    result = try_query(session, query="#chaos", samples=5)
    assert not result.exact and not result.truncated
    assert result.count == len(tagged) == result.estimate
    assert result.candidates == 300 and result.checked == 300 and result.scanned_share == 1.0
    assert result.curve_every == 1 and sum(c for _, c in result.curve) == len(tagged)
    assert [s.id for s in result.samples] == matching_ids(session, "#chaos", limit=5)


def test_more_candidates_than_the_budget_give_an_estimate_from_a_spread_sample(session: Session) -> None:
    tagged = _tagged(session)
    result = try_query(session, query="#chaos", samples=5, max_candidates=60)
    assert result.truncated and not result.exact
    assert result.candidates == 300 and result.curve_every == 5
    assert 50 <= result.checked <= 70 and result.scanned_share == pytest.approx(result.checked / 300, abs=1e-3)
    # a lower bound, and an estimate near the truth (the sample is every 5th id, all over the store)
    assert result.count < len(tagged)
    assert result.estimate is not None and abs(result.estimate - len(tagged)) <= 0.2 * len(tagged)
    assert sum(c for _, c in result.curve) == result.count * 5
    # the sample spans the whole history, not only its newest part
    days = [d for d, _ in result.curve]
    assert days[0] <= (T0 + timedelta(days=1)).date().isoformat() and len(days) >= 6
    # the samples are still the real newest matches, found by their own newest-first walk
    assert [s.id for s in result.samples] == matching_ids(session, "#chaos", limit=5)


def test_the_deadline_stops_the_scan_and_says_so(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _tagged(session)
    monkeypatch.setattr(service, "SCAN_SHARE", 0.0)
    result = try_query(session, query="#chaos", samples=5)
    assert result.truncated and result.checked == 0 and result.count == 0
    assert result.estimate is None and result.scanned_share == 0.0 and result.candidates == 300
    assert [s.id for s in result.samples] == matching_ids(session, "#chaos", limit=5)


def test_a_driver_part_of_an_and_yields_the_candidates(session: Session) -> None:
    tagged = _tagged(session)
    # "site:" is no index condition, "heute" is: it drives the scan, the check does the rest
    docs = [Doc(text="heute bahn", url="https://shop.example.com/x"), Doc(text="heute", url="https://other.org/")]
    store_docs(session, docs, start=T0 - timedelta(days=30))
    session.commit()
    plan = translate(session, compile_query("site:example.com heute").tree)
    assert plan.driver is not None and not plan.exact and plan.index_only is None
    result = try_query(session, query="site:example.com heute")
    assert result.count == 1 and result.candidates == 302 and not result.truncated
    assert translate(session, compile_query("#chaos OR lang:de").tree).driver is None
    either = try_query(session, query="#chaos OR lang:de")
    assert either.count == len(tagged) and not either.truncated


@pytest.mark.parametrize("zone", [None, "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"])
def test_the_curve_counts_days_in_the_users_zone(session: Session, zone: str | None) -> None:
    start = datetime(2026, 3, 28, 18, 5, tzinfo=UTC)  # across the EU summer-time change (29 March)
    docs = [Doc(text="bahn #bahn" if i % 2 else "bahn") for i in range(40)]
    ids = store_docs(session, docs, start=start, step=timedelta(minutes=47))
    session.commit()
    published = {i: p for i, p in session.execute(select(Mention.id, Mention.published_at).where(Mention.id.in_(ids)))}
    local = ZoneInfo(zone or "UTC")
    for draft, wanted in (("bahn", ids), ("#bahn", ids[1::2])):
        expected = Counter(published[i].astimezone(local).date().isoformat() for i in wanted)
        result = try_query(session, query=draft, tz=zone)
        assert result.curve == sorted(expected.items()), (draft, zone)
        assert result.zone == (zone or "UTC")


def test_exact_samples_are_the_newest_by_publication_not_by_id(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = [Doc(text="bahn heute" if i % 5 else "zug") for i in range(60)]
    store_docs(session, common, start=T0)
    # stored later (higher ids) but published before everything else: back-filled history
    store_docs(session, [Doc(text="bahn alt"), Doc(text="zug alt")], start=T0 - timedelta(days=10))
    store_docs(session, [Doc(text="bahn neu")], start=T0 + timedelta(days=30))
    session.commit()
    for draft in ("bahn", "zug", "bahn NOT heute"):
        newest = matching_ids(session, draft, limit=5)
        assert [s.id for s in try_query(session, query=draft).samples] == newest, draft
    # the walk of the published_at index from a few matches on (at 1M mentions: 2,000)
    monkeypatch.setattr(service, "SAMPLE_WALK_MIN", 1)
    monkeypatch.setattr(service, "NEWEST_PEEK", 1)
    for draft in ("bahn", "zug", "bahn NOT heute"):
        newest = matching_ids(session, draft, limit=5)
        assert [s.id for s in try_query(session, query=draft).samples] == newest, draft


def test_the_api_answers_in_the_users_zone_with_the_share_and_estimate(settings: Settings, db: Database) -> None:
    app = create_app(settings, database=db)
    with db.sessions() as session:
        # 23:30 UTC is the next day in Berlin
        store_docs(session, [Doc(text="bahn #bahn"), Doc(text="bahn")], start=T0.replace(hour=23, minute=30))
        session.commit()
    with api_client(app, db, Role.viewer, time_zone="Europe/Berlin") as client:
        body = client.post("/api/v1/queries/test", json={"text": "#bahn"}).json()
    assert body["zone"] == "Europe/Berlin" and body["volume"] == [{"day": "2026-03-02", "count": 1}]
    assert body["count"] == body["estimate"] == 1 and body["partial"] is False
    assert body["candidates"] == 2 and body["checked"] == 2 and body["scanned_share"] == 1.0


def test_an_exact_draft_whose_curve_times_out_answers_its_known_count(session: Session) -> None:
    """A loaded machine: the curve's statement runs past the time limit after the index counted
    the matches. The answer is that count, partial, without a curve, not the time-out error."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    store_docs(session, [Doc(text="bahn heute" if i % 3 else "zug") for i in range(30)])
    session.commit()
    engine = session.get_bind()

    def interrupt(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "GROUP BY" in statement:  # the curve (the time limit's own error, as the drivers word it)
            raise OperationalError(
                statement, {}, Exception("interrupted: canceling statement due to statement timeout")
            )

    event.listen(engine, "before_cursor_execute", interrupt)
    try:
        result = try_query(session, query="bahn", samples=3)
    finally:
        event.remove(engine, "before_cursor_execute", interrupt)
    assert result.count == 20 and result.estimate == 20 and result.truncated and result.curve == []
    assert result.samples == []
    # the session stays usable (on PostgreSQL the savepoint kept the transaction)
    assert try_query(session, query="bahn").curve != []
