"""Checking mentions against many queries at once.

A mention is prepared once (:class:`PreparedDoc`: folded text, its index words, and lazily the
word positions, hashtags, handles and links). The :class:`Matcher` keeps an inverted index from
each query's *anchor* words (:func:`resonanz.listening.query.compile.anchors`: words one of which
every match must contain) to the queries, so a mention costs one set intersection with its words,
and only the few queries whose anchors it contains (plus those that have none, e.g. field-only
queries) are evaluated exactly. 1,000 queries do not cost 1,000 passes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar
from urllib.parse import urlsplit

from resonanz.analysis.stages.entities import _HANDLE, _HASHTAG, _URL, _trim_url
from resonanz.mentions.text import fold
from resonanz.mentions.tokens import words

if TYPE_CHECKING:
    from resonanz.listening.query.compile import CompiledQuery

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Doc:
    """What a query can look at in a mention. ``text``/``title`` as stored; ``url`` is the
    mention's own link; ``source`` the source's name; ``author`` the author's handle."""

    text: str
    title: str | None = None
    url: str | None = None
    lang: str | None = None
    platform: str | None = None
    source: str | None = None
    author: str | None = None
    sentiment: str | None = None
    intent: str | None = None


class PreparedDoc:
    """A :class:`Doc` with its folded words; the rest is computed when a query first asks."""

    __slots__ = ("__dict__", "doc", "folded", "joined", "word_list", "word_set")

    def __init__(self, doc: Doc, *, folded: str | None = None) -> None:
        """``folded``: the body ingest already folded for the index (``index_body(title, text)``),
        so a mention is not folded twice on its way in."""
        self.doc = doc
        # the same body the full-text index gets (mentions.search_index.index_body)
        self.folded = folded if folded is not None else fold(f"{doc.title}\n{doc.text}" if doc.title else doc.text)
        self.word_list = words(self.folded)
        self.word_set = frozenset(self.word_list)
        # The words with one space around each: a phrase or a word prefix is a substring test
        # (" deutsche bahn ", " verspaet") that runs in C, no loop over words in Python. Made
        # here, not lazily: cheaper than a cached_property's first access.
        self.joined = " " + " ".join(self.word_list) + " "

    @cached_property
    def positions(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for index, word in enumerate(self.word_list):
            found.setdefault(word, []).append(index)
        return found

    @cached_property
    def raw(self) -> str:
        doc = self.doc
        return f"{doc.title}\n{doc.text}" if doc.title else doc.text

    @cached_property
    def urls(self) -> list[str]:
        raw = self.raw
        if "://" not in raw and "www." not in raw.lower():
            return []
        return [u for u in (_trim_url(m) for m in _URL.findall(raw)) if u]

    @cached_property
    def _rest(self) -> str:
        """The text with links blanked out, as the entities stage reads tags and handles."""
        return _URL.sub(" ", self.raw) if self.urls else self.raw

    @cached_property
    def hashtags(self) -> frozenset[str]:
        rest = self._rest
        return frozenset(fold(tag) for tag in _HASHTAG.findall(rest)) if "#" in rest else frozenset()

    @cached_property
    def handles(self) -> frozenset[str]:
        """Folded handles without the first '@': "anna" and "anna@social.example"."""
        rest = self._rest
        if "@" not in rest:
            return frozenset()
        return frozenset(fold(h + ("@" + server if server else "")) for h, server in _HANDLE.findall(rest))

    @cached_property
    def hosts(self) -> frozenset[str]:
        """Host names of the mention's own URL and of every link in it."""
        found: set[str] = set()
        for url in ([self.doc.url] if self.doc.url else []) + self.urls:
            try:
                host = urlsplit(url if "://" in url[:10] else "http://" + url).hostname
            except ValueError:
                continue
            if host:
                found.add(host.rstrip("."))
        return frozenset(found)

    @cached_property
    def source_folded(self) -> str | None:
        return fold(self.doc.source) if self.doc.source is not None else None

    @cached_property
    def author_folded(self) -> str | None:
        return fold(self.doc.author).removeprefix("@") if self.doc.author is not None else None

    def has_prefix(self, stem: str) -> bool:
        return " " + stem in self.joined

    def phrase_starts(self, phrase: Sequence[str]) -> list[int]:
        """Indexes where the words of ``phrase`` stand one after the other."""
        positions = self.positions
        first = positions.get(phrase[0])
        if not first:
            return []
        rest = [set(positions.get(w, ())) for w in phrase[1:]]
        if not all(rest):
            return []
        return [p for p in first if all(p + i + 1 in s for i, s in enumerate(rest))]


def prepare(doc: Doc | PreparedDoc) -> PreparedDoc:
    return doc if isinstance(doc, PreparedDoc) else PreparedDoc(doc)


class Matcher(Generic[K]):
    """Many compiled queries, checked against each mention in one pass.

    ``queries`` maps a key (a query id) to its :class:`CompiledQuery`; :meth:`match` returns the
    keys of the queries a mention matches, in the order of ``queries``.
    """

    def __init__(self, queries: Mapping[K, CompiledQuery]) -> None:
        self.keys: list[K] = list(queries)
        self.tests = [q.test for q in queries.values()]
        self.words: dict[str, list[int]] = {}
        # a stem's first three letters (two for two-letter stems) -> queries: a longer key lets
        # through fewer mentions for an exact check
        self.prefixes: dict[str, list[int]] = {}
        self.short_prefixes: dict[str, list[int]] = {}
        self.always: list[int] = []
        self.decided = frozenset(i for i, q in enumerate(queries.values()) if q.anchors_decide)
        for index, query in enumerate(queries.values()):
            if query.anchors is None:
                self.always.append(index)
                continue
            for kind, value in query.anchors:
                if kind == "w":
                    target = self.words.setdefault(value, [])
                elif len(value) >= 3:
                    target = self.prefixes.setdefault(value[:3], [])
                else:
                    target = self.short_prefixes.setdefault(value, [])
                if not target or target[-1] != index:
                    target.append(index)

    def __len__(self) -> int:
        return len(self.keys)

    def candidates(self, doc: PreparedDoc) -> set[int]:
        """Indexes of the queries that may match (their anchors occur); a superset of the matches."""
        found = set(self.always)
        word_set = doc.word_set
        index = self.words
        for word in index.keys() & word_set:
            found.update(index[word])
        if self.prefixes:
            prefixes = self.prefixes
            for start in prefixes.keys() & {w[:3] for w in word_set}:
                found.update(prefixes[start])
        if self.short_prefixes:
            short = self.short_prefixes
            for start in short.keys() & {w[:2] for w in word_set}:
                found.update(short[start])
        return found

    def match(self, doc: Doc | PreparedDoc) -> list[K]:
        prepared = prepare(doc)
        tests, keys, decided = self.tests, self.keys, self.decided
        return [keys[i] for i in sorted(self.candidates(prepared)) if i in decided or tests[i](prepared)]

    def match_batch(self, docs: Iterable[Doc | PreparedDoc]) -> list[list[K]]:
        """For each mention, the keys of the queries it matches."""
        return [self.match(doc) for doc in docs]
