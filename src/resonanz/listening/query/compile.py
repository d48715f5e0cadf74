"""Tree -> a test function over a :class:`~resonanz.listening.query.match.PreparedDoc`, and the
query's anchors for the :class:`~resonanz.listening.query.match.Matcher`.

This module *is* the semantics of the language; the SQL translation
(:mod:`resonanz.listening.history`) either says the same thing to the index or lets this module
check its candidates. The rules:

- a word matches an index word (:func:`resonanz.mentions.tokens.words` of the folded text);
  a phrase matches its words at consecutive positions;
- ``?`` is one character of the folded word ("ü" is folded to "ue", two characters); ``*`` at
  the end is any rest (also none);
- ``a NEAR/n b``: an occurrence of ``a`` and one of ``b`` that do not overlap, with at most ``n``
  words between them, in either order; ``ONEAR/n``: ``a`` first;
- ``#tag`` / ``@name`` compare with the hashtags and handles the entities stage reads from the
  text (folded); ``@anna`` also matches ``@anna@social.example``;
- ``lang``, ``platform``, ``sentiment``, ``intent`` compare with the stored column exactly;
  ``source`` and ``author`` with the folded name/handle; ``site:example.com`` with the host of the
  mention's URL or of any link in it (``shop.example.com`` counts); ``has:link|hashtag|mention``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resonanz.listening.query import ast
from resonanz.listening.query.parser import parse

if TYPE_CHECKING:
    from resonanz.listening.query.match import PreparedDoc

Test = Callable[["PreparedDoc"], bool]
Spans = Callable[["PreparedDoc"], list[tuple[int, int]]]
#: ("w", word): the word occurs; ("p", stem): a word starting with stem occurs
Anchor = tuple[str, str]


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run: rebuilt from ``text`` alone (what a stored query keeps)."""

    text: str
    tree: ast.Node
    normalized: str
    test: Test
    anchors: frozenset[Anchor] | None  # None: no word is required (e.g. only fields)
    #: True when containing any anchor word *is* a match (a word, or an OR of words): the
    #: matcher then needs no exact check
    anchors_decide: bool = False


def compile_query(text: str) -> CompiledQuery:
    """Parse and compile; raises QuerySyntaxError."""
    tree = parse(text)
    return compile_tree(tree, text=text)


