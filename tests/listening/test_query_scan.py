"""The matcher's engine (:mod:`resonanz.listening.query.scan`): one Aho–Corasick pass, triggers
of one or two keys, generated checks. Every test compares the matcher with each query checked alone
(:attr:`CompiledQuery.test`, the language's semantics) and with what a reader expects."""

from __future__ import annotations

import random

from resonanz.listening.query import Doc, Matcher, PreparedDoc, QuerySyntaxError, compile_query
from resonanz.listening.query.ast import Pattern
from resonanz.listening.query.scan import AT_MARK, HASH_MARK, pattern_pieces, triggers
from resonanz.mentions.tokens import words


def run(queries: list[str], docs: list[Doc]) -> list[list[str]]:
    """The matcher's answer per doc, after asserting that it equals each query alone."""
    compiled = {q: compile_query(q) for q in queries}
    matcher = Matcher(compiled)
    answers = []
    for doc in docs:
        prepared = PreparedDoc(doc)
        alone = [q for q, c in compiled.items() if c.test(prepared)]
        assert matcher.match(prepared) == alone, (doc, alone)
        assert matcher.match(doc) == alone  # a Doc is prepared by the matcher the same way
        answers.append(alone)
    return answers


def texts(*values: str) -> list[Doc]:
    return [Doc(text=v) for v in values]


def test_wildcard_stems_and_single_letters() -> None:
    queries = ["verspät*", "bahn*", "st?rung", "?ug", "organi?ation", "m??ller", "ab*"]
    got = run(
        queries,
        texts("Verspätungen heute", "Bahnhof", "Störung", "Storung", "Zug", "Zuge", "Organisation", "Müller", "a b c"),
    )
    assert got == [
        ["verspät*"],
        ["bahn*"],
        [],  # "störung" is folded to "stoerung": one '?' is one folded letter
        ["st?rung"],
        ["?ug"],
        [],  # "?ug" is a whole word: "zuge" is not
        ["organi?ation"],
        ["m??ller"],
        [],  # "ab*" wants a word starting with "ab", not "a" and "b"
    ]  # fmt: skip


def test_umlauts_and_sharp_s_meet_their_spelled_out_forms() -> None:
    queries = ["müller", "mueller", "straße", "STRASSE", '"große straße"', "grüß*"]
    got = run(queries, texts("MÜLLER sagt", "Mueller sagt", "Die Strasse", "die große Straße", "Grüße!"))
    assert got == [
        ["müller", "mueller"],
        ["müller", "mueller"],
        ["straße", "STRASSE"],
        ["straße", "STRASSE", '"große straße"'],
        ["grüß*"],
    ]


def test_phrases_need_consecutive_words_and_cross_from_title_to_text() -> None:
    queries = ['"deutsche bahn"', '"bahn deutsche"', '"e mail"', "e-mail", '"bahn chaos"']
    docs = [
        *texts("Die Deutsche, Bahn!", "Bahn. Deutsche", "deutsche die bahn", "E-Mail"),
        Doc(title="Bahn", text="Chaos"),
    ]
    assert run(queries, docs) == [
        ['"deutsche bahn"'],
        ['"bahn deutsche"'],
        [],
        ['"e mail"', "e-mail"],
        ['"bahn chaos"'],
    ]


def test_near_and_onear_through_the_matcher() -> None:
    queries = [
        "bahn NEAR/1 streik",
        "streik ONEAR/1 bahn",
        "(zug OR bahn) NEAR/2 kaputt",
        '"deutsche bahn" NEAR/1 streik',
    ]
    got = run(
        queries, texts("Bahn heute Streik", "Streik bei der Bahn", "Zug ist leider kaputt", "Deutsche Bahn: Streik")
    )
    assert got == [
        ["bahn NEAR/1 streik"],
        [],  # two words between them
        ["(zug OR bahn) NEAR/2 kaputt"],
        ["bahn NEAR/1 streik", '"deutsche bahn" NEAR/1 streik'],
    ]


