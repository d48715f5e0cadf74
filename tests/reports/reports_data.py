"""A small listening workspace for report tests: two brands, three queries and mentions spread
over two weeks, with tricky text (HTML, script, odd Unicode) and authors with handles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from resonanz.listening.models import Brand, Query, QueryMatch
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.sources.models import Source

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
NASTY = 'Bahn <script>alert("x")</script> & "Zitat", Komma;\nZeile 2 — ß ä 🙂‍↔️ \u202eRTL\u202c \u2028 Ende'


@dataclass
class Workspace:
    brands: dict[str, int] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    mentions: list[int] = field(default_factory=list)


def _query(session: Session, name: str, brand_id: int | None) -> int:
    q = Query(name=name, brand_id=brand_id, text=name, version=1, active=True, created_at=T0, updated_at=T0)
    session.add(q)
    session.flush()
    return q.id


def build(session: Session, *, days: int = 14, per_day: int = 3) -> Workspace:
    """Nordwelle (own, queries nordwelle + nordwelle-app) and Rivale (competitor, query rivale).

    Every mention matches ``nordwelle``; every second one also ``nordwelle-app`` (so the brand
    counts it once); every third one ``rivale``. Sentiment cycles positive, negative, neutral."""
    ws = Workspace()
    for name, kind in (("Nordwelle", "own"), ("Rivale", "competitor")):
        b = Brand(name=name, kind=kind, created_at=T0)
        session.add(b)
        session.flush()
        ws.brands[name] = b.id
    ws.queries["nordwelle"] = _query(session, "nordwelle", ws.brands["Nordwelle"])
    ws.queries["nordwelle-app"] = _query(session, "nordwelle-app", ws.brands["Nordwelle"])
    ws.queries["rivale"] = _query(session, "rivale", ws.brands["Rivale"])
    src = Source(name="report-src", kind="file", config={}, created_at=T0)
    session.add(src)
    session.flush()
    sentiments = ("positive", "negative", "neutral")
    n = 0
    for day in range(days):
        for k in range(per_day):
            published = T0 + timedelta(days=day, hours=k * 3)
            text = NASTY if n == 0 else f"Nordwelle Beitrag {n} mit @anna_k und mail anna@example.org #bahn"
            item = MentionIn(
                platform="mastodon",
                external_id=f"r-{n}",
                published_at=published,
                text=text,
                url=f"https://social.example/@user{n % 4}/{n}",
                author=AuthorIn(handle=f"user{n % 4}", name=f"Person {n % 4}", followers=100 * (n % 4)),
                metrics={"likes": n, "shares": 1},
            )
            store_batch(session, [item], source_id=src.id, now=published)
            mid = session.scalar(select(Mention.id).where(Mention.external_id == f"r-{n}"))
            assert mid is not None
            session.execute(update(Mention).where(Mention.id == mid).values(sentiment=sentiments[n % 3], lang="de"))
            names = ["nordwelle"] + (["nordwelle-app"] if n % 2 == 0 else []) + (["rivale"] if n % 3 == 0 else [])
            for qname in names:
                session.add(
                    QueryMatch(query_id=ws.queries[qname], mention_id=mid, published_at=published, query_version=1)
                )
            ws.mentions.append(mid)
            n += 1
    session.flush()
    return ws