def compile_tree(tree: ast.Node, *, text: str | None = None) -> CompiledQuery:
    normalized = ast.to_text(tree)
    decide = isinstance(tree, ast.Term) or (
        isinstance(tree, ast.Or) and all(isinstance(c, ast.Term) for c in tree.children)
    )
    return CompiledQuery(text if text is not None else normalized, tree, normalized, _test(tree), anchors(tree), decide)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regex a whole word must match for a wildcard pattern."""
    body = ".".join(re.escape(part) for part in pattern.rstrip("*").split("?"))
    return re.compile(body + (".*" if pattern.endswith("*") else ""), re.S)


# -- tests ---------------------------------------------------------------------------------------


def joined_regex(pattern: str) -> re.Pattern[str]:
    """The regex that finds a word matching a wildcard pattern in :attr:`PreparedDoc.joined`."""
    body = "[^ ]".join(re.escape(part) for part in pattern.rstrip("*").split("?"))
    return re.compile(" " + body + ("[^ ]*" if pattern.endswith("*") else "") + " ")


def _all(parts: tuple[Test, ...]) -> Test:
    if len(parts) == 2:
        first, second = parts
        return lambda d: first(d) and second(d)

    def test(d: PreparedDoc) -> bool:
        for part in parts:  # noqa: SIM110 - a loop, not all() over a generator: the hot path
            if not part(d):
                return False
        return True

    return test


def _any(parts: tuple[Test, ...]) -> Test:
    if len(parts) == 2:
        first, second = parts
        return lambda d: first(d) or second(d)

    def test(d: PreparedDoc) -> bool:
        for part in parts:  # noqa: SIM110 - a loop, not any() over a generator: the hot path
            if part(d):
                return True
        return False

    return test


def _test(node: ast.Node) -> Test:
    # Hot path (every candidate query of every mention): closures over plain values, set
    # membership and substring tests on the joined words; no generator per call.
    if isinstance(node, ast.Term):
        word = node.word
        return lambda d: word in d.word_set
    if isinstance(node, ast.Phrase):
        first, needle = node.words[0], " " + " ".join(node.words) + " "
        return lambda d: first in d.word_set and needle in d.joined
    if isinstance(node, ast.Pattern):
        if node.is_prefix:
            stem = " " + node.pattern[:-1]
            return lambda d: stem in d.joined
        search = joined_regex(node.pattern).search
        return lambda d: search(d.joined) is not None
    if isinstance(node, ast.Field):
        return _field_test(node)
    if isinstance(node, ast.Hashtag):
        tag = node.tag
        return lambda d: tag in d.hashtags
    if isinstance(node, ast.Handle):
        return _handle_test(node.handle)
    if isinstance(node, ast.Not):
        inner = _test(node.child)
        return lambda d: not inner(d)
    if isinstance(node, ast.And):
        return _all(tuple(_test(c) for c in node.children))
    if isinstance(node, ast.Or):
        return _any(tuple(_test(c) for c in node.children))
    return _near_test(node)


class _Codegen:
    """The query as one Python function: ``def test(d): s = d.word_set; j = d.joined; return
    (c0 in s and (c1 in j or not c2 in s))``. One call per query instead of one closure call per
    node (the matcher's hot path); values are bound by name (``c0`` …), never pasted into code.
    Means the same as :func:`_test`, whose closures it calls for the rarer leaves."""

    def __init__(self) -> None:
        self.names: dict[str, object] = {}

    def const(self, value: object) -> str:
        name = f"c{len(self.names)}"
        self.names[name] = value
        return name

    def expr(self, node: ast.Node) -> str:
        if isinstance(node, ast.Term):
            return f"({self.const(node.word)} in s)"
        if isinstance(node, ast.Phrase):
            first, needle = self.const(node.words[0]), self.const(" " + " ".join(node.words) + " ")
            return f"({first} in s and {needle} in j)"
        if isinstance(node, ast.Pattern) and node.is_prefix:
            return f"({self.const(' ' + node.pattern[:-1])} in j)"
        if isinstance(node, ast.Field) and node.name in ("lang", "platform", "sentiment", "intent"):
            return f"(d.doc.{node.name} == {self.const(node.value)})"
        if isinstance(node, ast.Not):
            return f"(not {self.expr(node.child)})"
        if isinstance(node, (ast.And, ast.Or)):
            joiner = " and " if isinstance(node, ast.And) else " or "
            return "(" + joiner.join(self.expr(c) for c in node.children) + ")"
        return f"{self.const(_test(node))}(d)"


def generated_test(node: ast.Node) -> Test:
    gen = _Codegen()
    body = gen.expr(node)
    source = f"def test(d):\n    s = d.word_set\n    j = d.joined\n    return {body}\n"
    namespace: dict[str, object] = dict(gen.names)
    exec(compile(source, "<listening query>", "exec"), namespace)  # noqa: S102 - our own code, values bound by name
    test = namespace["test"]
    assert callable(test)
    return test


def _handle_test(handle: str) -> Test:
    if "@" in handle:
        return lambda d: handle in d.handles
    return lambda d: any(h == handle or h.split("@", 1)[0] == handle for h in d.handles)


def _field_test(node: ast.Field) -> Test:
    value, name = node.value, node.name
    if name == "lang":
        return lambda d: d.doc.lang == value
    if name == "platform":
        return lambda d: d.doc.platform == value
    if name == "sentiment":
        return lambda d: d.doc.sentiment == value
    if name == "intent":
        return lambda d: d.doc.intent == value
    if name == "source":
        return lambda d: d.source_folded == value
    if name == "author":
        return lambda d: d.author_folded == value
    if name == "site":
        suffix = "." + value
        return lambda d: any(h == value or h.endswith(suffix) for h in d.hosts)
    if value == "link":
        return lambda d: bool(d.urls)
    if value == "hashtag":
        return lambda d: bool(d.hashtags)
    return lambda d: bool(d.handles)


def spans(node: ast.Node) -> Spans:
    """Occurrences of a NEAR operand as (first, last) word indexes."""
    if isinstance(node, ast.Term):
        word = node.word
        return lambda d: [(p, p) for p in d.positions.get(word, ())]
    if isinstance(node, ast.Phrase):
        phrase, extra = node.words, len(node.words) - 1
        return lambda d: [(p, p + extra) for p in d.phrase_starts(phrase)]
    if isinstance(node, ast.Pattern):
        rx = pattern_regex(node.pattern).fullmatch
        return lambda d: [(i, i) for i, w in enumerate(d.word_list) if rx(w)]
    assert isinstance(node, ast.Or), node  # the parser allows nothing else next to NEAR
    alts = tuple(spans(c) for c in node.children)
    return lambda d: [s for a in alts for s in a(d)]


def _near_test(node: ast.Node) -> Test:
    assert isinstance(node, ast.Near), node
    left, right, distance, ordered = spans(node.left), spans(node.right), node.distance, node.ordered
    # both sides present at all? (set and substring tests) before any positions are listed
    left_present, right_present = _test(node.left), _test(node.right)

    def test(d: PreparedDoc) -> bool:
        if not (left_present(d) and right_present(d)):
            return False
        lefts, rights = left(d), right(d)
        for ls, le in lefts:
            for rs, re_ in rights:
                if rs > le and rs - le - 1 <= distance:
                    return True
                if not ordered and ls > re_ and ls - re_ - 1 <= distance:
                    return True
        return False

    return test


# -- anchors -------------------------------------------------------------------------------------


def _score(anchor_set: frozenset[Anchor]) -> tuple[int, int, int]:
    """Lower is better: few anchors, whole words over stems, long over short."""
    return (len(anchor_set), sum(kind == "p" for kind, _ in anchor_set), -min(len(v) for _, v in anchor_set))


def anchors(node: ast.Node) -> frozenset[Anchor] | None:
    """Words of which every matching mention contains at least one (None: no such set)."""
    if isinstance(node, ast.Term):
        return frozenset({("w", node.word)})
    if isinstance(node, ast.Phrase):
        return frozenset({("w", max(node.words, key=len))})
    if isinstance(node, ast.Pattern):
        prefix = node.literal_prefix
        return frozenset({("p", prefix)}) if len(prefix) >= 2 else None
    if isinstance(node, (ast.Hashtag, ast.Handle)):
        from resonanz.mentions.tokens import words

        parts = words(node.tag if isinstance(node, ast.Hashtag) else node.handle)
        return frozenset({("w", max(parts, key=len))}) if parts else None
    if isinstance(node, ast.Field):
        if node.name == "has" and node.value == "link":
            return frozenset({("w", "http"), ("w", "https"), ("w", "www")})
        return None
    if isinstance(node, ast.Not):
        return None
    if isinstance(node, ast.Near):
        options = [a for a in (anchors(node.left), anchors(node.right)) if a]
        return min(options, key=_score) if options else None
    if isinstance(node, ast.And):
        options = [a for a in map(anchors, node.children) if a]
        return min(options, key=_score) if options else None
    union: set[Anchor] = set()
    for child in node.children:
        found = anchors(child)
        if found is None:
            return None
        union |= found
    return frozenset(union)
