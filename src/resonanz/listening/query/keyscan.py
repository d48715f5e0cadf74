"""Finding the matcher's keys in mentions' joined words: compiled where it could be built, else
pure Python, with the same answers.

The :class:`~resonanz.listening.query.match.Matcher` asks two things of its keys (words, phrases,
prefixes: :mod:`.scan`):

- :meth:`KeyFinder.atoms`: the atoms present in one mention (the per-mention path);
- :meth:`KeyFinder.hits`: every hit in a batch (mentions' joined words, one newline between two)
  as a ``(3, n)`` array of mention, atom and word index: the index of the word the key starts at,
  the number of spaces before it in its mention (:mod:`.batch_near` compares those for NEAR).

:class:`NativeKeys` is the C extension ``_keyscan`` (a DFA over UTF-8 bytes that writes the hits
into one buffer): the batch matcher spent a third of its time turning the pure-Python automaton's
hits into tuples. :class:`AutomatonKeys` is pyahocorasick's automaton with the positions turned into
mentions and words in numpy: used where the extension was not built (no C compiler at install
time) or its dense table would be too large (hundreds of thousands of keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Protocol

import ahocorasick  # type: ignore[import-not-found]
import numpy as np

from resonanz.listening.query.arrays import IntArray

try:
    from resonanz.listening.query._keyscan import KeyScanner
except ImportError:  # built without a C compiler: the pure-Python automaton only
    KeyScanner = None  # type: ignore[assignment,misc]


class KeyFinder(Protocol):
    def atoms(self, text: str) -> set[int]: ...

    def hits(self, text: str) -> IntArray: ...


def native_available() -> bool:
    return KeyScanner is not None


class NativeKeys:
    """The keys in the C extension's DFA."""

    def __init__(self, keys: Mapping[str, int], *, max_entries: int | None = None) -> None:
        if KeyScanner is None:
            raise RuntimeError("the compiled key finder (_keyscan) was not built")
        limit = {} if max_entries is None else {"max_entries": max_entries}
        self._scanner = KeyScanner([_utf8(key) for key in keys], list(keys.values()), **limit)

    def atoms(self, text: str) -> set[int]:
        try:
            return self._scanner.atoms(text)
        except UnicodeEncodeError:  # a lone surrogate: the keys' own encoding of it
            return self._scanner.atoms(_utf8(text))

    def hits(self, text: str) -> IntArray:
        try:
            found = self._scanner.scan(text)
        except UnicodeEncodeError:
            found = self._scanner.scan(_utf8(text))
        return np.frombuffer(found, dtype=np.int64).reshape(3, -1)


class AutomatonKeys:
    """The keys in pyahocorasick's automaton (characters, not bytes)."""

    def __init__(self, keys: Mapping[str, int]) -> None:
        self._automaton = ahocorasick.Automaton()
        self._lengths = np.zeros(max(keys.values(), default=-1) + 1, dtype=np.int64)
        for key, atom in keys.items():
            self._automaton.add_word(key, atom)
            self._lengths[atom] = len(key)
        self._automaton.make_automaton()

    def atoms(self, text: str) -> set[int]:
        # the automaton calls list.insert(end, atom) for every key found: C calling C, no Python
        # code per key (the position is irrelevant, a set is made of the atoms)
        found: list[int] = []
        self._automaton.find_all(text, found.insert)
        return set(found)

    def hits(self, text: str) -> IntArray:
        found = np.fromiter(chain.from_iterable(self._automaton.iter(text)), dtype=np.int64)
        ends, atoms = found[0::2], found[1::2]
        chars = np.frombuffer(text.encode("latin-1"), dtype=np.uint8) if text.isascii() else None
        if chars is None:
            chars = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        newlines, spaces = np.flatnonzero(chars == 10), np.flatnonzero(chars == 32)
        docs = np.searchsorted(newlines, ends)
        # a key starts len - 1 before its end; its word is the number of spaces before that in its
        # mention (which starts after the newline before it)
        starts = np.concatenate([[0], newlines + 1])[docs]
        words = np.searchsorted(spaces, ends - self._lengths[atoms] + 1) - np.searchsorted(spaces, starts)
        return np.stack([docs, atoms, words])


def key_finder(keys: Mapping[str, int], *, native: bool | None = None) -> KeyFinder | None:
    """The finder for ``keys`` (None when there are none). ``native``: True insists on the C
    extension, False on the pure-Python automaton; None takes the extension where it was built
    and its table fits."""
    if not keys:
        return None
    if native is False or (native is None and KeyScanner is None):
        return AutomatonKeys(keys)
    try:
        return NativeKeys(keys)
    except MemoryError:
        if native:
            raise
        return AutomatonKeys(keys)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
