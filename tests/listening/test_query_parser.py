"""The query language's syntax: normalised forms, precedence, limits and every error's column."""

from __future__ import annotations

import pytest

from resonanz.errors import InputError
from resonanz.listening.query import QuerySyntaxError, compile_query, parse, to_text
from resonanz.listening.query import ast as q
from resonanz.listening.query.lexer import MAX_LENGTH
from resonanz.listening.query.parser import MAX_DEPTH, MAX_TERMS


@pytest.mark.parametrize(
    ("query", "normalized"),
    [
        ("Bahn", "bahn"),
        ("Straße", "strasse"),  # ß and ss, ä and ae: one spelling
        ("Müller OR Mueller", "mueller OR mueller"),
        ("bahn zug", "bahn AND zug"),  # implicit AND
        ("bahn OR zug streik", "bahn OR (zug AND streik)"),  # AND binds tighter than OR
        ("(bahn OR zug) streik", "(bahn OR zug) AND streik"),
        ("NOT streik bahn", "NOT streik AND bahn"),  # NOT binds tightest
        ("bahn NOT (streik OR warnstreik)", "bahn AND NOT (streik OR warnstreik)"),
        ('"Deutsche Bahn"', '"deutsche bahn"'),
        ('"Bahn"', "bahn"),  # a one-word phrase is a word
        ("e-mail", '"e mail"'),  # punctuation inside a word: the words as a phrase
        ("example.com", '"example com"'),
        ("bahn*", "bahn*"),
        ("Verspät*", "verspaet*"),
        ("m?ller", "m?ller"),
        ("me?er*", "me?er*"),
        ("bahn NEAR/3 zug", "bahn NEAR/3 zug"),
        ("bahn near zug", "bahn AND near AND zug"),  # lower-case operators are words
        ("bahn and zug or not", "bahn AND and AND zug AND or AND not"),
        ('"deutsche bahn" ONEAR/2 (verspätung OR ausfall*)', '"deutsche bahn" ONEAR/2 (verspaetung OR ausfall*)'),
        ("bahn NEAR/2 zug OR db", "bahn NEAR/2 zug OR db"),  # NEAR binds tighter than OR and AND
        ("bahn NEAR/2 zug db", "bahn NEAR/2 zug AND db"),
        ("LANG:DE bahn", "lang:de AND bahn"),
        ("source:Presse platform:mastodon bahn", "source:presse AND platform:mastodon AND bahn"),
        ('source:"Presse Spiegel" bahn', 'source:"presse spiegel" AND bahn'),
        ("author:@Anna bahn", "author:@anna AND bahn"),
        ("author:anna bahn", "author:@anna AND bahn"),
        ("sentiment:negative intent:complaint bahn", "sentiment:negative AND intent:complaint AND bahn"),
        ("has:link site:Example.com", "has:link AND site:example.com"),
        ("#Bahn @DB", "#bahn AND @db"),
        ("#Straße", "#strasse"),
    ],
)
def test_normalised_form(query: str, normalized: str) -> None:
    tree = parse(query)
    assert to_text(tree) == normalized
    assert parse(normalized) == tree  # the normalised text means the same


def test_tree_shapes() -> None:
    assert parse("a b OR c") == q.Or((q.And((q.Term("a"), q.Term("b"))), q.Term("c")))
    assert parse("NOT a b") == q.And((q.Not(q.Term("a")), q.Term("b")))
    assert parse("a NEAR/2 b c") == q.And((q.Near(q.Term("a"), q.Term("b"), 2, False), q.Term("c")))
    assert parse("(a OR b) ONEAR/1 c") == q.Near(q.Or((q.Term("a"), q.Term("b"))), q.Term("c"), 1, True)
    assert parse("a AND (b AND c)") == q.And((q.Term("a"), q.Term("b"), q.Term("c")))  # flattened


