"""Words of folded text, split exactly as SQLite's FTS5 ``unicode61 remove_diacritics 2`` tokenizer
splits them, so that the full-text index, the listening-query matcher and the PostgreSQL index all
see the same words at the same positions.

Why not a regex like ``\\w+``: FTS5 keeps unassigned code points and some symbols inside words,
drops combining marks, and its Unicode tables differ from Python's; any difference would make the
index and the in-memory matcher disagree on a query. So ASCII (the common case) is split by the
rule FTS5 uses for it (letters and digits are word characters, everything else separates) and
every other character is classified by asking SQLite's own tokenizer, once per distinct character
(an in-memory FTS5 table, no database of ours). PostgreSQL gets the same words, written as a
tsvector literal (see :func:`tsvector_literal`), so its parser never re-splits them.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence
from itertools import compress

import numpy as np

_ASCII_WORD = re.compile(r"[0-9a-z]+")
#: after non-ASCII runs are mapped, a word is a run of ASCII letters/digits and non-ASCII characters
_WORD = re.compile(r"[0-9a-z\x80-\U0010ffff]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")

#: PostgreSQL limits: a lexeme of at most 2046 bytes, positions 1..16383
PG_MAX_LEXEME_BYTES = 2046
PG_MAX_POSITION = 16383


class _Probe:
    """SQLite's unicode61 tokenizer, asked about one character at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.conn: sqlite3.Connection | None
        try:
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(b, tokenize = 'unicode61 remove_diacritics 2')")
            conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
            self.conn = conn
        except sqlite3.Error:  # an SQLite built without FTS5: fall back to Unicode categories
            self.conn = None

    def classify(self, char: str) -> str:
        """What the character becomes inside a word: itself, another string, '' (a dropped
        diacritic) or ' ' (a separator)."""
        if self.conn is None:
            category = unicodedata.category(char)
            return char if category[0] in "LN" or category in ("Co", "Cn") else " "
        with self.lock:
            self.conn.execute("DELETE FROM t")
            self.conn.execute("INSERT INTO t (rowid, b) VALUES (1, ?)", ("a" + char + "a",))
            terms = [row[0] for row in self.conn.execute("SELECT term FROM v ORDER BY offset")]
        if len(terms) == 1 and terms[0].startswith("a") and terms[0].endswith("a"):
            return str(terms[0][1:-1])
        return " "


_probe: _Probe | None = None


@functools.lru_cache(maxsize=65536)
def _classify(char: str) -> str:
    global _probe
    if _probe is None:
        _probe = _Probe()
    return _probe.classify(char)


@functools.lru_cache(maxsize=8192)
def _map_run(run: str) -> str:
    return "".join([_classify(c) for c in run])


def _map_match(match: re.Match[str]) -> str:
    return _map_run(match.group())


def words(folded: str) -> list[str]:
    """The words of text already folded by :func:`resonanz.mentions.text.fold`, in order."""
    if folded.isascii():
        return _ASCII_WORD.findall(folded)
    return _WORD.findall(_NON_ASCII.sub(_map_match, folded))


def spaced_words_batch(bodies: Sequence[str]) -> list[str] | None:
    """For each folded body, its :func:`words` joined with one space around each (``" w1 w2 "``,
    ``" "`` for none): the form the listening matcher searches, for a whole batch at once.

    Split per body, a post's twenty words are twenty string objects made and joined again
    (1.6 µs in ASCII; 7 µs beyond it, where each run of other characters is mapped by a Python
    callback). Here the ASCII bodies and the others are each joined with a NUL between two, and
    the rest is array work: every character that is no word character becomes a space, the NUL a
    newline, runs of spaces one space; one split at the newlines gives the bodies back. Beyond
    ASCII, each distinct character is classified once (:func:`_classify`, cached). None when a body
    holds a NUL itself or a character FTS5 turns into another string (rare once text is folded):
    the caller splits that batch body by body."""
    narrow = list(map(str.isascii, bodies))
    plain = list(compress(bodies, narrow))
    if len(plain) == len(bodies):
        return _spaced(plain, narrow=True)
    others = [body for body, is_plain in zip(bodies, narrow, strict=True) if not is_plain]
    spaced_plain = _spaced(plain, narrow=True) if plain else []
    spaced_others = _spaced(others, narrow=False)
    if spaced_plain is None or spaced_others is None:
        return None
    first, second = iter(spaced_plain), iter(spaced_others)
    return [next(first) if is_plain else next(second) for is_plain in narrow]


