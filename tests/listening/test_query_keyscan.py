"""The matcher's key finders (:mod:`resonanz.listening.query.keyscan`): the C extension and the
pure-Python automaton report the same hits as a plain reading of the text does."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resonanz.listening.query.keyscan import AutomatonKeys, KeyFinder, NativeKeys, key_finder, native_available

needs_native = pytest.mark.skipif(not native_available(), reason="the C extension _keyscan was not built")

#: letters that make keys overlap often, two-byte and four-byte UTF-8, the space that joins words
ALPHABET = "ab äß🚆"


def expected_hits(keys: dict[str, int], text: str) -> list[tuple[int, int, int]]:
    """Every occurrence of every key: (mention, atom, spaces before it in its mention)."""
    found = []
    for doc, part in enumerate(text.split("\n")):
        for key, atom in keys.items():
            start = part.find(key)
            while start >= 0:
                found.append((doc, atom, part.count(" ", 0, start)))
                start = part.find(key, start + 1)
    return sorted(found)


def finders(keys: dict[str, int]) -> list[KeyFinder]:
    found: list[KeyFinder] = [AutomatonKeys(keys)]
    if native_available():
        found.append(NativeKeys(keys))
    return found


def as_triples(hits: np.ndarray) -> list[tuple[int, int, int]]:
    assert hits.shape[0] == 3 and hits.dtype == np.int64
    return sorted(zip(*hits.tolist(), strict=True))


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(st.text(ALPHABET, min_size=1, max_size=5), min_size=1, max_size=12, unique=True),
    mentions=st.lists(st.text(ALPHABET, max_size=30), min_size=1, max_size=6),
)
def test_both_finders_report_every_occurrence(keys: list[str], mentions: list[str]) -> None:
    numbered = {key: i * 3 + 1 for i, key in enumerate(keys)}  # atoms need not be 0..n-1
    text = "\n".join(mentions)
    expected = expected_hits(numbered, text)
    for finder in finders(numbered):
        assert as_triples(finder.hits(text)) == expected, type(finder).__name__
        for part in mentions:
            assert finder.atoms(part) == {atom for _, atom, _ in expected_hits(numbered, part)}


def test_joined_words_of_a_batch() -> None:
    keys = {" deutsche bahn ": 0, " bahn ": 1, " bahn": 2, "hof ": 3, " zug ": 4}
    text = " die deutsche bahn \n bahnhof zug \n \n ärger bahn "
    expected = [(0, 0, 1), (0, 1, 2), (0, 2, 2), (1, 2, 0), (1, 3, 1), (1, 4, 1), (3, 1, 1), (3, 2, 1)]
    for finder in finders(keys):
        assert as_triples(finder.hits(text)) == expected
        assert finder.atoms(" bahnhof ") == {2, 3}
        assert as_triples(finder.hits("")) == []


@needs_native
def test_native_finder_rejects_keys_it_cannot_hold() -> None:
    with pytest.raises(ValueError, match="empty"):
        NativeKeys({"": 0})
    with pytest.raises(ValueError, match="newline"):
        NativeKeys({"a\nb": 0})
    from resonanz.listening.query._keyscan import KeyScanner

    with pytest.raises(ValueError, match="given twice"):
        KeyScanner([b" a ", b" a "], [0, 1])
    with pytest.raises(ValueError, match="differ in length"):
        KeyScanner([b" a "], [0, 1])
    with pytest.raises(TypeError):
        KeyScanner([" a "], [0])  # type: ignore[list-item]
    with pytest.raises(RuntimeError, match="not initialised"):
        KeyScanner.__new__(KeyScanner).scan(" a ")


@needs_native
def test_a_table_over_the_limit_falls_back_to_the_pure_python_automaton(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = {f" word{i} ": i for i in range(200)}
    with pytest.raises(MemoryError, match="limit"):
        NativeKeys(keys, max_entries=1000)
    real = NativeKeys.__init__
    monkeypatch.setattr(NativeKeys, "__init__", lambda self, k: real(self, k, max_entries=1000))
    fallback = key_finder(keys)
    assert isinstance(fallback, AutomatonKeys)
    assert as_triples(fallback.hits(" word7 x \n word199 ")) == [(0, 7, 0), (1, 199, 0)]
    with pytest.raises(MemoryError):
        key_finder(keys, native=True)


@needs_native
def test_native_finder_reads_lone_surrogates_as_the_keys_encode_them() -> None:
    keys = {" a\ud800b ": 0, " c ": 1}
    finder = NativeKeys(keys)
    assert as_triples(finder.hits(" x a\ud800b \n c ")) == [(0, 0, 1), (1, 1, 0)]
    assert finder.atoms(" a\ud800b c ") == {0, 1}


@needs_native
def test_native_finder_scans_from_several_threads() -> None:
    """It lets go of the GIL while it scans: threads share one finder."""
    keys = {f" w{i} ": i for i in range(50)}
    finder = NativeKeys(keys)
    text = "\n".join(" " + " ".join(f"w{(d * 7 + k) % 60}" for k in range(40)) + " " for d in range(300))
    expected = as_triples(finder.hits(text))
    results: list[list[tuple[int, int, int]]] = []
    threads = [threading.Thread(target=lambda: results.append(as_triples(finder.hits(text)))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
    assert len(expected) == len(expected_hits(keys, text))


def test_ci_builds_the_native_finder() -> None:
    """CI sets RESONANZ_REQUIRE_NATIVE: there the extension must have been built, or every test
    above would pass on the fallback alone."""
    if os.environ.get("RESONANZ_REQUIRE_NATIVE"):
        assert native_available()
    assert key_finder({}) is None
    assert isinstance(key_finder({" a ": 0}, native=False), AutomatonKeys)
