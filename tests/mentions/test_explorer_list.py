"""list_page and count against the same filters evaluated in Python, on every planner path."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session
from tests.mentions.explorer_world import T0, Row, build

from resonanz.analysis.classifiers.intent import LABELS
from resonanz.config import Settings
from resonanz.errors import InputError
from resonanz.mentions import cursor, explorer_plan
from resonanz.mentions.explorer import ExplorerQuery, count, list_page, resolve_author
from resonanz.mentions.explorer_schemas import Intent
from resonanz.mentions.text import fold


@pytest.fixture
def world(session: Session) -> list[Row]:
    return build(session)


@pytest.fixture(params=["small-sets", "walks"])
def planner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run each test with the real threshold (every set is "small": fetched by id) and with a tiny
    one (every set is "large": index walks, chunked full-text probing, the covering index)."""
    if request.param == "walks":
        monkeypatch.setattr(explorer_plan, "SMALL", 2)
        monkeypatch.setattr(explorer_plan, "FTS_GAP", 1)
    yield request.param


def _matches(q: str, text: str) -> bool:
    words = re.findall(r"\w+", fold(text))
    for term in q.split():
        if term.endswith("*"):
            if not any(w.startswith(fold(term[:-1])) for w in words):
                return False
        elif fold(term) not in words:
            return False
    return True


def expected(rows: list[Row], query: ExplorerQuery) -> list[int]:
    def keep(r: Row) -> bool:
        return (
            (not query.langs or r.lang in query.langs)
            and (not query.sentiments or r.sentiment in query.sentiments)
            and (not query.intents or r.intent in query.intents)
            and (not query.platforms or r.platform in query.platforms)
            and (not query.source_ids or r.source_id in query.source_ids)
            and (query.author is None or r.author.removeprefix("@") == query.author.removeprefix("@"))
            and (query.since is None or r.published_at >= query.since)
            and (query.until is None or r.published_at <= query.until)
            and (query.q is None or _matches(query.q, r.text))
        )

    kept = [r for r in rows if keep(r)]
    if query.sort == "engagement":
        kept.sort(key=lambda r: (r.engagement, r.id), reverse=True)
    else:
        kept.sort(key=lambda r: (r.published_at, r.id), reverse=query.sort == "newest")
    return [r.id for r in kept]


def walk(session: Session, query: ExplorerQuery, limit: int) -> list[int]:
    ids: list[int] = []
    after = None
    for _ in range(200):
        page = list_page(session, query=query, after=after, limit=limit)
        assert len(page.items) <= limit
        ids.extend(item.id for item in page.items)
        if page.next_cursor is None:
            return ids
        assert len(page.items) == limit
        after = page.next_cursor
    raise AssertionError("pagination did not end")


QUERIES = [
    {},
    {"langs": ["de"]},
    {"langs": ["de", "fr"]},
    {"sentiments": ["negative"], "intents": ["complaint", "question"]},
    {"platforms": ["mastodon", "bluesky"], "langs": ["de"]},
    {"source_ids": [1]},
    {"author": "@anna"},
    {"author": "bert"},
    {"author": "carla", "sentiments": ["neutral", "positive"]},
    {"since": T0 + timedelta(minutes=10), "until": T0 + timedelta(minutes=40)},
    {"since": T0 + timedelta(minutes=10), "langs": ["de", "en"], "sentiments": ["negative"]},
    {"q": "app"},
    {"q": "kunden*"},
    {"q": "nummer", "langs": ["de"], "intents": ["praise", "other"]},
    {"q": "bahn heute", "platforms": ["feed"]},
]


@pytest.mark.parametrize("sort", ["newest", "oldest", "engagement"])
@pytest.mark.parametrize("spec", QUERIES, ids=lambda s: ",".join(sorted(s)) or "all")
def test_pages_walk_every_row_once_in_order(
    session: Session, world: list[Row], planner: str, spec: dict[str, object], sort: str
) -> None:
    query = ExplorerQuery.model_validate({**spec, "sort": sort})
    want = expected(world, query)
    assert want or spec.get("author") == "carla"  # the table is meant to match something
    got = walk(session, query, limit=4)
    assert got == want
    assert len(set(got)) == len(got)
    assert count(session, query=query) == len(want)
    assert count(session, query=query, cap=3) == min(3, len(want))


def test_limits(session: Session, world: list[Row]) -> None:
    query = ExplorerQuery()
    for bad in (0, -1, 201, 10**9):
        with pytest.raises(InputError) as err:
            list_page(session, query=query, after=None, limit=bad)
        assert err.value.location == "limit"
    assert len(list_page(session, query=query, after=None, limit=200).items) == len(world)
    assert len(list_page(session, query=query, after=None, limit=1).items) == 1


