"""Rows for alert tests, inserted directly (one query, its matches, authors): fast and exact."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from resonanz.listening.models import Brand, Query, QueryMatch
from resonanz.mentions.models import Author, Mention

T0 = datetime(2026, 3, 1, tzinfo=UTC)
_seq = itertools.count(1)


def make_query(session: Session, *, name: str = "Nordwelle", text: str = "nordwelle") -> Query:
    brand = Brand(name=f"{name} brand {next(_seq)}", kind="own", created_at=T0)
    session.add(brand)
    session.flush()
    query = Query(
        name=name, brand_id=brand.id, text=text, version=1, active=True, created_at=T0, updated_at=T0, applied_version=1
    )
    session.add(query)
    session.flush()
    return query


def make_author(session: Session, *, handle: str, followers: int = 10) -> int:
    author = Author(
        platform="mastodon", handle=handle, followers=followers, mention_count=0, first_seen_at=T0, last_seen_at=T0
    )
    session.add(author)
    session.flush()
    return author.id


def add_mentions(
    session: Session,
    query: Query,
    times: Sequence[datetime],
    *,
    text: str = "nordwelle ok",
    sentiment: str = "neutral",
    author_id: int | None = None,
) -> list[int]:
    """One matched mention per time in ``times``."""
    rows = []
    for at in times:
        n = next(_seq)
        rows.append(
            {
                "platform": "mastodon",
                "external_id": f"m{n}",
                "kind": "post",
                "published_at": at,
                "fetched_at": at,
                "updated_at": at,
                "text": f"{text} {n}",
                "media": [],
                "metrics": {},
                "content_hash": f"h{n}",
                "revision_hash": f"r{n}",
                "revision": 1,
                "sentiment": sentiment,
                "author_id": author_id,
            }
        )
    if not rows:
        return []
    session.execute(insert(Mention), rows)
    ids = list(session.scalars(select(Mention.id).where(Mention.external_id.in_([r["external_id"] for r in rows]))))
    published = dict(session.execute(select(Mention.id, Mention.published_at).where(Mention.id.in_(ids))).all())
    session.execute(
        insert(QueryMatch),
        [{"query_id": query.id, "mention_id": i, "published_at": published[i], "query_version": 1} for i in ids],
    )
    session.flush()
    return ids


SPIKE = T0 + timedelta(days=29, hours=14)
SPIKE_TEXT = "nordwelle zugausfall chaos #NordwelleDown <script>x</script>"


def spike_history(session: Session) -> Query:
    """Four weeks of two mentions an hour, then 60 negative mentions in the hour ``SPIKE``."""
    query = make_query(session)
    hour = timedelta(hours=1)
    times = [T0 + i * hour + timedelta(minutes=m) for i in range(int((SPIKE - T0) / hour)) for m in (5, 35)]
    add_mentions(session, query, times, text="nordwelle tarif frage")
    spike = [SPIKE + timedelta(seconds=20 * i) for i in range(60)]
    add_mentions(session, query, spike, text=SPIKE_TEXT, sentiment="negative")
    return query