@pytest.mark.parametrize(
    ("query", "column", "fragment"),
    [
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("bahn NEAR/ zug", 10, "NEAR/ needs a number"),
        ("deutsche bahn NEAR zug", 15, "NEAR/ needs a number"),
        ("bahn NEAR/0 zug", 11, "out of range"),
        ("bahn NEAR/x zug", 11, "needs a number, not 'x'"),
        ("bahn ONEAR/1000 zug", 12, "out of range"),
        ("NOT bahn", 1, "only of what must be absent"),
        ("NOT (bahn OR zug)", 1, "only of what must be absent"),
        ("bahn OR NOT zug", 9, "only of what must be absent"),
        ("NOT", 1, "NOT needs something"),
        ("bahn NOT", 6, "NOT needs something"),
        ("(bahn OR zug", 1, "never closed"),
        ("((bahn) OR zug", 1, "never closed"),
        ("bahn OR zug)", 12, "closes nothing"),
        ("()", 1, "empty parentheses"),
        ("bahn OR", 8, "ends where a word was expected"),
        ("OR bahn", 1, "OR where a word was expected"),
        ("bahn AND OR zug", 10, "OR where a word was expected"),
        ('bahn "deutsche', 6, "never closed"),
        ('""', 1, "no letters or digits"),
        ("b*", 1, "too few letters"),
        ("?*", 1, "too few letters"),
        ("b?", 1, "too few letters"),
        ("ba*hn", 3, "'*' may only end a word"),
        ("e-ma*", 1, "inside one word"),
        ("[a-z]+", 1, "'[' has no meaning"),
        ("bahn|zug", 5, "'|' has no meaning"),
        ("^bahn$", 1, "'^' has no meaning"),
        ("bahn && zug", 6, "write AND"),
        ("-streik bahn", 1, "write NOT streik"),
        ("foo:bar", 1, "unknown field 'foo'"),
        ("https://example.com", 1, "unknown field 'https'"),
        ("lang:", 6, "lang: needs a value"),
        ("sentiment:angry", 11, "not a known value"),
        ("has:video", 5, "not a known value"),
        ("#", 1, "needs a hashtag"),
        ("@", 1, "needs an account"),
        ("!!!", 1, "no letters or digits"),
        ("bahn NEAR/2 NOT zug", 13, "needs a word, a phrase"),
        ("lang:de NEAR/2 zug", 1, "needs a word, a phrase"),
        ("bahn NEAR/2 zug NEAR/2 db", 17, "exactly two"),
        ("(a AND b) NEAR/2 c", 1, "needs a word, a phrase"),
    ],
)
def test_errors_point_at_the_column(query: str, column: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    err = caught.value
    assert fragment in str(err)
    assert err.column == column, str(err)
    assert str(err).startswith(f"column {column}: ")
    assert isinstance(err, InputError) and err.location == f"column {column}"
    assert err.caret().splitlines()[-1] == " " * (column - 1) + "^"


def test_near_needs_a_number_reads_like_the_issue() -> None:
    with pytest.raises(QuerySyntaxError, match=r"^column 14: NEAR/ needs a number"):
        parse("bahn zug NEAR/ ausfall")


def test_limits() -> None:
    with pytest.raises(QuerySyntaxError, match="characters long"):
        parse("bahn " * (MAX_LENGTH // 5 + 1))
    with pytest.raises(QuerySyntaxError, match=f"more than {MAX_TERMS} terms") as caught:
        parse(" OR ".join(f"w{i}" for i in range(MAX_TERMS + 1)))
    assert caught.value.column > 1
    with pytest.raises(QuerySyntaxError, match="nests deeper"):
        parse("(" * (MAX_DEPTH + 1) + "bahn" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QuerySyntaxError, match="nests deeper"):
        parse("bahn " + "NOT " * (MAX_DEPTH + 1) + "zug")
    with pytest.raises(QuerySyntaxError, match="pairs"):
        ors = "(" + " OR ".join(f"a{i}" for i in range(9)) + ")"
        parse(f"{ors} NEAR/2 {ors}")
    # a 10,000-term query is refused quickly, never a RecursionError
    with pytest.raises(QuerySyntaxError):
        parse(" ".join(["x"] * 10_000))
    parse("(" * MAX_DEPTH + "bahn" + ")" * MAX_DEPTH)  # the limit itself is fine


def test_compiled_query_is_rebuilt_from_its_text() -> None:
    first = compile_query('"Deutsche Bahn" NEAR/3 verspät* lang:de')
    again = compile_query(first.text)
    assert again.tree == first.tree and again.normalized == first.normalized
    assert compile_query(first.normalized).tree == first.tree


def test_documented_errors_are_the_real_ones() -> None:
    """docs/query-language.md's error table: each query fails at the column and with the text shown."""
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "query-language.md"
    rows = [
        re.match(r"\| `(.*?)`(?: \(empty\))? \| column (\d+): (.*?) \|$", line)
        for line in doc.read_text(encoding="utf-8").splitlines()
    ]
    checked = 0
    for row in filter(None, rows):
        query, column, message = row.group(1), int(row.group(2)), row.group(3).split(" (")[0]
        with pytest.raises(QuerySyntaxError) as caught:
            parse(query)
        assert caught.value.column == column and str(caught.value).startswith(f"column {column}: {message}"), query
        checked += 1
    assert checked >= 10
