"""The batch matcher (:mod:`resonanz.listening.query.batch`) answers exactly what the per-mention
matcher and each query alone answer: for random queries and mentions (hypothesis), for every
operator on a fixed corpus, for 1,000 queries at once, and for the shapes it answers in numpy
(conjunctions with fields, NEAR from the automaton's positions, spelled-out ``?`` patterns, tested
hashtags and handles) next to text beyond ASCII."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from resonanz.listening.query import Doc, Matcher, PreparedDoc, QuerySyntaxError, compile_query
from resonanz.listening.query.ast import Pattern
from resonanz.listening.query.batch import match_prepared
from resonanz.listening.query.batch_leaves import spelled_keys
from resonanz.listening.query.match import fold_and_join, fold_and_join_batch
from resonanz.mentions.text import fold
from tests.listening.test_query_history_property import FIXED_QUERIES, _corpus, docs_strategy, queries_strategy
from tests.listening.test_query_match import TEXT_PARTS, _random_query


def agree(queries: dict[Any, str], docs: list[Doc]) -> list[list[Any]]:
    """The batch's answer, after asserting it equals the per-mention matcher and each query alone
    (for plain docs and for docs already prepared, as ingest hands them over)."""
    compiled = {key: compile_query(text) for key, text in queries.items()}
    matcher = Matcher(compiled)
    batch = match_prepared(matcher, matcher._tables, docs)
    prepared = [PreparedDoc(doc) for doc in docs]
    assert match_prepared(matcher, matcher._tables, prepared) == batch
    for doc, found in zip(prepared, batch, strict=True):
        assert found == matcher.match(doc), doc.doc
        assert found == [key for key, query in compiled.items() if query.test(doc)], doc.doc
    assert matcher.match_batch(docs) == batch
    # the bodies ingest folded for the index handed over; half the mentions already prepared
    bodies = [fold(f"{doc.title}\n{doc.text}" if doc.title else doc.text) for doc in docs]
    assert match_prepared(matcher, matcher._tables, docs, bodies) == batch
    mixed = [PreparedDoc(doc) if i % 2 else doc for i, doc in enumerate(docs)]
    assert match_prepared(matcher, matcher._tables, mixed, bodies) == batch
    # the pure-Python key finder (no C compiler at install time) answers the same
    pure = Matcher(compiled, native=False)
    assert match_prepared(pure, pure._tables, docs) == batch
    assert [pure.match(doc) for doc in prepared] == batch
    return batch


#: bodies that stress the batch split: NUL and \x01 inside, punctuation only, umlauts, emoji that
#: FTS5 keeps as word characters and some it drops, CJK, ligatures, combining marks, Greek, tags
ODD_SAMPLES = [
    "", "!!!", "Straße", "Müller-Lüdenscheidt", "a\x00b", "\x01", "🚆 #Bahn", "x\ny", "  ", "🤷🏽\u200d♀️ läuft",
    "日本語のテキスト", "ﬁnal Ǆ İstanbul", "e\u0301 –\u00a0x", "Ωμέγα ΣΊΣΥΦΟΣ", "\U000e0001 tag",
]  # fmt: skip
ODD_TEXTS = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(ODD_SAMPLES)), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(texts=ODD_TEXTS, titles=st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=12, max_size=12))
def test_batch_folding_and_splitting_equals_the_per_mention_one(texts: list[str], titles: list[str | None]) -> None:
    """Bodies of any text (NUL and \\x01 inside, nothing but punctuation, beyond ASCII, empty) are
    folded and split as :func:`fold_and_join` does one by one; a NUL in one body sends the batch
    the per-mention way."""
    docs = [Doc(text=text, title=title) for text, title in zip(texts, titles, strict=False)]
    expected = [fold_and_join(doc) for doc in docs]
    bodies, joined = fold_and_join_batch(docs)
    assert list(zip(bodies, joined, strict=True)) == expected
    assert fold_and_join_batch(docs, bodies) == (bodies, joined)


@settings(max_examples=150, deadline=None)
@given(docs=docs_strategy, queries=st.lists(queries_strategy, min_size=1, max_size=6))
def test_random_queries_and_mentions_agree(docs: list[Doc], queries: list[str]) -> None:
    valid = {}
    for text in queries:
        try:
            compile_query(text)
        except QuerySyntaxError:
            continue
        valid[len(valid)] = text
    assume(valid)
    agree(valid, docs)


def test_every_operator_on_the_fixed_corpus() -> None:
    found = agree(dict(enumerate(FIXED_QUERIES)), _corpus())
    assert sum(map(len, found)) > 100


def test_a_thousand_queries_over_chunks_of_mentions() -> None:
    rng = random.Random(11)
    queries = {i: _random_query(rng) for i in range(1000)}
    docs = [
        Doc(
            text=" ".join(rng.sample(TEXT_PARTS, rng.randint(0, 6))),
            lang=rng.choice(["de", "en", None]),
            sentiment=rng.choice(["negative", "positive"]),
        )
        for _ in range(1300)  # more than one numpy pass (1,024)
    ]
    compiled = {k: compile_query(q) for k, q in queries.items()}
    matcher = Matcher(compiled)
    batch = matcher.match_batch(docs)
    assert batch == [matcher.match(doc) for doc in docs]
    assert sum(map(len, batch)) > 1000
    assert Matcher(compiled, native=False).match_batch(docs) == batch


def test_shapes_answered_in_numpy() -> None:
    queries = {
        "and-fields": "bahn streik lang:de NOT sentiment:positive",
        "not-field": "lang:de NOT bahn",
        "fields-only": "lang:en intent:complaint",
        "near-phrase": '"deutsche bahn" NEAR/2 (streik OR ausfall*)',
        "onear": "zug ONEAR/1 kaputt",
        "same-word": "bahn NEAR/1 bahn",
        "or-near": "m?ller OR (zug ONEAR/3 heute)",
        "spelled": "stra?e",
        "two-marks": "m??ller",
        "three-marks": "m???er",
        "prefix-mark": "verspa?t*",
        "tag": "#bahn OR @db",
        "tag-and": "#streik lang:de",
        "handle-server": "@anna@social.example",
    }
    docs = [
        Doc(text="Die Deutsche Bahn: Streik!", lang="de", sentiment="negative"),
        Doc(text="deutsche   bahn, heute kein streik", lang="de", sentiment="positive"),
        Doc(text="Zug heute kaputt", lang="en", intent="complaint"),
        Doc(text="kaputt der Zug", lang="de"),
        Doc(text="bahn bahn", lang=None),
        Doc(text="Müller und Möller, Mαller"),  # Greek alpha: a '?' beyond ASCII, the regex decides
        Doc(text="Straße strabe straxe stra e"),
        Doc(text="verspaetet verspaaet verspätung"),
        Doc(text="#Bahn ist #streik https://x.example/#bahn", lang="de"),
        Doc(text="bahn und # ohne tag, @dbx", lang="de"),
        Doc(text="@Anna@social.example schreibt @db", lang="en"),
        Doc(text="", lang="de"),
        Doc(text="    ", title="Bahn"),
        Doc(text="Ζug ΚΑΠΟΥΤ und Bahn"),  # Greek capitals
    ]
    matcher = Matcher({key: compile_query(text) for key, text in queries.items()})
    assert matcher._tables.vectorised.all()  # no generated check runs for these shapes
    found = dict(zip((d.text for d in docs), agree(queries, docs), strict=True))
    assert "spelled" in found["Straße strabe straxe stra e"]
    assert "two-marks" in found["Müller und Möller, Mαller"]  # "mueller": two letters for '??'
    assert "near-phrase" in found["Die Deutsche Bahn: Streik!"]
    assert "onear" in found["Zug heute kaputt"] and "onear" not in found["kaputt der Zug"]
    assert "tag" in found["#Bahn ist #streik https://x.example/#bahn"]
    assert "tag" not in found["bahn und # ohne tag, @dbx"]
    assert "handle-server" in found["@Anna@social.example schreibt @db"]


def test_spelled_keys_cover_the_ascii_letters_and_stop_at_three_marks() -> None:
    keys = spelled_keys(Pattern("kaum?"))
    assert len(keys) == 36 and " kauma " in keys and " kaum9 " in keys
    assert spelled_keys(Pattern("m?ll?r*"))[0] == " m0ll0r"  # a prefix: no closing space
    assert spelled_keys(Pattern("m???er")) == []  # 46,656 keys: tested instead
