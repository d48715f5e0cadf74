"""Random stored mentions, queries, brands and matches for the dashboard tests (rows written with
the models directly, fast enough for a few hundred mentions per test)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from resonanz.analysis.models import AnalysisResult
from resonanz.listening.models import Brand, Query, QueryMatch
from resonanz.mentions import search_index
from resonanz.mentions.models import Author, Mention
from resonanz.sources.models import Source

T0 = datetime(2026, 3, 1, tzinfo=UTC)
LANGS = ("de", "en", "fr", None)
SENTIMENTS = ("positive", "negative", "neutral", None)
PLATFORMS = ("mastodon", "bluesky", "feed")


def brand(session: Session, name: str, kind: str = "own") -> Brand:
    row = Brand(name=name, kind=kind, created_at=T0)
    session.add(row)
    session.flush()
    return row


def query(session: Session, name: str, brand_id: int | None = None) -> Query:
    row = Query(name=name, brand_id=brand_id, text=name, version=1, active=True, created_at=T0, updated_at=T0)
    session.add(row)
    session.flush()
    return row


def source(session: Session, name: str) -> Source:
    row = Source(name=name, kind="file", config={}, created_at=T0)
    session.add(row)
    session.flush()
    return row


def author(session: Session, handle: str, followers: int | None, name: str | None = None) -> Author:
    row = Author(platform="mastodon", handle=handle, name=name, followers=followers, first_seen_at=T0, last_seen_at=T0)
    session.add(row)
    session.flush()
    return row


_counter = [0]


def mention(
    session: Session,
    published_at: datetime,
    *,
    lang: str | None = "de",
    sentiment: str | None = "neutral",
    platform: str = "mastodon",
    source_id: int | None = None,
    author_id: int | None = None,
    text: str = "text",
    entities: dict[str, Any] | None = None,
    queries: tuple[int, ...] = (),
) -> Mention:
    _counter[0] += 1
    row = Mention(
        platform=platform,
        external_id=f"m{_counter[0]}",
        source_id=source_id,
        author_id=author_id,
        published_at=published_at,
        fetched_at=published_at,
        updated_at=published_at,
        text=text,
        media=[],
        metrics={},
        content_hash=f"h{_counter[0]}",
        revision_hash=f"r{_counter[0]}",
        lang=lang,
        sentiment=sentiment,
    )
    session.add(row)
    session.flush()
    search_index.write(session, [(row.id, None, text)], replace=False)
    if entities is not None:
        session.add(
            AnalysisResult(
                mention_id=row.id, stage="entities", version="1", revision=1, result=entities, created_at=published_at
            )
        )
    for qid in queries:
        session.add(QueryMatch(query_id=qid, mention_id=row.id, published_at=published_at, query_version=1))
    session.flush()
    return row


def random_store(session: Session, rng: random.Random, n: int, *, days: int = 4) -> dict[str, Any]:
    """``n`` random mentions over ``days`` days with 2 brands, 3 queries and random matches."""
    own, rival = brand(session, "Own"), brand(session, "Rival", "competitor")
    queries = [
        query(session, "q-own-1", own.id),
        query(session, "q-own-2", own.id),
        query(session, "q-rival", rival.id),
    ]
    sources = [source(session, f"src{i}") for i in range(2)]
    authors = [author(session, f"a{i}", rng.choice([None, 0, 10, 1500])) for i in range(6)]
    mentions = []
    for _ in range(n):
        published = T0 + timedelta(seconds=rng.randrange(days * 86400))
        picked = tuple(q.id for q in queries if rng.random() < 0.4)
        mentions.append(
            mention(
                session,
                published,
                lang=rng.choice(LANGS),
                sentiment=rng.choice(SENTIMENTS),
                platform=rng.choice(PLATFORMS),
                source_id=rng.choice([None, *(s.id for s in sources)]),
                author_id=rng.choice([None, *(a.id for a in authors)]),
                queries=picked,
            )
        )
    return {"brands": [own, rival], "queries": queries, "mentions": mentions}
