"""``query test`` over stored mentions: count, daily curve and samples, on both paths (answered by
the index alone, or candidates checked in Python), its limits, and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.listening import service
from resonanz.listening.history import translate, window_span
from resonanz.listening.query import Doc, PreparedDoc, compile_query
from resonanz.listening.service import try_query
from resonanz.mentions.models import Mention
from tests.listening.factories import T0, store_docs

TEXTS = [
    "Die Deutsche Bahn hat heute Verspätung",
    "Zug fällt aus, die Bahn schweigt #Bahnchaos",
    "Straßenbahn pünktlich, danke!",
    "Bahnstreik angekündigt https://example.com/streik",
    "Flughafen voll",
    "DB Kundenservice antwortet nicht @DB",
]


def _store(session: Session) -> list[int]:
    docs = [Doc(text=t, lang="de" if i % 2 == 0 else "en", sentiment="negative") for i, t in enumerate(TEXTS)]
    ids = store_docs(session, docs, step=timedelta(hours=13))
    session.commit()
    return ids


def test_exact_path_counts_in_the_database(session: Session) -> None:
    ids = _store(session)
    result = try_query(session, query="bahn* NOT flughafen", samples=2)
    assert result.exact and result.checked == 0
    assert result.count == 3  # Bahn, Bahn(chaos), Bahnstreik; "Straßenbahn" is one word starting "strassen"
    assert sum(c for _, c in result.curve) == result.count
    assert [d for d, _ in result.curve] == sorted(d for d, _ in result.curve)
    assert result.curve[0][0] == T0.date().isoformat()
    assert [s.id for s in result.samples] == [ids[3], ids[1]]  # newest first
    assert "Bahnstreik" in result.samples[0].text


def test_checked_path_verifies_candidates(session: Session, is_pg: bool) -> None:
    ids = _store(session)
    # FTS5's NEAR means what ours does for words that differ; ONEAR and tsquery need a check
    assert translate(session, compile_query("bahn NEAR/1 verspätung").tree).exact is not is_pg
    assert not translate(session, compile_query("bahn NEAR/1 bahn*").tree).exact
    plan = translate(session, compile_query("bahn ONEAR/1 verspätung").tree)
    assert not plan.exact and plan.index_queries
    result = try_query(session, query="bahn ONEAR/2 verspätung")
    assert not result.exact and result.count == 1 and result.checked >= 1
    assert [s.id for s in result.samples] == [ids[0]]
    assert try_query(session, query="verspätung ONEAR/2 bahn").count == 0
    assert try_query(session, query="bahn NEAR/2 verspätung").count == 1
    assert try_query(session, query="bahn NEAR/1 verspätung").count == 0
    tagged = try_query(session, query="#bahnchaos OR @db OR has:link")
    assert tagged.count == 3 and not tagged.exact


def test_fields_and_time_window(session: Session) -> None:
    _store(session)
    assert try_query(session, query="bahn* lang:de").count == 1
    assert try_query(session, query="bahn* lang:en sentiment:negative").count == 2
    late = try_query(session, query="bahn*", since=T0 + timedelta(hours=20))
    assert late.count == 1
    early = try_query(session, query="bahn*", until=T0 + timedelta(hours=20))
    assert early.count == 2


def test_limits_make_a_truncated_lower_bound(session: Session) -> None:
    _store(session)
    result = try_query(session, query="has:hashtag OR has:mention OR bahn", max_candidates=2)
    assert result.truncated and result.checked == 2 and result.count <= 2


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    base = ["--database-url", settings.database_url or "", "--data-dir", str(settings.data_dir)]
    result = CliRunner().invoke(app, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_check_and_test(settings: Settings, db: Database) -> None:
    with db.sessions() as session:
        _store(session)
    code, out = _cli(settings, "query", "check", "Bahn  OR Zug streik")
    assert code == 0 and out.strip() == "bahn OR (zug AND streik)"
    code, out = _cli(settings, "query", "check", "bahn NEAR/ zug")
    assert code == 5
    assert "bahn NEAR/ zug\n         ^" in out and "column 10: NEAR/ needs a number" in out
    code, out = _cli(settings, "query", "check", "NOT bahn", "--json")
    assert code == 5 and json.loads(out)["column"] == 1
    code, out = _cli(settings, "query", "test", "bahn*", "--json", "--samples", "1")
    assert code == 0, out
    data = json.loads(out)
    assert data["count"] == 3 and len(data["samples"]) == 1 and data["curve"][0]["count"] >= 1
    code, out = _cli(settings, "query", "test", "bahn*")
    assert code == 0 and "3 mentions match bahn*" in out
    code, out = _cli(settings, "query", "test", "bahn*", "--since", "yesterday")
    assert code == 5 and "--since" in out


def test_reindex_repairs_an_index_written_by_the_postgresql_parser(session: Session, is_pg: bool) -> None:
    from sqlalchemy import text

    from resonanz.listening.history import reindex
    from resonanz.listening.service import matching_ids

    (mid,) = store_docs(session, [Doc(text="Neues auf example.com per e-mail")])
    if is_pg:  # what the index held before: PostgreSQL's own words ("example.com", "e-mail")
        session.execute(
            text("UPDATE mention_search SET vector = to_tsvector('simple', 'neues auf example.com per e-mail')")
        )
        assert matching_ids(session, "example") == []
    assert reindex(session, batch=1) == 1
    assert matching_ids(session, "example") == [mid] == matching_ids(session, '"e mail"')
    session.rollback()


def test_time_windows_agree_with_the_mentions_in_them(session: Session, is_pg: bool) -> None:
    """A window holds the index reads to its ids on SQLite (FTS5 seeks to them); counts, curves
    and samples stay those of the mentions in the window, also where ids do not follow time (a
    backfill: the older half stored after the newer one)."""
    docs = [Doc(text=TEXTS[i % len(TEXTS)] + f" nr{i}", lang="de" if i % 3 else "en") for i in range(36)]
    newer = store_docs(session, docs[18:], start=T0 + timedelta(days=9), step=timedelta(hours=12))
    older = store_docs(session, docs[:18], start=T0, step=timedelta(hours=12))
    session.commit()
    assert min(newer) < min(older)  # ids against time
    published = {mid: T0 + timedelta(hours=12 * i) for i, mid in enumerate(older)}
    published |= {mid: T0 + timedelta(days=9, hours=12 * i) for i, mid in enumerate(newer)}
    by_id = dict(zip(older + newer, docs, strict=True))
    queries = ["bahn*", "bahn lang:de", "bahn* NOT flughafen", "bahn ONEAR/2 verspätung", "#bahnchaos OR @db"]
    queries.append("lang:en")
    windows = [(T0 + timedelta(days=2), T0 + timedelta(days=5)), (T0 + timedelta(days=8), T0 + timedelta(days=12)),
               (T0 + timedelta(days=30), None), (None, T0 + timedelta(days=1))]  # fmt: skip
    for text in queries:
        compiled = compile_query(text)
        for since, until in windows:
            inside = [
                mid
                for mid, doc in by_id.items()
                if (since is None or published[mid] >= since) and (until is None or published[mid] < until)
            ]
            expected = sorted(mid for mid in inside if compiled.test(PreparedDoc(by_id[mid])))
            result = try_query(session, query=compiled, since=since, until=until, samples=3)
            assert result.count == len(expected), (text, since, until)
            assert sum(c for _, c in result.curve) == len(expected)
            newest = sorted(expected, key=lambda m: (published[m], m), reverse=True)[:3]
            assert [s.id for s in result.samples] == newest, (text, since, until)
    window = [Mention.published_at >= T0 + timedelta(days=2), Mention.published_at < T0 + timedelta(days=5)]
    lo, hi, rows = window_span(session, window)
    assert (lo, hi, rows) == (min(older[4:10]), max(older[4:10]), 6)
    plan = translate(session, compile_query("bahn*").tree, ids=(lo, hi))
    assert plan.ids == (None if is_pg else (lo, hi))
    assert window_span(session, [Mention.published_at >= T0 + timedelta(days=300)]) == (1, 0, 0)


def test_a_large_window_in_the_live_editor_is_estimated_from_every_kth_mention(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past LIVE_WINDOW_ROWS mentions in the window, the live editor reads every k-th by id:
    ``count`` the matches among them, ``estimate`` and the curve k times that; the CLI's limit
    still counts every match."""
    docs = [Doc(text=TEXTS[i % len(TEXTS)], lang="de" if i % 3 else "en") for i in range(60)]
    ids = store_docs(session, docs, step=timedelta(hours=6))
    session.commit()
    monkeypatch.setattr(service, "LIVE_WINDOW_ROWS", 10)
    since, until = T0 + timedelta(days=2), T0 + timedelta(days=12)
    inside = [mid for i, mid in enumerate(ids) if since <= T0 + timedelta(hours=6 * i) < until]
    assert len(inside) == 40  # every = 4
    for text in ["bahn*", "bahn* lang:de", "bahn* NOT flughafen"]:
        compiled = compile_query(text)
        matching = [mid for mid in inside if compiled.test(PreparedDoc(docs[ids.index(mid)]))]
        sampled = [mid for mid in matching if mid % 4 == 0]
        live = try_query(session, query=text, since=since, until=until, time_limit_s=1.5, samples=2)
        assert live.truncated and live.curve_every == 4 and live.scanned_share == 0.25, text
        assert live.count == len(sampled) and live.estimate == 4 * len(sampled), text
        assert sum(c for _, c in live.curve) == live.estimate
        assert {s.id for s in live.samples} <= set(sampled) and len(live.samples) == min(2, len(sampled))
        full = try_query(session, query=text, since=since, until=until)  # the CLI's 10 s
        assert not full.truncated and full.count == len(matching), text
    for text in ["bahn ONEAR/2 verspätung", "#bahnchaos OR @db"]:  # checked: PostgreSQL counts its
        # candidates among every 4th mention; so few are all checked, and the count is exact
        compiled = compile_query(text)
        matching = [mid for mid in inside if compiled.test(PreparedDoc(docs[ids.index(mid)]))]
        live = try_query(session, query=text, since=since, until=until, time_limit_s=1.5)
        assert not live.truncated and live.count == len(matching) and live.checked >= len(matching), text
    columns = try_query(session, query="lang:en", since=since, until=until, time_limit_s=1.5)
    assert not columns.truncated and columns.count == len([m for m in inside if ids.index(m) % 3 == 0])
