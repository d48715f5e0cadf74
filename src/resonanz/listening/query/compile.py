"""Tree -> a test function over a :class:`~resonanz.listening.query.match.PreparedDoc` (the
:class:`~resonanz.listening.query.match.Matcher` plans many queries at once with :mod:`.scan`).

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


@dataclass(frozen=True)
class CompiledQuery:
    """A query ready to run: rebuilt from ``text`` alone (what a stored query keeps)."""

    text: str
    tree: ast.Node
    normalized: str
    test: Test


def compile_query(text: str) -> CompiledQuery:
    """Parse and compile; raises QuerySyntaxError."""
    tree = parse(text)
    return compile_tree(tree, text=text)


def compile_tree(tree: ast.Node, *, text: str | None = None) -> CompiledQuery:
    normalized = ast.to_text(tree)
    return CompiledQuery(text if text is not None else normalized, tree, normalized, node_test(tree))


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


def node_test(node: ast.Node) -> Test:
    """The exact test of one node (and its children) over a prepared mention."""
    # Checking one query (a draft, history candidates, alerts, routing): closures over plain
    # values and substring tests on the joined words, no generator per call. The matcher answers
    # words, phrases and prefixes from its automaton instead (:mod:`.scan`) and calls these
    # closures only for the other leaves.
    if isinstance(node, ast.Term):
        key = f" {node.word} "
        return lambda d: key in d.joined
    if isinstance(node, ast.Phrase):
        needle = " " + " ".join(node.words) + " "
        return lambda d: needle in d.joined
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
        inner = node_test(node.child)
        return lambda d: not inner(d)
    if isinstance(node, ast.And):
        return _all(tuple(node_test(c) for c in node.children))
    if isinstance(node, ast.Or):
        return _any(tuple(node_test(c) for c in node.children))
    return _near_test(node)


def _handle_test(handle: str) -> Test:
    if "@" in handle:
        return lambda d: handle in d.handles
    return lambda d: handle in d.handle_names


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
        return lambda d: [(p, p) for p in d.word_positions(word)]
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
    # both sides present at all? (substring tests) before any positions are listed
    left_present, right_present = node_test(node.left), node_test(node.right)
    positions = near_positions_test(node)
    return lambda d: left_present(d) and right_present(d) and positions(d)


def near_positions_test(node: ast.Near) -> Test:
    """NEAR's test on word positions alone: callers have checked that both sides occur."""
    left, right, distance, ordered = spans(node.left), spans(node.right), node.distance, node.ordered

    def test(d: PreparedDoc) -> bool:
        lefts, rights = left(d), right(d)
        for ls, le in lefts:
            for rs, re_ in rights:
                if rs > le and rs - le - 1 <= distance:
                    return True
                if not ordered and ls > re_ and ls - re_ - 1 <= distance:
                    return True
        return False

    return test
