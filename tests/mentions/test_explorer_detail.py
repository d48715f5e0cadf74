"""get_detail: thread (parent, root, replies), reposts, author card numbers, analysis and corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from resonanz.analysis.models import AnalysisResult, Feedback
from resonanz.errors import NotFoundError
from resonanz.mentions.explorer import get_detail
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def item(ext: str, text: str, *, handle: str = "anna", minutes: int = 0, parent: str | None = None) -> MentionIn:
    return MentionIn(
        platform="mastodon",
        external_id=ext,
        published_at=T0 + timedelta(minutes=minutes),
        text=text,
        author=AuthorIn(handle=handle, name=handle.title(), followers=42 if handle == "anna" else None),
        parent_external_id=parent,
        raw={"id": ext, "content": f"<p>{text}</p>"},
        metrics={"likes": 3},
    )


def ids(session: Session) -> dict[str, int]:
    return {m.external_id: m.id for m in session.scalars(select(Mention))}


def test_thread_replies_and_reposts(session: Session) -> None:
    thread = [item("root", "Die Bahn ist wieder zu spät, das ist nicht akzeptabel", minutes=0)]
    thread.append(item("mid", "Antwort an die Bahn: bei mir auch", handle="bert", minutes=1, parent="root"))
    thread += [
        item(f"r{i}", f"Antwort Nummer {i} auf den Beitrag", handle="carla", minutes=2 + i, parent="mid")
        for i in range(55)
    ]
    thread.append(item("repost", "Die Bahn ist wieder zu spät, das ist nicht akzeptabel", handle="dora", minutes=90))
    store_batch(session, thread, source_id=None, now=T0 + timedelta(hours=2))
    session.commit()
    key = ids(session)

    detail = get_detail(session, id=key["mid"])
    assert detail.parent is not None and detail.parent.id == key["root"]
    assert detail.root is None  # the root is the parent: shown once
    assert detail.reply_count == 55 and len(detail.replies) == 50
    assert [r.id for r in detail.replies] == [key[f"r{i}"] for i in range(50)]  # oldest first
    assert detail.mention.raw == {"id": "mid", "content": "<p>Antwort an die Bahn: bei mir auch</p>"}

    deep = get_detail(session, id=key["r7"])
    assert deep.parent is not None and deep.parent.id == key["mid"]
    assert deep.root is not None and deep.root.id == key["root"]
    assert deep.replies == [] and deep.reply_count == 0

    root = get_detail(session, id=key["root"])
    assert root.parent is None and root.root is None and root.reply_count == 1
    assert root.duplicate_count == 1 and [d.id for d in root.duplicates] == [key["repost"]]
    repost = get_detail(session, id=key["repost"])
    assert repost.original is not None and repost.original.id == key["root"]


def test_author_card_counts_and_sentiment_split(session: Session) -> None:
    items = [item(f"a{i}", f"Beitrag {i} von Anna über den Tarif", minutes=i) for i in range(7)]
    items.append(item("b0", "Bert schreibt auch etwas", handle="bert"))
    store_batch(session, items, source_id=None, now=T0 + timedelta(hours=1))
    session.commit()
    key = ids(session)
    labels = ["negative", "negative", "positive", "neutral", "negative", None, "positive"]
    for i, label in enumerate(labels):
        session.execute(update(Mention).where(Mention.id == key[f"a{i}"]).values(sentiment=label))
    session.commit()
    card = get_detail(session, id=key["a3"]).author
    assert card is not None
    assert (card.handle, card.name, card.followers, card.platform) == ("anna", "Anna", 42, "mastodon")
    assert card.mention_count == 7
    assert card.sentiment_split == {"negative": 3, "positive": 2, "neutral": 1, "unknown": 1}
    stored = session.scalars(select(Author).where(Author.handle == "anna")).one()
    assert (card.first_seen_at, card.last_seen_at) == (stored.first_seen_at, stored.last_seen_at)


def test_analysis_results_with_reasons_and_corrections(session: Session) -> None:
    store_batch(session, [item("m", "Ich verklage euch wegen des Datenlecks")], source_id=None, now=T0)
    session.commit()
    mid = ids(session)["m"]
    session.add_all(
        [
            AnalysisResult(
                mention_id=mid, stage="crisis", version="3", revision=1, created_at=T0,
                result={"risk_score": 0.8, "reasons": [{"signal": "crisis_term", "value": "datenleck", "weight": 0.6}]},
            ),
            AnalysisResult(
                mention_id=mid, stage="sentiment", version="2", revision=0, created_at=T0, result={"label": "negative"}
            ),
            Feedback(
                mention_id=mid, task="sentiment", label="neutral", previous="negative", actor="anna@example.com",
                created_at=T0,
            ),
        ]
    )  # fmt: skip
    session.commit()
    detail = get_detail(session, id=mid)
    assert [(a.stage, a.current) for a in detail.analysis] == [("crisis", True), ("sentiment", False)]
    assert detail.analysis[0].result["reasons"][0]["value"] == "datenleck"
    assert [(c.task, c.label, c.previous) for c in detail.corrections] == [("sentiment", "neutral", "negative")]


def test_missing_mention_and_author(session: Session) -> None:
    with pytest.raises(NotFoundError):
        get_detail(session, id=999_999)
    store_batch(
        session, [item("lonely", "Ohne Autor geschrieben").model_copy(update={"author": None})], source_id=None, now=T0
    )
    session.commit()
    detail = get_detail(session, id=ids(session)["lonely"])
    assert detail.author is None and detail.parent is None and detail.source_name is None
