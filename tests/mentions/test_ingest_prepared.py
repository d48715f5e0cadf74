"""The trusted constructor and the prepared form: equal to validated models and to the plain
computations, and the author cache's staging."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from resonanz.connectors.base import RawItem
from resonanz.connectors.file.parse import decode_record, parse_record
from resonanz.errors import ParseError
from resonanz.mentions.ingest import AuthorCache
from resonanz.mentions.prepared import Prepared, prepare, revision_hash
from resonanz.mentions.schemas import AuthorIn, MentionIn, construct_trusted
from resonanz.mentions.text import content_hash, fold
from resonanz.sources.import_worker import PreparedBatch

RECORDS: list[dict[str, Any]] = [
    {"id": "1", "text": "Hallo Welt, die Straße ist gesperrt", "published_at": "2026-03-01T12:00:00+02:00"},
    {
        "id": " 2 ",
        "platform": "Forum",
        "title": "Café-Kritik",
        "html": "<p>Sehr <b>gut</b><script>x()</script></p>",
        "published_at": 1767225600123,
        "author": {"handle": "anna", "name": "Anna", "followers": "12"},
        "parent_id": "1",
        "kind": "Comment",
        "language": "DE",
        "media": ["https://img.example/a.png"],
        "metrics": {"likes": 3},
        "shares": "2",
        "extra": [1, 2.5, None],
    },
    {"id": "3", "text": "nur Name", "published_at": "Sun, 01 Mar 2026 10:00:00 GMT", "author_name": "Bert"},
]


@pytest.mark.parametrize("data", RECORDS)
def test_parsed_mentions_equal_validated_ones(data: dict[str, Any]) -> None:
    parsed = parse_record(RawItem(payload=json.dumps(data).encode(), location="line 1"))
    validated = MentionIn.model_validate(parsed.model_dump())
    assert parsed == validated and validated == parsed
    assert parsed.model_dump() == validated.model_dump()
    assert parsed.model_fields_set == set(MentionIn.model_fields)
    if parsed.author is not None:
        assert parsed.author == AuthorIn.model_validate(parsed.author.model_dump())


def test_construct_trusted_sets_what_pydantic_would() -> None:
    values = {"handle": "anna", "name": None, "url": None, "followers": 3}
    built = construct_trusted(AuthorIn, dict(values))
    assert built == AuthorIn(**values) and built.model_fields_set == set(values)
    assert built.model_copy(update={"name": "A"}).name == "A"
    assert pickle.loads(pickle.dumps(built)) == built


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a": 1',
        b"[1, 2",
        b'{"n": NaN}',
        b'{"big": 123456789012345678901234567890, "f": 0.1000000000000000055511151231257827}',
        b'{"u64": 18446744073709551615, "neg": -9223372036854775808}',
        b'{"s": "\\ud800"}',
        b'{"k": 1, "k": 2, "e": 1e400}',
    ],
)
def test_json_decoding_matches_the_standard_library(payload: bytes) -> None:
    """orjson first, the standard library for what it refuses: values and messages as before."""
    try:
        expected: Any = json.loads(payload.decode())
    except json.JSONDecodeError as exc:
        with pytest.raises(ParseError) as caught:
            decode_record(payload)
        assert exc.msg in str(caught.value)
        return
    assert decode_record(payload) == expected or (expected != expected)  # NaN is not equal to itself


def test_prepared_values_are_the_plain_computations() -> None:
    m = parse_record(RawItem(payload=json.dumps(RECORDS[1]).encode(), location="line 1"))
    p = prepare(m)
    assert p.body == fold(f"{m.title}\n{m.text}")
    assert p.content_hash == content_hash(m.text, m.title)
    assert p.revision_hash == revision_hash(m)
    assert (p.handle, p.author_name, p.followers) == ("anna", "Anna", 12)
    assert json.loads(p.media) == m.media and json.loads(p.metrics) == m.metrics and json.loads(p.raw) == m.raw
    assert p.thread == "1" and p.kind == "comment" and p.published_at.tzinfo is UTC


def test_prepared_batches_pickle_as_named_tuples() -> None:
    item = prepare(MentionIn(platform="x", external_id="1", published_at=datetime(2026, 1, 1, tzinfo=UTC), text="t"))
    batch = PreparedBatch(items=[item, item], positions=[10])
    back = pickle.loads(pickle.dumps(batch))
    assert back.items == [item, item] and isinstance(back.items[0], Prepared) and back.positions == [10]


def test_author_cache_keeps_committed_entries_only() -> None:
    cache = AuthorCache(limit=2)
    cache.staged[("x", "a")] = (1, "A", None)
    assert cache.get(("x", "a")) == (1, "A", None)
    cache.rollback()
    assert cache.get(("x", "a")) is None
    cache.staged[("x", "a")] = (1, "A", None)
    cache.commit()
    assert cache.get(("x", "a")) == (1, "A", None)
    cache.staged.update({("x", "b"): (2, None, None), ("x", "c"): (3, None, None)})
    cache.commit()  # over the limit: starts over with the newest entries
    assert cache.get(("x", "a")) is None and cache.get(("x", "c")) == (3, None, None)
