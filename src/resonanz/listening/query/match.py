"""Checking mentions against many queries at once.

A mention is prepared once (:class:`PreparedDoc`: folded text and its words joined with one space
around each; lazily the word list and positions, hashtags, handles and links). The
:class:`Matcher` puts every text leaf of every query (words, phrases, prefixes) into one
Aho–Corasick automaton (:mod:`.scan`, :mod:`.keyscan`): one pass in C over the joined words finds all of them, each
query's *anchors* among them pick the few queries that may match, queries that are a leaf or an OR
of leaves are decided by that alone, and the rest run one generated check that reads the found
leaves. 1,000 queries do not cost 1,000 passes, nor one Python lookup per word.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import is_
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

from resonanz.analysis.stages.entities import _HANDLE, _HASHTAG, _URL, _trim_url
from resonanz.listening.query.batch import BatchTables, match_prepared
from resonanz.listening.query.batch_leaves import number_leaf_keys
from resonanz.listening.query.keyscan import key_finder
from resonanz.listening.query.scan import MARKS, Atoms, Check, plan
from resonanz.mentions.text import fold
from resonanz.mentions.tokens import spaced_words_batch, words

if TYPE_CHECKING:
    from resonanz.listening.query.compile import CompiledQuery

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


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


class _lazy(Generic[T]):  # noqa: N801 - used like functools.cached_property
    """``functools.cached_property`` without its lock (Python 3.11 takes one on every first
    access, a measurable share of matching a mention): the value computed on first access is
    stored in the instance ``__dict__``, which later accesses read directly."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        value = obj.__dict__[self.name] = self.func(obj)
        return value