def test_queries_sharing_keys_are_each_decided_or_checked() -> None:
    queries = [
        "bahn",
        "bahn OR zug",
        "bahn streik",
        "bahn NOT streik",
        '"bahn streik"',
        "bahn NEAR/2 streik",
        "bahn lang:de",
    ]
    docs = [
        Doc(text="Bahn", lang="de"),
        Doc(text="Bahn Streik", lang="en"),
        Doc(text="Streik bei der lahmen Bahn", lang="de"),
        Doc(text="Zug", lang="de"),
    ]
    assert run(queries, docs) == [
        ["bahn", "bahn OR zug", "bahn NOT streik", "bahn lang:de"],
        ["bahn", "bahn OR zug", "bahn streik", '"bahn streik"', "bahn NEAR/2 streik"],
        ["bahn", "bahn OR zug", "bahn streik", "bahn lang:de"],
        ["bahn OR zug"],
    ]


def test_queries_without_triggers_are_checked_for_every_mention() -> None:
    queries = ["lang:de", "lang:en NOT bahn", "sentiment:negative NOT streik", "bahn OR lang:en"]
    matcher = Matcher({q: compile_query(q) for q in queries})
    assert sorted(matcher.always) == [0, 1, 2, 3]
    docs = [Doc(text="Bahn", lang="de", sentiment="negative"), Doc(text="Streik", lang="en", sentiment="negative")]
    assert run(queries, docs) == [
        ["lang:de", "sentiment:negative NOT streik", "bahn OR lang:en"],
        ["lang:en NOT bahn", "bahn OR lang:en"],
    ]


def test_hashtags_and_handles_need_their_mark_in_the_text() -> None:
    queries = ["#bahn", "@db", "@anna", "@anna@social.example", "has:hashtag", "has:mention", "#bahn OR @db"]
    got = run(
        queries,
        texts(
            "Bahn und DB ohne Zeichen", "#Bahn heute", "Fragt @DB", "https://x.example/#bahn", "@anna@social.example"
        ),
    )
    assert got == [
        [],
        ["#bahn", "has:hashtag", "#bahn OR @db"],
        ["@db", "has:mention", "#bahn OR @db"],
        [],  # a fragment of a link is no hashtag
        ["@anna", "@anna@social.example", "has:mention"],
    ]
    assert triggers(compile_query("#bahn").tree) == frozenset({(" bahn ", HASH_MARK)})
    assert triggers(compile_query("has:mention").tree) == frozenset({(AT_MARK,)})


def test_and_triggers_on_a_pair_and_or_on_any_operand() -> None:
    assert triggers(compile_query("nordwelle kaputt sentiment:negative").tree) == frozenset(
        {(" nordwelle ", " kaputt ")}
    )
    assert triggers(compile_query("bahn OR zug*").tree) == frozenset({(" bahn ",), (" zug",)})
    assert triggers(compile_query("lang:de NOT bahn").tree) is None
    # a pattern triggers on its literal pieces, longest first; each must be in the joined words
    assert pattern_pieces(Pattern("organi?ation")) == [" organi", "ation "]
    assert pattern_pieces(Pattern("m?ller*")) == ["ller"]
    matcher = Matcher({"q": compile_query("nordwelle kaputt")})
    lone = PreparedDoc(Doc(text="Nordwelle ist toll"))
    assert matcher.candidates(lone) == set(), "one word of the pair is not enough to be checked"
    assert matcher.candidates(PreparedDoc(Doc(text="Nordwelle kaputt"))) == {0}


def test_a_new_matcher_for_changed_queries_leaves_the_old_one_as_it_was() -> None:
    doc = Doc(text="Streik bei der Bahn")
    old = Matcher({1: compile_query("bahn"), 2: compile_query("zug")})
    new = Matcher({1: compile_query("zug"), 2: compile_query("streik"), 3: compile_query("bahn NOT streik")})
    assert old.match(doc) == [1]
    assert new.match(doc) == [2]
    assert old.match(doc) == [1]