def test_bad_forged_and_foreign_cursors(session: Session, world: list[Row]) -> None:
    query = ExplorerQuery(langs=["de"])
    good = list_page(session, query=query, after=None, limit=5).next_cursor
    assert good is not None
    body, mac = good.split(".")
    forged = cursor._b64(b'[1,"' + query.fingerprint().encode() + b'",["2030-01-01T00:00:00+00:00",1]]')
    for bad in ("", "x", "....", "not base64!.%%", good[:-2], body + "." + mac[::-1], forged + "." + mac, "a" * 5000):
        with pytest.raises(InputError) as err:
            list_page(session, query=query, after=bad, limit=5)
        assert err.value.location == "after", bad
    for other in (ExplorerQuery(langs=["en"]), ExplorerQuery(langs=["de"], sort="oldest")):
        with pytest.raises(InputError, match="another search") as err:
            list_page(session, query=other, after=good, limit=5)
        assert err.value.location == "after"
    # the same filters written differently are the same query
    same = ExplorerQuery(langs=["DE", "de", " de "])
    assert list_page(session, query=same, after=good, limit=5).items


def test_signing_key_change_invalidates_cursors(session: Session, world: list[Row]) -> None:
    query = ExplorerQuery()
    good = list_page(session, query=query, after=None, limit=5).next_cursor
    assert good is not None
    old = cursor._key
    try:
        cursor.set_signing_key("a configured secret of some length")
        with pytest.raises(InputError):
            list_page(session, query=query, after=good, limit=5)
        with pytest.raises(ValueError):
            cursor.set_signing_key("short")
    finally:
        cursor._key = old


@pytest.mark.parametrize(
    ("q", "location"),
    [('"open phrase', "q, column 1"), ('app "x', "q, column 5"), ("*** !!!", "q, query"), ("  ", None)],
)
def test_search_syntax_errors(session: Session, world: list[Row], q: str, location: str | None) -> None:
    query = ExplorerQuery(q=q)
    if location is None:  # a blank search box is no search
        assert query.q is None
        return
    with pytest.raises(InputError) as err:
        list_page(session, query=query, after=None, limit=5)
    assert err.value.location == location
    with pytest.raises(InputError):
        count(session, query=query)


def test_quotes_and_backslashes_are_searched_not_interpreted(session: Session, world: list[Row]) -> None:
    for q in ('"app" \\ nummer', "app AND OR NOT", "app) (", "app'; DROP TABLE mention; --", "NEAR(app"):
        page = list_page(session, query=ExplorerQuery(q=q), after=None, limit=50)
        assert all("App" in item.snippet for item in page.items)


def test_unknown_author_matches_nothing_and_ids_work(session: Session, world: list[Row]) -> None:
    assert list_page(session, query=ExplorerQuery(author="nobody"), after=None, limit=5).items == []
    assert count(session, query=ExplorerQuery(author="nobody")) == 0
    anna = resolve_author(session, "anna")
    assert len(anna) == len({r.platform for r in world if r.author == "anna"})  # one author per platform
    by_id = list_page(session, query=ExplorerQuery(author=str(anna[0])), after=None, limit=200)
    assert {(i.author_id, i.author_handle) for i in by_id.items} == {(anna[0], "anna")}
    # a numeric handle is found as a handle too
    assert {
        i.author_handle for i in list_page(session, query=ExplorerQuery(author="4711"), after=None, limit=200).items
    } >= {"4711"}


def test_summary_fields(session: Session, world: list[Row]) -> None:
    item = list_page(session, query=ExplorerQuery(q="app", sort="oldest"), after=None, limit=1).items[0]
    row = next(r for r in world if r.id == item.id)
    assert (item.platform, item.lang, item.sentiment, item.intent) == (
        row.platform,
        row.lang,
        row.sentiment,
        row.intent,
    )
    assert item.source_name is not None and item.source_name.startswith("explorer source")
    assert item.author_handle == row.author and item.engagement == row.engagement
    assert item.snippet == row.text and item.risk == 0.1 and item.needs_response == (row.intent == "complaint")


def test_query_validation() -> None:
    with pytest.raises(ValidationError):
        ExplorerQuery(since=T0, until=T0 - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        ExplorerQuery.model_validate({"since": "2026-03-01T12:00:00"})  # naive: which zone?
    with pytest.raises(ValidationError):
        ExplorerQuery.model_validate({"sentiments": ["angry"]})
    with pytest.raises(ValidationError):
        ExplorerQuery.model_validate({"sort": "random"})
    with pytest.raises(ValidationError):
        ExplorerQuery.model_validate({"q": "x" * 501})
    assert ExplorerQuery(langs=["en", "DE"]).langs == ["de", "en"]
    assert set(Intent.__args__) == set(LABELS)  # type: ignore[attr-defined]


def test_pages_do_not_hold_the_sqlite_write_lock(
    session: Session, world: list[Row], settings: Settings, is_pg: bool
) -> None:
    """A page read in its own transaction begins DEFERRED: a writer elsewhere is not kept waiting."""
    if is_pg:
        pytest.skip("SQLite locking")
    list_page(session, query=ExplorerQuery(q="app"), after=None, limit=5)
    count(session, query=ExplorerQuery(langs=["de"]))
    assert session.in_transaction()
    other = sqlite3.connect(
        settings.resolved_database_url.removeprefix("sqlite:///"), timeout=0.2, isolation_level=None
    )
    try:
        other.execute("BEGIN IMMEDIATE")  # "database is locked" if the page had taken the write lock
        other.execute("ROLLBACK")
    finally:
        other.close()
