"""What queries mean: folding, phrases, wildcards, NEAR/ONEAR, fields, tags, handles and links;
and the multi-query matcher returning exactly what checking each query alone returns."""

from __future__ import annotations

import random

import pytest

from resonanz.listening.query import Doc, Matcher, PreparedDoc, compile_query
from resonanz.mentions.tokens import tsvector_literal, words

DOC = Doc(
    title="Störung bei der Bahn",
    text=(
        "Die Deutsche Bahn hat heute wieder massive Verspätung in Zürich, schreibt Müller. "
        "Mehr: https://www.Shop.Example.com/info #Bahnchaos @DB @anna@social.example e-mail: a@b.de"
    ),
    url="https://news.example.org/artikel/1",
    lang="de",
    platform="mastodon",
    source="Presse",
    author="@Anna",
    sentiment="negative",
    intent="complaint",
)


def matches(query: str, doc: Doc = DOC) -> bool:
    return compile_query(query).test(PreparedDoc(doc))


@pytest.mark.parametrize(
    "query",
    [
        "bahn", "BAHN", "stoerung", "Störung", "zuerich", "Zürich", "mueller", "MÜLLER",
        '"deutsche bahn"', '"Deutsche  Bahn hat"', "bah*", "verspät*", "verspaetung*", "m?eller", "z??rich",
        "st?erung", "deutsche bahn", "bahn OR flugzeug", "bahn NOT flugzeug", "(bahn OR zug) verspätung",
        "deutsche NEAR/1 hat", "hat NEAR/1 deutsche", "deutsche ONEAR/1 hat",
        '"deutsche bahn" NEAR/4 verspätung', "(flug OR verspätung) NEAR/4 bahn", "e-mail", '"e mail"',
        "lang:de", "platform:mastodon", "source:presse", "source:PRESSE", "author:@anna", "author:anna",
        "sentiment:negative", "intent:complaint", "has:link", "has:hashtag", "has:mention",
        "site:example.com", "site:shop.example.com", "site:example.org", "#bahnchaos", "#BahnChaos", "@db",
        "@anna", "@anna@social.example", "bahn lang:de NOT lang:en",
    ],
)  # fmt: skip
def test_matches(query: str) -> None:
    assert matches(query), query


@pytest.mark.parametrize(
    "query",
    [
        "flugzeug", "bahnhof", '"bahn deutsche"', '"deutsche hat"', "verspätungen", "m?ller", "bahn?",
        "bahn NOT verspätung", "deutsche ONEAR/5 störung",
        '"deutsche bahn" NEAR/3 verspätung', "hat ONEAR/1 deutsche", "deutsche NEAR/1 heute",
        "bahn NEAR/1 verspätung", "lang:en", "platform:feed", "source:blog", "author:@bob", "sentiment:positive",
        "intent:question", "site:example", "site:ample.com", "site:other.org", "#bahn", "@d", "@anna@other.example",
        "mail NOT e-mail", "lang:DE_AT",
    ],
)  # fmt: skip
def test_does_not_match(query: str) -> None:
    assert not matches(query), query


def test_near_counts_words_between() -> None:
    doc = Doc(text="eins zwei drei vier fünf")
    assert matches("eins NEAR/3 fuenf", doc) and not matches("eins NEAR/2 fuenf", doc)
    assert matches("fuenf NEAR/3 eins", doc) and not matches("fuenf ONEAR/3 eins", doc)
    assert matches('"eins zwei" ONEAR/1 vier', doc)
    assert not matches('"eins zwei" ONEAR/1 vier', Doc(text="eins zwei drei fünf vier"))
    assert not matches("bahn NEAR/1 bahn", Doc(text="bahn")), "one occurrence does not stand near itself"
    assert matches("bahn NEAR/1 bahn", Doc(text="bahn und bahn"))
    assert matches("(zwei OR sieben) NEAR/1 vier", doc)
    assert matches("zw* NEAR/1 vier", doc) and not matches("zw* ONEAR/1 eins", doc)


def test_question_mark_is_one_folded_character() -> None:
    assert matches("m??ller", Doc(text="Müller"))  # ü is folded to "ue": two characters
    assert not matches("m?ller", Doc(text="Müller"))
    assert matches("m?ller", Doc(text="Miller"))
    assert matches("stra??e", Doc(text="Straße"))


def test_title_and_text_are_searched_together_but_not_across() -> None:
    doc = Doc(title="Bahn", text="Chaos heute")
    assert matches('"bahn chaos"', doc)  # the index reads title then text, as one body
    assert matches("bahn chaos", doc)


def test_words_split_like_the_index() -> None:
    assert words("die strasse, e-mail: a@b.de 3.14 北京") == [
        "die",
        "strasse",
        "e",
        "mail",
        "a",
        "b",
        "de",
        "3",
        "14",
        "北京",
    ]
    assert tsvector_literal("bahn it's bahn") == "'bahn':1,4 'it':2 's':3"


QUERY_PARTS = [
    "bahn", "zug", "bah*", "streik", '"deutsche bahn"', "verspät*", "m?eller", "lang:de", "#bahn", "@db",
    "has:link", "site:example.com", "sentiment:negative", "ausfall", "störung", "kunden*", "service",
]  # fmt: skip
TEXT_PARTS = [
    "Die Bahn", "Deutsche Bahn", "Zug fällt aus", "Streik!", "#Bahn", "@DB", "Müller", "Meller", "Störung",
    "https://example.com/x", "Kundenservice", "Verspätung", "ausfall", "heute", "super", "schlecht",
]  # fmt: skip


def _random_query(rng: random.Random) -> str:
    parts = rng.sample(QUERY_PARTS, rng.randint(1, 3))
    joined = rng.choice([" ", " OR ", " AND "]).join(parts)
    if rng.random() < 0.3:
        joined = f"({joined}) NOT {rng.choice(QUERY_PARTS)}"
    if rng.random() < 0.2:
        joined = f"{rng.choice(['bahn', 'zug', 'streik'])} NEAR/{rng.randint(1, 4)} {rng.choice(['ausfall', 'heute'])}"
    return joined


def test_matcher_with_1000_queries_equals_each_query_alone() -> None:
    rng = random.Random(7)
    queries = {}
    for i in range(1000):
        queries[i] = compile_query(_random_query(rng))
    matcher = Matcher(queries)
    docs = [
        Doc(
            text=" ".join(rng.sample(TEXT_PARTS, rng.randint(1, 6))),
            lang=rng.choice(["de", "en"]),
            sentiment="negative",
        )
        for _ in range(300)
    ]
    total = 0
    for doc in docs:
        prepared = PreparedDoc(doc)
        expected = [k for k, q in queries.items() if q.test(prepared)]
        assert matcher.match(prepared) == expected
        # the inverted index does its job: far fewer queries are evaluated than exist
        assert len(matcher.candidates(prepared)) < len(queries)
        total += len(expected)
    assert total > 0
    assert matcher.match_batch(docs[:3]) == [matcher.match(d) for d in docs[:3]]


def test_prepared_doc_takes_the_body_ingest_folded() -> None:
    from resonanz.mentions.search_index import index_body

    doc = Doc(title="Störung", text="Die Straße ist gesperrt")
    given = PreparedDoc(doc, folded=index_body(doc.title, doc.text))
    assert given.word_list == PreparedDoc(doc).word_list == ["stoerung", "die", "strasse", "ist", "gesperrt"]