def test_non_ascii_text_takes_the_index_tokeniser() -> None:
    doc = PreparedDoc(Doc(text="Café in 北京 — naïve 🚆 Zürich"))
    assert doc.word_list == words(doc.folded) == ["cafe", "in", "北京", "naive", "zuerich"]
    assert run(["北京", "cafe", "naive NEAR/1 zuerich", '"in 北京"'], [doc.doc]) == [
        ["北京", "cafe", "naive NEAR/1 zuerich", '"in 北京"']
    ]


def test_ascii_split_agrees_with_the_index_tokeniser() -> None:
    rng = random.Random(3)
    alphabet = "abcxyz019 _-.,:;!?'\"@#/\\()[]{}<>|~^`$%&*+=\n\t"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        prepared = PreparedDoc(Doc(text=text))
        assert prepared.word_list == words(prepared.folded), text
        # one space around each word; a mention without words is one space
        assert prepared.joined == (f" {' '.join(prepared.word_list)} " if prepared.word_list else " ")


def test_random_queries_of_every_kind_agree_with_each_query_alone() -> None:
    rng = random.Random(11)
    vocab = ["bahn", "zug", "streik", "störung", "müller", "straße", "kaputt", "deutsche", "heute", "app"]
    leaves = [
        *vocab, "bah*", "st?rung", "?ug", "m??ller", '"deutsche bahn"', '"zug kaputt"', "#bahn", "@db", "@anna",
        "has:link", "has:hashtag", "has:mention", "lang:de", "sentiment:negative", "site:example.com",
        "source:presse", "author:@anna",
    ]  # fmt: skip
    near_sides = ["bahn", "zug", "bah*", '"deutsche bahn"', "(zug OR streik)", "st?rung"]

    def query(depth: int = 0) -> str:
        roll = rng.random()
        if depth > 2 or roll < 0.35:
            return rng.choice(leaves)
        if roll < 0.5:
            op = rng.choice(["NEAR", "ONEAR"])
            return f"{rng.choice(near_sides)} {op}/{rng.randint(1, 3)} {rng.choice(near_sides)}"
        if roll < 0.65:
            return f"({query(depth + 1)} OR {query(depth + 1)})"
        if roll < 0.85:
            return f"({query(depth + 1)} {query(depth + 1)})"
        return f"({query(depth + 1)} NOT {query(depth + 1)})"

    extras = ["#Bahn", "@DB", "@anna@social.example", "https://shop.example.com/x", "Straße", "北京", "!", "-"]
    docs = [
        Doc(
            text=" ".join(rng.choice(vocab + extras) for _ in range(rng.randint(0, 12))),
            title=rng.choice([None, "Deutsche Bahn", "Zug kaputt"]),
            url=rng.choice([None, "https://www.example.com/a"]),
            lang=rng.choice([None, "de", "en"]),
            source=rng.choice([None, "Presse"]),
            author=rng.choice([None, "@Anna"]),
            sentiment=rng.choice([None, "negative"]),
        )
        for _ in range(300)
    ]
    queries = []
    for text in dict.fromkeys(query() for _ in range(400)):
        try:
            compile_query(text)
        except QuerySyntaxError:  # e.g. two NEARs side by side: the generator does not avoid them
            continue
        queries.append(text)
    assert len(queries) > 200
    answers = run(queries, docs)
    assert sum(map(len, answers)) > len(docs)  # the corpus matches, often


def test_matchers_without_words_need_no_automaton() -> None:
    assert Matcher({}).match(Doc(text="Bahn")) == []
    fields = Matcher({"tagged": compile_query("has:hashtag"), "german": compile_query("lang:de")})
    assert fields.atom_count == 1  # the '#' mark, looked up in the text, not in an automaton
    assert fields.match(Doc(text="#bahn", lang="de")) == ["tagged", "german"]
    assert fields.match(Doc(text="bahn", lang="en")) == []