def _spaced(bodies: list[str], *, narrow: bool) -> list[str] | None:
    """:func:`spaced_words_batch` for bodies all in ASCII (``narrow``) or all beyond it."""
    text = " " + " \x00 ".join(bodies) + " "
    if text.count("\x00") != len(bodies) - 1:
        return None
    if narrow:
        out = _SPACED_TABLE[np.frombuffer(text.encode(), np.uint8)]
    else:
        chars = np.frombuffer(text.encode("utf-32-le"), "<u4")
        high = chars >= 128
        distinct = np.unique(chars[high])
        kinds = [_classify(chr(code)) for code in distinct.tolist()]
        if any(kind != " " and kind != chr(code) for code, kind in zip(distinct.tolist(), kinds, strict=True)):
            return None
        word = ((chars >= 97) & (chars <= 122)) | ((chars >= 48) & (chars <= 57))
        word[high] = np.isin(chars[high], distinct[[kind != " " for kind in kinds]])
        out = np.where(word, chars, np.where(chars == 0, 10, 32)).astype(chars.dtype)
    keep = np.empty(len(out), dtype=bool)
    keep[:1] = True
    np.not_equal(out[1:], 32, out=keep[1:])
    keep[1:] |= out[:-1] != 32
    spaced: str = out[keep].tobytes().decode("ascii" if narrow else "utf-32-le")
    return spaced.split("\n")


#: a byte to itself where FTS5 keeps it in a word (ASCII letters and digits), NUL (between two
#: bodies) to a newline, any other byte to a space
_SPACED_TABLE = np.array(
    [c if chr(c).isdigit() or "a" <= chr(c) <= "z" else 10 if c == 0 else 32 for c in range(128)] + [32] * 128,
    dtype=np.uint8,
)


def _pg_quote(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(folded: str) -> str:
    """A PostgreSQL ``tsvector`` literal holding :func:`words` with their positions (1-based).

    Cast with ``CAST(:v AS tsvector)``: no text-search parser runs, so ``example.com``, ``foo-bar``
    or ``3.14`` are the same words as in FTS5, not hosts, hyphenated words or numbers. Words over
    PostgreSQL's lexeme limit are left out; positions beyond 16383 are clamped by PostgreSQL.

    This runs for every mention stored into PostgreSQL, so the common case (a post of at most 256
    words, none near the lexeme limit, no quote or backslash — ASCII quotes are separators, so
    they only reach a word through a non-ASCII mapping) skips quoting, clamping and the limits:
    14 µs instead of 27 µs for a 35-word post. Everything else takes the general path.
    """
    found = words(folded)
    if len(found) > _FAST_MAX_WORDS or "'" in folded or "\\" in folded:
        return _tsvector_literal_general(folded, found)
    positions: dict[str, str] = {}
    for index, word in enumerate(found, start=1):
        seen = positions.get(word)
        positions[word] = f"{seen},{index}" if seen else str(index)
    if found and max(map(len, positions)) > _FAST_MAX_WORD_CHARS:
        return _tsvector_literal_general(folded, found)
    return " ".join([f"'{word}':{where}" for word, where in positions.items()])


#: the fast path's bounds: no word can repeat more than 256 times (the general path's cap), and
#: 511 characters of at most 4 UTF-8 bytes stay under the 2,046-byte lexeme limit
_FAST_MAX_WORDS = 256
_FAST_MAX_WORD_CHARS = 511


def _tsvector_literal_general(folded: str, found: list[str]) -> str:
    """:func:`tsvector_literal` for any text: quoted, positions clamped, at most 256 positions
    per word, over-long lexemes left out."""
    positions: dict[str, list[str]] = {}
    for index, word in enumerate(found, start=1):
        positions.setdefault(word, []).append(str(min(index, PG_MAX_POSITION)))
    parts = [
        f"{_pg_quote(word)}:{','.join(pos[:256])}"
        for word, pos in positions.items()
        if len(word.encode("utf-8")) <= PG_MAX_LEXEME_BYTES
    ]
    return " ".join(parts)