class PreparedDoc:
    """A :class:`Doc` with its folded text and index words; the rest is computed when a query
    first asks."""

    __slots__ = ("__dict__", "doc", "folded", "joined", "word_list")

    def __init__(self, doc: Doc, *, folded: str | None = None, joined: str | None = None) -> None:
        """``folded``: the body ingest already folded for the index (``index_body(title, text)``),
        so a mention is not folded twice on its way in; ``joined``: its words as
        :func:`fold_and_join` joins them (the batch matcher made them already)."""
        self.doc = doc
        if folded is None or joined is None:
            folded, joined = fold_and_join(doc, folded)
        self.folded = folded
        # The words with one space around each: a word, a phrase or a word prefix is a substring
        # (" bahn ", " deutsche bahn ", " verspaet") found in C, no loop over words in Python.
        self.joined = joined
        self.word_list = joined.split()

    @_lazy
    def word_set(self) -> frozenset[str]:
        return frozenset(self.word_list)

    def word_positions(self, word: str) -> list[int]:
        """Where ``word`` stands, by C-level list search: NEAR asks this for a word or two of a
        mention that it knows contains them, cheaper than a dict of every word's positions."""
        found: list[int] = []
        word_list, at = self.word_list, -1
        for _ in range(word_list.count(word)):
            at = word_list.index(word, at + 1)
            found.append(at)
        return found

    @_lazy
    def positions(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for index, word in enumerate(self.word_list):
            found.setdefault(word, []).append(index)
        return found

    @_lazy
    def raw(self) -> str:
        doc = self.doc
        return f"{doc.title}\n{doc.text}" if doc.title else doc.text

    @_lazy
    def urls(self) -> list[str]:
        raw = self.raw
        if "://" not in raw and "www." not in raw.lower():
            return []
        return [u for u in (_trim_url(m) for m in _URL.findall(raw)) if u]

    @_lazy
    def _rest(self) -> str:
        """The text with links blanked out, as the entities stage reads tags and handles."""
        return _URL.sub(" ", self.raw) if self.urls else self.raw

    @_lazy
    def hashtags(self) -> frozenset[str]:
        # no '#' at all (most posts): no need to find and blank out the links first
        doc = self.doc
        if "#" not in doc.text and not (doc.title and "#" in doc.title):
            return frozenset()
        rest = self._rest
        return frozenset(fold(tag) for tag in _HASHTAG.findall(rest)) if "#" in rest else frozenset()

    @_lazy
    def handles(self) -> frozenset[str]:
        """Folded handles without the first '@': "anna" and "anna@social.example"."""
        doc = self.doc
        if "@" not in doc.text and not (doc.title and "@" in doc.title):
            return frozenset()
        rest = self._rest
        if "@" not in rest:
            return frozenset()
        return frozenset(fold(h + ("@" + server if server else "")) for h, server in _HANDLE.findall(rest))

    @_lazy
    def handle_names(self) -> frozenset[str]:
        """The handles' names without their server: ``@anna`` matches ``@anna@social.example``."""
        return frozenset(h.split("@", 1)[0] for h in self.handles)

    @_lazy
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

    @_lazy
    def source_folded(self) -> str | None:
        return fold(self.doc.source) if self.doc.source is not None else None

    @_lazy
    def author_folded(self) -> str | None:
        return fold(self.doc.author).removeprefix("@") if self.doc.author is not None else None

    def has_prefix(self, stem: str) -> bool:
        return " " + stem in self.joined

    def phrase_starts(self, phrase: Sequence[str]) -> list[int]:
        """Indexes where the words of ``phrase`` stand one after the other."""
        words, size = list(phrase), len(phrase)
        word_list = self.word_list
        return [p for p in self.word_positions(phrase[0]) if word_list[p : p + size] == words]


#: a byte table: every ASCII character the index does not keep in a word (resonanz.mentions.tokens:
#: [0-9a-z]+) to a space
_ASCII_SPLIT = bytes(c if c < 128 and (chr(c).isdigit() or "a" <= chr(c) <= "z") else 32 for c in range(256))


def fold_and_join(doc: Doc, folded: str | None = None) -> tuple[str, str]:
    """The mention's folded body (the same the full-text index gets:
    ``mentions.search_index.index_body``) and its index words joined with one space around each.

    ASCII text (most posts) is split by the index's own ASCII rule (letters and digits are word
    characters, everything else separates: :func:`resonanz.mentions.tokens.words`) with one
    byte-table translate and split (a str translate with a dict costs twice as much); other text
    takes ``words()`` itself."""
    if folded is None:
        folded = fold(f"{doc.title}\n{doc.text}" if doc.title else doc.text)
    if folded.isascii():
        joined = " ".join(folded.encode().translate(_ASCII_SPLIT).decode().split())
    else:
        joined = " ".join(words(folded))
    return folded, f" {joined} " if joined else " "


def fold_and_join_batch(docs: Sequence[Doc], folded: Sequence[str | None] | None = None) -> tuple[list[str], list[str]]:
    """:func:`fold_and_join` for a batch: the folded bodies and the joined words, in order; the
    words split for all bodies at once (:func:`resonanz.mentions.tokens.spaced_words_batch`).
    ``folded``: per mention, the body ingest already folded, or None."""
    if folded is not None and len(folded) == len(docs) and not any(map(is_, folded, repeat(None))):
        bodies = cast("list[str]", list(folded))  # ingest's case: all given (no Python frame per mention)
    else:
        bodies = [
            given if given is not None else fold(f"{doc.title}\n{doc.text}" if doc.title else doc.text)
            for doc, given in zip(docs, folded or [None] * len(docs), strict=True)
        ]
    joined = spaced_words_batch(bodies)
    if joined is None:  # a NUL in a body, or a character FTS5 rewrites
        joined = [fold_and_join(doc, body)[1] for doc, body in zip(docs, bodies, strict=True)]
    return bodies, joined


def prepare(doc: Doc | PreparedDoc) -> PreparedDoc:
    return doc if isinstance(doc, PreparedDoc) else PreparedDoc(doc)


class Matcher(Generic[K]):
    """Many compiled queries, checked against each mention in one pass.

    ``queries`` maps a key (a query id) to its :class:`CompiledQuery`; :meth:`match` returns the
    keys of the queries a mention matches, in the order of ``queries``. Built once per set of
    active queries (a new set, a new Matcher); immutable afterwards, so threads may share one.
    """

    def __init__(self, queries: Mapping[K, CompiledQuery], *, native: bool | None = None) -> None:
        self.keys: list[K] = list(queries)
        atoms = Atoms()
        plans = [plan(q.tree, atoms) for q in queries.values()]
        self.trees = [q.tree for q in queries.values()]
        for tree in self.trees:
            number_leaf_keys(tree, atoms)
        #: key (" bahn ", " deutsche bahn ", " verspaet") -> atom id
        self.atom_ids = atoms.ids
        #: per query: its check, or None where a present trigger decides it
        self.checks: list[Check | None] = [None if p.decided else p.check for p in plans]
        #: per atom: the queries it triggers alone, and those it triggers together with a second
        #: atom (``(second, queries)`` items)
        self.triggered: list[tuple[int, ...]] = [()] * len(atoms)
        pairs: list[dict[int, tuple[int, ...]]] = [{} for _ in range(len(atoms))]
        #: queries without triggers (e.g. only fields, or NOT ...): checked for every mention
        always: list[int] = []
        for index, p in enumerate(plans):
            if p.triggers is None:
                always.append(index)
                continue
            for trigger in p.triggers:
                if len(trigger) == 2:
                    first, second = trigger
                    pairs[first][second] = (*pairs[first].get(second, ()), index)
                else:
                    self.triggered[trigger[0]] += (index,)
        self.pairs = [tuple(pair.items()) for pair in pairs]
        self.always = frozenset(always)
        self.atom_count = len(atoms)
        self.paired = frozenset(a for a, pair in enumerate(self.pairs) if pair)
        self._marks = [(MARKS[key], atom) for key, atom in atoms.ids.items() if key in MARKS]
        #: the keys (all but the marks) in one automaton; ``native``: see :func:`.keyscan.key_finder`
        self._finder = key_finder({k: a for k, a in atoms.ids.items() if k not in MARKS}, native=native)
        self._tables = BatchTables(self)

    def __len__(self) -> int:
        return len(self.keys)

    def atoms(self, doc: PreparedDoc) -> set[int]:
        """The atoms (query words, phrases and prefixes) the mention contains, one C pass; and
        the marks ('#', '@' anywhere in the text) that hashtags and handles need."""
        present = self._finder.atoms(doc.joined) if self._finder is not None else set()
        if self._marks:
            text, title = doc.doc.text, doc.doc.title
            for mark, atom in self._marks:
                if mark in text or (title and mark in title):
                    present.add(atom)
        return present

    def candidates(self, doc: PreparedDoc) -> set[int]:
        """Indexes of the queries that may match (their triggers occur); a superset of the matches."""
        return self._candidates(self.atoms(doc))

    def _candidates(self, present: set[int]) -> set[int]:
        # one C-level union over the atoms' tables; only atoms that pair take a Python loop
        found: set[int] = set().union(self.always, *map(self.triggered.__getitem__, present))
        pairs = self.pairs
        for atom in self.paired & present:
            for second, queries in pairs[atom]:
                if second in present:
                    found.update(queries)
        return found

    def match(self, doc: Doc | PreparedDoc) -> list[K]:
        prepared = prepare(doc)
        present = self.atoms(prepared)
        checks, keys = self.checks, self.keys
        return [
            keys[i]
            for i in sorted(self._candidates(present))
            if (check := checks[i]) is None or check(present, prepared)
        ]

    def match_batch(
        self, docs: Iterable[Doc | PreparedDoc], folded: Sequence[str | None] | None = None
    ) -> list[list[K]]:
        """For each mention, the keys of the queries it matches: :meth:`match` for each, with the
        per-mention bookkeeping done once per batch in numpy (:mod:`.batch`), a few times faster
        on a stream. ``folded``: per mention, the body ingest already folded for the index (or
        None), so it is not folded twice."""
        docs = docs if isinstance(docs, Sequence) else list(docs)
        if len(docs) < _SMALL_BATCH:
            given = folded or [None] * len(docs)
            return [
                self.match(doc if isinstance(doc, PreparedDoc) else PreparedDoc(doc, folded=f))
                for doc, f in zip(docs, given, strict=True)
            ]
        found: list[list[K]] = []
        step = self._tables.batch
        for start in range(0, len(docs), step):
            part = folded[start : start + step] if folded is not None else None
            found += match_prepared(self, self._tables, docs[start : start + step], part)
        return found


#: below this many mentions the per-mention path is as fast; above, numpy's fixed costs are shared
_SMALL_BATCH = 8
