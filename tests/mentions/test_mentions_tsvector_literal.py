"""The fast path of tsvector_literal gives exactly the general path's literal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from resonanz.mentions import tokens
from resonanz.mentions.text import fold

WORDISH = st.text(alphabet=st.sampled_from(list("abcäöüßxyz019 '\\-.é\u00e7\u0416\u4e2d\u200b")), max_size=300)


@settings(max_examples=300, deadline=None)
@given(WORDISH)
def test_fast_and_general_literals_agree(raw: str) -> None:
    folded = fold(raw)
    assert tokens.tsvector_literal(folded) == tokens._tsvector_literal_general(folded, tokens.words(folded))


def test_long_and_repetitive_texts_take_the_general_path() -> None:
    folded = fold("bahn " * 300 + "x" * 600)
    literal = tokens.tsvector_literal(folded)
    assert literal.count(",") == 255  # at most 256 positions per word
    assert "x" * 600 not in literal or len(("x" * 600).encode()) <= tokens.PG_MAX_LEXEME_BYTES
