"""Stored mentions for listening tests: each built from a plain :class:`Doc`, so a test can run the
in-memory matcher on the same values it stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from resonanz.listening.query import Doc
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.sources.models import Source

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def source_ids(session: Session, names: Sequence[str]) -> dict[str, int]:
    found = {name: sid for sid, name in session.execute(select(Source.id, Source.name))}
    for name in names:
        if name not in found:
            row = Source(name=name, kind="file", config={}, created_at=T0)
            session.add(row)
            session.flush()
            found[name] = row.id
    return found


def store_docs(
    session: Session, docs: Sequence[Doc], *, start: datetime = T0, step: timedelta = timedelta(hours=7)
) -> list[int]:
    """Store ``docs`` (one mention each, ``step`` apart) and return their ids in order."""
    sources = source_ids(session, sorted({d.source for d in docs if d.source}))
    ids: list[int] = []
    for index, doc in enumerate(docs):
        item = MentionIn(
            platform=doc.platform or "feed",
            external_id=f"doc-{index}-{len(ids)}-{start.timestamp()}",
            published_at=start + step * index,
            title=doc.title,
            text=doc.text,
            url=doc.url,
            author=AuthorIn(handle=doc.author) if doc.author else None,
        )
        result = store_batch(session, [item], source_id=sources.get(doc.source) if doc.source else None, now=T0)
        mid = session.scalar(
            select(Mention.id).where(Mention.platform == item.platform, Mention.external_id == item.external_id)
        )
        assert mid is not None, result
        session.execute(
            update(Mention).where(Mention.id == mid).values(lang=doc.lang, sentiment=doc.sentiment, intent=doc.intent)
        )
        ids.append(mid)
    return ids
