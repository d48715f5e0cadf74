"""One semantics: for random queries and documents, the in-memory matcher and the SQL + full-text
index translation (FTS5 on SQLite, tsquery on PostgreSQL) select the same mentions."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from resonanz.listening.query import Doc, Matcher, PreparedDoc, QuerySyntaxError, compile_query
from resonanz.listening.service import matching_ids, try_query
from tests.listening.factories import store_docs

WORDS = [
    "bahn", "Bahn", "zug", "Straße", "STRASSE", "Müller", "mueller", "verspätung", "Verspaetung", "café",
    "cafe", "db", "streik", "ab", "abc", "e-mail", "mail", "deutsche", "Deutsche", "kaputt", "heute",
    "#Bahn", "#deutsche_bahn", "@db", "@anna@social.example", "https://www.example.com/x", "shop.example.com",
    "www.bahn.de/info", ",", "!", "-", "3.14", "naïve", "Zürich", "zuerich",
]  # fmt: skip
LEAVES = [
    "bahn", "zug", "strasse", "Straße", "müller", "verspätung", "cafe", "db", "streik", "abc", "mail",
    "bah*", "str*", "m?eller", "?ug", "verspaet*", "ca?e", '"deutsche bahn"', '"e mail"', '"bahn zug"',
    "#bahn", "#deutsche_bahn", "@db", "@anna", "has:link", "has:hashtag", "has:mention", "site:example.com",
    "site:bahn.de", "lang:de", "lang:en", "platform:mastodon", "sentiment:negative", "intent:complaint",
    "author:@anna", "source:presse", "e-mail", "3.14", "zuerich",
]  # fmt: skip
NEAR_SIDES = ["bahn", "zug", "streik", "bah*", '"deutsche bahn"', "(zug OR db)", "m?eller", "mail"]

docs_strategy = st.lists(
    st.builds(
        Doc,
        text=st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
        title=st.one_of(st.none(), st.sampled_from(["Bahn heute", "Zug kaputt", "Über die Straße"])),
        url=st.one_of(st.none(), st.sampled_from(["https://shop.example.com/p/1", "https://other.org/x"])),
        lang=st.sampled_from([None, "de", "en"]),
        platform=st.sampled_from(["feed", "mastodon"]),
        source=st.sampled_from([None, "Presse", "blog"]),
        author=st.sampled_from([None, "anna", "@Anna", "bob"]),
        sentiment=st.sampled_from([None, "negative", "positive"]),
        intent=st.sampled_from([None, "complaint", "question"]),
    ),
    min_size=1,
    max_size=8,
)


def _near() -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, op, n, b: f"{a} {op}/{n} {b}",
        st.sampled_from(NEAR_SIDES),
        st.sampled_from(["NEAR", "ONEAR"]),
        st.integers(1, 4),
        st.sampled_from(NEAR_SIDES),
    )


queries_strategy = st.recursive(
    st.one_of(st.sampled_from(LEAVES), _near()),
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} {b}", inner, inner),
        st.builds(lambda a, b: f"({a} AND {b})", inner, inner),
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a, b: f"{a} NOT {b}", inner, inner),
        st.builds(lambda a: f"NOT {a}", inner),
    ),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=docs_strategy, queries=st.lists(queries_strategy, min_size=1, max_size=4))
def test_matcher_and_index_select_the_same_mentions(session: Session, docs: list[Doc], queries: list[str]) -> None:
    compiled = {}
    for text in queries:
        try:
            compiled[text] = compile_query(text)
        except QuerySyntaxError:
            continue
    assume(compiled)
    try:
        ids = store_docs(session, docs)
        matcher = Matcher(compiled)
        expected: dict[str, set[int]] = {text: set() for text in compiled}
        for mid, doc in zip(ids, docs, strict=True):
            for text in matcher.match(doc):
                expected[text].add(mid)
        for text, query in compiled.items():
            # each query alone, evaluated exactly, must agree with the streaming matcher
            alone = {mid for mid, doc in zip(ids, docs, strict=True) if query.test(PreparedDoc(doc))}
            assert alone == expected[text], (text, docs)
            found = set(matching_ids(session, query))
            assert found == expected[text], (text, query.normalized, docs)
            draft = try_query(session, query=query, samples=2)
            assert draft.count == len(expected[text]), (text, draft)
    finally:
        session.rollback()


def _corpus() -> list[Doc]:
    """A fixed corpus that every leaf of the generator hits and misses somewhere."""
    import random

    rng = random.Random(5)
    docs = [
        Doc(
            text=" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 14))),
            title=rng.choice([None, "Bahn heute", "Über die Straße"]),
            url=rng.choice([None, "https://shop.example.com/p/1"]),
            lang=rng.choice([None, "de", "en"]),
            platform=rng.choice(["feed", "mastodon"]),
            source=rng.choice([None, "Presse", "blog"]),
            author=rng.choice([None, "anna", "@Anna", "bob"]),
            sentiment=rng.choice([None, "negative", "positive"]),
            intent=rng.choice([None, "complaint", "question"]),
        )
        for _ in range(60)
    ]
    return docs + [Doc(text=w) for w in WORDS]


FIXED_QUERIES = [
    *LEAVES,
    *(f"{a} {op}/{n} {b}" for a in NEAR_SIDES for b in NEAR_SIDES for op in ("NEAR", "ONEAR") for n in (1, 3)),
    "bahn NOT zug", "(bahn OR zug) NOT (streik OR db)", "NOT bah* lang:de", "mail NOT m?eller", "zug NOT ?ug",
    "(bahn NEAR/2 zug) OR lang:en", "#bahn NOT has:link", "strasse OR (müller NOT source:presse)",
]  # fmt: skip


def test_fixed_corpus_agrees_for_every_operator(session: Session) -> None:
    docs = _corpus()
    ids = store_docs(session, docs)
    compiled = {text: compile_query(text) for text in FIXED_QUERIES}
    matcher = Matcher(compiled)
    expected: dict[str, set[int]] = {text: set() for text in compiled}
    for mid, doc in zip(ids, docs, strict=True):
        for text in matcher.match(doc):
            expected[text].add(mid)
    nontrivial = 0
    for text, query in compiled.items():
        assert set(matching_ids(session, query)) == expected[text], text
        nontrivial += 0 < len(expected[text]) < len(docs)
    # the corpus really separates: nearly every query matches some mentions and misses others
    assert nontrivial >= len(compiled) * 0.8
