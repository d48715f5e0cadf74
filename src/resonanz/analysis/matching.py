"""Find configured terms (crisis words, brand names and their aliases) in mention text.

Why one matcher for both: people write "Datenleck", "DATENLECK", "Kundendatenleck", "Daten­leck"
(with a soft hyphen), "Dаtenleck" (with a Cyrillic "а") and "Datenlecks" — and mean the same
thing. Terms and text go through :func:`resonanz.mentions.text.fold` (case, ß/ss, ä/ae, accents,
the same folding search uses), then :func:`skeleton` drops invisible characters and maps the
look-alike letters of Cyrillic and Greek onto Latin, so a homoglyph trick cannot hide a term.

Speed: one compiled alternation of all terms scans the folded text (a few microseconds for a
post); only the rare hits are looked at in Python, to decide whether the hit is a whole word,
an inflected word, or part of a German compound.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from resonanz.mentions.text import fold

#: invisible characters used to split words past filters: zero-width space/joiners, word joiner,
#: BOM, soft hyphen, Mongolian vowel separator
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
#: Cyrillic and Greek letters that look like Latin ones (after case folding), from Unicode's
#: confusables list: the ones that occur in real spoofing.
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "и": "u", "к": "k", "м": "m", "н": "h", "о": "o",
    "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c",
}  # fmt: skip
_SKELETON = {**_INVISIBLE, **{ord(k): v for k, v in _CONFUSABLES.items()}}

#: endings an inflected word may add to a term ("Anwalts", "Klagen", "leaked", "recalls")
INFLECTIONS = frozenset({"", "s", "e", "es", "en", "n", "er", "ern", "d", "ed", "ing", "ings"})
#: a term this long is matched anywhere inside a word (German compounds: "Kundendatenleck",
#: "Rückrufaktion"); shorter ones only as a word or as the last part of a compound
COMPOUND_MIN = 6
_WORD_CHAR = re.compile(r"[^\W_]")


# str.translate with a dict costs ~10 us per post; a regex search that usually finds nothing
# costs well under one, so translate only runs on the rare text that needs it.
_HAS_INVISIBLE = re.compile("[" + "".join(map(chr, _INVISIBLE)) + "]")
_HAS_CONFUSABLE = re.compile("[" + "".join(_CONFUSABLES) + "]")


def skeleton(folded: str) -> str:
    """Folded text with Latin look-alikes mapped to Latin."""
    if folded.isascii() or _HAS_CONFUSABLE.search(folded) is None:
        return folded
    return folded.translate(_SKELETON)


#: texts up to this length are cached (2,048 of them: a few MB at most)
CACHE_CHARS = 2_000


def normalize(text: str) -> str:
    """What the matcher compares: folded, invisible characters removed, homoglyphs mapped.

    Cached for the last couple of thousand short texts: the crisis and entities stages normalise
    the same batch one after the other, and a cache hit costs a tenth of folding again.
    """
    return _normalize_cached(text) if len(text) <= CACHE_CHARS else _normalize(text)


@functools.lru_cache(maxsize=2048)
def _normalize_cached(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    # Invisible characters first: NFKC inside fold keeps them, and they would split "Daten\u200bleck".
    if not text.isascii() and _HAS_INVISIBLE.search(text) is not None:
        text = text.translate(_INVISIBLE)
    return skeleton(fold(text))


@dataclass(frozen=True, slots=True)
class Hit:
    term: str
    """the term as configured"""
    label: str
    """what the term stands for (a brand's name; the term itself for crisis terms)"""


class TermMatcher:
    """Whole-word, inflection- and compound-aware matching of many terms at once.

    ``compounds`` enables matching inside German compounds; brand names turn it off (a brand is
    a name, "Nordwelle" must not match inside "Nordwellenbrecher").
    """

    def __init__(self, terms: Iterable[tuple[str, str]], *, compounds: bool = True) -> None:
        self.compounds = compounds
        self._by_key: dict[str, list[Hit]] = {}
        for term, label in terms:
            key = " ".join(normalize(term).split())
            if key and _WORD_CHAR.search(key):
                hits = self._by_key.setdefault(key, [])
                if all(h.label != label for h in hits):
                    hits.append(Hit(term, label))
        self._pattern = re.compile(trie_pattern(self._by_key)) if self._by_key else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def find(self, text: str) -> list[Hit]:
        """Distinct hits in ``text`` (raw text; normalised here), in order of first occurrence."""
        return self.find_normalized(normalize(text))

    def find_normalized(self, norm: str) -> list[Hit]:
        if self._pattern is None:
            return []
        found: dict[tuple[str, str], Hit] = {}
        for m in self._pattern.finditer(norm):
            key = " ".join(m.group().split())
            if self._accept(norm, m.start(), m.end(), key):
                for hit in self._by_key[key]:
                    found.setdefault((hit.term, hit.label), hit)
        return list(found.values())

    def _accept(self, text: str, start: int, end: int, key: str) -> bool:
        word_start = start
        while word_start > 0 and _WORD_CHAR.match(text, word_start - 1):
            word_start -= 1
        word_end = end
        limit = min(len(text), end + 40)
        while word_end < limit and _WORD_CHAR.match(text, word_end):
            word_end += 1
        prefix = text[word_start:start]
        suffix = text[end:word_end]
        if not prefix and suffix in INFLECTIONS:
            return True
        if not self.compounds or " " in key:
            return False
        if len(key) >= COMPOUND_MIN:
            return True
        # A short term may end a compound ("Sammelklage", "verklagen") behind a prefix of three or
        # more letters, which keeps "bleak" from being a "leak"; three letters are too few ("pursue").
        return len(key) >= 4 and len(prefix) >= 3 and suffix in INFLECTIONS


def trie_pattern(words: Iterable[str]) -> str:
    """One regex for many words, as a trie ("abzocke|anwalt" -> "a(?:bzocke|nwalt)").

    ``re`` tries a plain alternation's branches one by one at every position of the text; a trie
    tests one character class there, which halves the scan. Longer words win (greedy optional
    tails); a space in a word matches any run of white space.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [
            (r"\s+" if char == " " else re.escape(char)) + build(child) for char, child in sorted(node.items()) if char
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return build(trie)


def labelled(terms: Sequence[str]) -> list[tuple[str, str]]:
    """Terms that stand for themselves."""
    return [(t, t) for t in terms]
