"""A small, deliberately awkward store for the explorer tests: ties on published_at and on
engagement, replies, a repost, several sources, platforms, languages and authors.

Stored through the real ingest path (store_batch), analysis columns set as the runner would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from resonanz.clock import now
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.sources.models import Source

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WORDS = ("Bahn Verspätung heute", "App stürzt ab", "Kundenservice hilft schnell", "Tarif zu teuer", "Danke Team")
LANGS = ("de", "en", "de", "fr")
SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("complaint", "question", "praise", "other", "suggestion")
PLATFORMS = ("mastodon", "feed", "bluesky")
AUTHORS = (("anna", "Anna A."), ("@bert", "Bert"), ("carla", None), ("4711", "Numeric Handle"))


@dataclass(frozen=True)
class Row:
    id: int
    platform: str
    source_id: int
    author: str
    published_at: datetime
    text: str
    lang: str
    sentiment: str
    intent: str
    engagement: int
    parent_id: int | None


def build(session: Session, count: int = 60) -> list[Row]:
    """``count`` mentions; every third shares its published_at with the one before (ties)."""
    sources = []
    for i in range(3):
        src = Source(name=f"explorer source {i}", kind="file", config={}, created_at=now())
        session.add(src)
        sources.append(src)
    session.flush()
    items_by_source: dict[int, list[MentionIn]] = {}
    meta: list[dict[str, Any]] = []
    for n in range(count):
        published = T0 + timedelta(minutes=(n - n % 3 if n % 3 == 1 else n))
        platform = PLATFORMS[n % 3]
        handle, name = AUTHORS[n % 4]
        text = f"{WORDS[n % 5]} Nummer {n}"
        likes = (n * 7) % 5  # many ties on engagement
        parent = f"x{n - 1}" if n % 10 == 9 else None
        item = MentionIn(
            platform=platform,
            external_id=f"x{n}",
            published_at=published,
            text=text,
            author=AuthorIn(handle=handle, name=name, followers=100 * (n % 4)),
            metrics={"likes": likes, "shares": 1 if n % 6 == 0 else 0},
            parent_external_id=parent,
            raw={"id": f"x{n}", "text": text},
        )
        source = sources[n % 3 if n % 7 else 0]
        items_by_source.setdefault(source.id, []).append(item)
        meta.append({"n": n, "source_id": source.id, "platform": platform, "handle": handle})
    for source_id, items in items_by_source.items():
        store_batch(session, items, source_id=source_id, now=T0 + timedelta(days=1))
    rows: list[Row] = []
    by_ext = {m.external_id: m for m in session.query(Mention).all()}
    for info in meta:
        n = info["n"]
        m = by_ext[f"x{n}"]
        lang, sentiment, intent = LANGS[n % 4], SENTIMENTS[n % 3 if n % 5 else 0], INTENTS[n % 5]
        session.execute(
            update(Mention)
            .where(Mention.id == m.id)
            .values(lang=lang, sentiment=sentiment, intent=intent, needs_response=intent == "complaint", risk_score=0.1)
        )
        rows.append(
            Row(
                id=m.id, platform=info["platform"], source_id=info["source_id"], author=info["handle"],
                published_at=m.published_at, text=m.text, lang=lang, sentiment=sentiment, intent=intent,
                engagement=int(m.metrics["likes"]) + int(m.metrics["shares"]), parent_id=m.parent_id,
            )
        )  # fmt: skip
    session.commit()
    return rows
