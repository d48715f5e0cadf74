"""The driver-level write path of store_batch: same stored values as the ORM would write, batch
order independence for threads, and the hashing/folding fast paths equal to their plain forms."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.db.types import UTCDateTime
from resonanz.mentions import bulk
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.schemas import AuthorIn, MentionIn
from resonanz.mentions.search import search_mentions
from resonanz.mentions.text import content_hash, digest, fold

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def mention(ext: str, text: str, **kw: object) -> MentionIn:
    data: dict[str, object] = {"platform": "feed", "external_id": ext, "published_at": T0, "text": text}
    data.update(kw)
    return MentionIn.model_validate(data)


def test_reply_listed_before_its_parent_in_one_batch(session: Session) -> None:
    """Feeds list newest first, so a reply often precedes its parent in the same batch."""
    result = store_batch(
        session,
        [
            mention("c2", "Antwort auf die Antwort, ganz unten im Thread", parent_external_id="c1"),
            mention("c1", "Eine Antwort auf den Beitrag, weiter oben", parent_external_id="p"),
            mention("p", "Der Beitrag selbst kommt zuletzt im Feed"),
        ],
        source_id=None,
        now=T0,
    )
    assert result.counts.new == 3
    session.commit()
    by_ext = {m.external_id: m for m in session.scalars(select(Mention))}
    assert by_ext["c2"].parent_id == by_ext["c1"].id
    assert by_ext["c1"].parent_id == by_ext["p"].id
    assert by_ext["p"].parent_id is None


def test_stored_values_read_back_like_orm_rows(session: Session) -> None:
    published = datetime(2026, 2, 3, 4, 5, 6, 789, tzinfo=timezone(timedelta(hours=2)))
    item = mention(
        "x",
        "Grüße aus Köln, der Zug war pünktlich",
        title="Lob",
        published_at=published,
        media=[{"url": "https://img.example/1.png"}],
        metrics={"likes": 3, "big": 2**70},
        raw={"ü": [1, 2.5, None, True], "nested": {"a": "b"}},
        author=AuthorIn(handle="anna", name="Anna", followers=7),
    )
    store_batch(session, [item], source_id=None, now=T0)
    session.commit()
    row = session.scalars(select(Mention)).one()
    assert row.published_at == published.astimezone(UTC)
    assert row.fetched_at == T0 and row.updated_at == T0
    assert row.media == item.media and row.metrics == item.metrics and row.raw == item.raw
    assert row.kind == "post" and row.revision == 1 and row.duplicate_of_id is None
    assert row.content_hash == content_hash(item.text, item.title)
    author = session.scalars(select(Author)).one()
    assert author.mention_count == 1 and author.last_seen_at == T0
    assert [m.id for m in search_mentions(session, query="gruesse koeln")] == [row.id]
    # A re-pull of the same item is recognised as unchanged: the stored hashes match.
    again = store_batch(session, [item], source_id=None, now=T0)
    assert again.counts.unchanged == 1


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 1, 1, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=UTC), T0 + timedelta(hours=5)],
)
def test_sqlite_datetime_matches_the_column_type(value: datetime) -> None:
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    proc = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert proc is not None
    assert bulk.sqlite_datetime(value) == proc(value)
    with pytest.raises(ValueError):
        bulk.sqlite_datetime(value.replace(tzinfo=None))


def test_dumps_falls_back_for_what_orjson_refuses() -> None:
    assert bulk.dumps({"a": [1, "ü"]}) == '{"a":[1,"ü"]}'
    assert bulk.dumps({1: "x"}) == '{"1": "x"}'
    assert bulk.dumps({"n": 2**70}) == '{"n": 1180591620717411303424}'


def _plain_fold(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold()
    folded = folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@pytest.mark.parametrize(
    "value", ["Straße", "Müller MÜLLER", "café naïve Ångström", "Ǆ ﬁ ① ｶ", "😡 x\u0303\u0301", "\u00a0a\u2003b\u3000"]
)
def test_fold_fast_path_equals_the_plain_definition(value: str) -> None:
    assert fold(value) == _plain_fold(value)


def test_hashes_equal_their_plain_definitions() -> None:
    text, title = "  Die App\u00a0stürzt\n\tab  ", "Titel"
    basis = re.sub(r"\s+", " ", _plain_fold(f"{title}\n{text}")).strip()
    assert content_hash(text, title) == hashlib.blake2b(basis.encode(), digest_size=16).hexdigest()
    h = hashlib.blake2b(digest_size=16)
    for part in ("a", None, "ü"):
        h.update((part or "").encode() + b"\x1f")
    assert digest("a", None, "ü") == h.hexdigest()
