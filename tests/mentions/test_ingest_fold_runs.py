"""fold() strips marks per non-ASCII run: equal to decomposing the whole text, for every code point."""

from __future__ import annotations

import unicodedata

from resonanz.mentions.text import fold


def _plain_fold(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold()
    folded = folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def test_fold_equals_the_plain_definition_for_every_code_point() -> None:
    for start in range(0x80, 0x30000, 64):
        chars = [chr(cp) for cp in range(start, start + 64) if not 0xD800 <= cp <= 0xDFFF]
        for text in ("".join(chars), "a".join(chars) + "e", " ".join(chars)):
            assert fold(text) == _plain_fold(text), hex(start)


def test_marks_after_ascii_letters_and_mixed_runs() -> None:
    for text in ("e\u0301 u\u0308ber", "x\u0303\u0301y", "Ǆ ﬁ ① ｶ „Zitat“ – café😡\u0301", "A\u030a\u0301ngström"):
        assert fold(text) == _plain_fold(text)
