"""store_batch: upsert by key, edits, cross-source reposts, thread linkage, the search index."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.search import search_mentions

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make(ext: str, text: str = "Der Kundenservice der Bahn war heute wirklich hervorragend", **kw: object) -> MentionIn:
    data: dict[str, object] = {
        "platform": "feed",
        "external_id": ext,
        "published_at": T0,
        "text": text,
        "author": AuthorIn(handle="anna", name="Anna"),
    }
    data.update(kw)
    return MentionIn.model_validate(data)


def test_new_then_unchanged_then_edited(session: Session) -> None:
    first = store_batch(session, [make("a", "Erster Text über die Straße nach Berlin")], source_id=None, now=T0)
    assert first.counts.new == 1
    again = store_batch(session, [make("a", "Erster Text über die Straße nach Berlin")], source_id=None, now=T0)
    assert again.counts.unchanged == 1 and again.counts.new == 0
    edited = store_batch(session, [make("a", "Geänderter Text zur Strasse")], source_id=None, now=T0)
    assert edited.counts.updated == 1
    session.commit()
    rows = session.scalars(select(Mention)).all()
    assert len(rows) == 1 and rows[0].revision == 2 and rows[0].text == "Geänderter Text zur Strasse"
    # the index follows the edit: the old words are gone, the new ones found with folding
    assert search_mentions(session, query="Berlin") == []
    assert [m.id for m in search_mentions(session, query="straße")] == [rows[0].id]


def test_folding_case_sharp_s_and_umlauts(session: Session) -> None:
    store_batch(
        session,
        [make("1", "Kundenservice an der Straße"), make("2", "Müller fährt Bahn", author=None)],
        source_id=None,
        now=T0,
    )
    session.commit()
    assert len(search_mentions(session, query="kundenservice")) == 1
    assert len(search_mentions(session, query="STRASSE")) == 1
    assert len(search_mentions(session, query="mueller")) == 1
    assert len(search_mentions(session, query="faehrt")) == 1
    assert len(search_mentions(session, query="kunden*")) == 1
    assert len(search_mentions(session, query='"an der strasse"')) == 1
    assert search_mentions(session, query='"der an"') == []


def test_reposts_are_linked_and_in_batch_duplicates_counted(session: Session) -> None:
    text = "Die App stürzt beim Bezahlen ständig ab, bitte dringend beheben!"
    result = store_batch(
        session,
        [make("x1", text), make("x1", text), make("y1", text.upper(), platform="file")],
        source_id=None,
        now=T0,
    )
    assert result.counts.new == 1 and result.counts.duplicate == 2
    session.commit()
    original, repost = session.scalars(select(Mention).order_by(Mention.id)).all()
    assert repost.duplicate_of_id == original.id and original.duplicate_of_id is None


def test_replies_link_to_parents_in_either_order(session: Session) -> None:
    store_batch(session, [make("c1", "Ein Kommentar ohne Beitrag", parent_external_id="p1")], source_id=None, now=T0)
    store_batch(session, [make("p1", "Der Beitrag selbst, etwas später geladen")], source_id=None, now=T0)
    store_batch(session, [make("c2", "Zweiter Kommentar zum Beitrag", parent_external_id="p1")], source_id=None, now=T0)
    session.commit()
    by_ext = {m.external_id: m for m in session.scalars(select(Mention))}
    assert by_ext["c1"].parent_id == by_ext["p1"].id
    assert by_ext["c2"].parent_id == by_ext["p1"].id
    assert by_ext["c1"].thread_external_id == "p1"


def test_authors_are_upserted_and_counted(session: Session) -> None:
    store_batch(session, [make("a1", "eins zwei drei vier fünf sechs sieben")], source_id=None, now=T0)
    store_batch(
        session,
        [make("a2", "acht neun zehn elf zwölf dreizehn", author=AuthorIn(handle="anna", name="Anna B.", followers=5))],
        source_id=None,
        now=T0,
    )
    session.commit()
    (author,) = session.scalars(select(Author)).all()
    assert author.mention_count == 2 and author.name == "Anna B." and author.followers == 5
