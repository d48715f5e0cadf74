"""Atoms the automaton does not find, for the batch matcher (:mod:`.batch`).

Beyond the automaton's keys (words, phrases, prefixes) a batch numbers more atoms, so that the
queries that name them are answered by lookups too:

- **plain field values** (``lang:de``, ``sentiment:negative``): a mention has the atom of each
  value it holds;
- **leaves that need an exact test** — ``?`` patterns, ``#hashtags``, ``@handles``: the test runs
  once per mention that has the leaf's keys (a pattern's literal pieces; a tag's longest word and
  the '#' or '@' mark), never once per query, and a mention that passes has the leaf's atom.

A query is then a *literal* formula: an AND of literals (each maybe under NOT), or an OR of
literals with at most one plain NEAR (:mod:`.batch_near`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import product, repeat
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

import numpy as np

from resonanz.listening.query import ast
from resonanz.listening.query.arrays import IntArray, Presence, csr, expand
from resonanz.listening.query.compile import joined_regex, node_test
from resonanz.listening.query.scan import AT_MARK, HASH_MARK, PLAIN_FIELDS, leaf_key, pattern_pieces
from resonanz.mentions.tokens import words

if TYPE_CHECKING:
    from resonanz.listening.query.match import Doc, PreparedDoc
    from resonanz.listening.query.scan import Atoms

#: (atom, present?): the mention has the atom, or (False) has it not
Literal = tuple[int, bool]


def walk(node: ast.Node) -> Iterator[ast.Node]:
    yield node
    if isinstance(node, (ast.And, ast.Or)):
        for child in node.children:
            yield from walk(child)
    elif isinstance(node, ast.Not):
        yield from walk(node.child)
    elif isinstance(node, ast.Near):
        yield from walk(node.left)
        yield from walk(node.right)


def tag_key(node: ast.Hashtag | ast.Handle) -> str | None:
    """The automaton key of a hashtag's or handle's longest word (present wherever it is)."""
    parts = words(node.tag if isinstance(node, ast.Hashtag) else node.handle)
    return f" {max(parts, key=len)} " if parts else None


#: the characters of an ASCII mention's index words (resonanz.mentions.tokens: [0-9a-z]+)
ASCII_WORD_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"
#: a ``?`` pattern is spelled out into at most this many keys (two '?'), else always tested
MAX_SPELLED = len(ASCII_WORD_CHARS) ** 2


def spelled_keys(node: ast.Pattern) -> list[str]:
    """A ``?`` pattern as every key it can be in an ASCII mention's joined words (``kaum?``:
    ``" kauma "`` … ``" kaum9 "``; with a trailing ``*`` prefix keys): found by the automaton, so
    most mentions need no regex. Empty when there would be more than :data:`MAX_SPELLED`."""
    parts = node.pattern.rstrip("*").split("?")
    if len(ASCII_WORD_CHARS) ** (len(parts) - 1) > MAX_SPELLED:
        return []
    end = "" if node.pattern.endswith("*") else " "
    return [
        " " + "".join(part + char for part, char in zip(parts, (*fill, ""), strict=True)) + end
        for fill in product(ASCII_WORD_CHARS, repeat=len(parts) - 1)
    ]


def number_leaf_keys(tree: ast.Node, atoms: Atoms) -> None:
    """Put the keys the batch needs beyond the generated checks' into the automaton: a hashtag's
    or handle's word (the checks use only the '#'/'@' marks), a ``?`` pattern spelled out."""
    for node in walk(tree):
        if isinstance(node, (ast.Hashtag, ast.Handle)) and (key := tag_key(node)) is not None:
            atoms.id(key)
        elif isinstance(node, ast.Pattern) and not node.is_prefix:
            for key in spelled_keys(node):
                atoms.id(key)


@dataclass(frozen=True, slots=True)
class Leaf:
    """A leaf tested once per mention that has its ``needs`` atoms."""

    atom: int
    needs: tuple[int, ...]  # zero to two atoms every match has
    spelled: tuple[int, ...]  # a pattern's spelled-out keys: any present is a match (then the
    # regex runs only for mentions with other than ASCII words)
    search: Callable[[str], re.Match[str] | None] | None  # a ``?`` pattern over the joined words
    needle: str  # else: a substring of the folded text every match has ('#tag', '@name')
    test: Callable[[PreparedDoc], bool] | None  # … and then the exact test


class ExtraAtoms:
    """Field values and tested leaves numbered after the automaton's atoms."""

    def __init__(self, atom_ids: dict[str, int], first: int) -> None:
        self.atom_ids = atom_ids
        self.next = first
        self.fields: dict[str, dict[str | None, int]] = {}
        self.leaves: dict[ast.Node, Leaf] = {}

    def _new(self) -> int:
        self.next += 1
        return self.next - 1

    def literal(self, node: ast.Node) -> Literal | None:
        """The node as a literal, or None where it is not one (an AND, OR, NEAR, other fields)."""
        if isinstance(node, ast.Not):
            inner = self.literal(node.child)
            return (inner[0], not inner[1]) if inner is not None else None
        key = leaf_key(node)
        if key is not None:
            return (self.atom_ids[key], True)
        if isinstance(node, ast.Field) and node.name in PLAIN_FIELDS:
            values = self.fields.setdefault(node.name, {})
            if node.value not in values:
                values[node.value] = self._new()
            return (values[node.value], True)
        if isinstance(node, (ast.Pattern, ast.Hashtag, ast.Handle)):
            leaf = self.leaves.get(node)
            if leaf is None:
                leaf = self.leaves[node] = self._leaf(node)
            return (leaf.atom, True)
        return None

    def _leaf(self, node: ast.Pattern | ast.Hashtag | ast.Handle) -> Leaf:
        if isinstance(node, ast.Pattern):
            pieces = sorted(pattern_pieces(node), key=lambda k: (-len(k), k))[:2]
            needs = tuple(self.atom_ids[k] for k in pieces)
            spelled = tuple(self.atom_ids[k] for k in spelled_keys(node))
            return Leaf(self._new(), needs, spelled, joined_regex(node.pattern).search, "", None)
        key = tag_key(node)
        mark = HASH_MARK if isinstance(node, ast.Hashtag) else AT_MARK
        # the word first: far fewer mentions have it than have some '#' or '@'
        needs = ((self.atom_ids[key],) if key is not None else ()) + (self.atom_ids[mark],)
        needle = "#" + node.tag if isinstance(node, ast.Hashtag) else "@" + node.handle
        return Leaf(self._new(), needs, (), None, needle, node_test(node))

    def field_codes(self, docs: Sequence[Doc], width: int) -> list[IntArray]:
        """``mention * width + atom`` for every field value the mentions have that a query names."""
        found = []
        for name, values in self.fields.items():
            # dict.get(value, -1) through map: no Python frame per mention
            column = np.fromiter(map(values.get, map(attrgetter(name), docs), repeat(-1)), np.int64, len(docs))
            at = np.flatnonzero(column >= 0)
            if len(at):
                found.append(at * width + column[at])
        return found

    def freeze(self, width: int) -> None:
        """Build the leaves' lookup tables (after every query's formula is made): which leaves a
        present atom spells out, and which leaves it is the first need of."""
        leaves = self.leaf_list = list(self.leaves.values())
        self.leaf_atom = np.array([leaf.atom for leaf in leaves], dtype=np.int64)
        spelled: dict[int, list[int]] = {}
        first: dict[int, list[int]] = {}
        for i, leaf in enumerate(leaves):
            for atom in leaf.spelled:
                spelled.setdefault(atom, []).append(i)
            if leaf.needs:
                first.setdefault(leaf.needs[0], []).append(i)
        self.spelled_ptr, self.spelled_leaf = csr(width, list(spelled.items()))
        self.first_ptr, self.first_leaf = csr(width, list(first.items()))
        self.second = np.array([leaf.needs[1] if len(leaf.needs) > 1 else -1 for leaf in leaves], dtype=np.int64)
        self.is_spelled = np.array([bool(leaf.spelled) for leaf in leaves], dtype=bool)
        self.unconditional = np.array([i for i, leaf in enumerate(leaves) if not leaf.needs], dtype=np.int64)
        #: a leaf's second need as a presence column (-1: none); set by the batch's tables
        self.second_column = np.full(len(leaves), -1, dtype=np.int64)

    def leaf_hits(
        self,
        docs: IntArray,
        atoms: IntArray,
        texts: Sequence[tuple[str, str]],
        prepared: Callable[[int], PreparedDoc],
        presence: Presence,
    ) -> tuple[IntArray, IntArray]:
        """``(mentions, leaf atoms)``: every tested leaf a mention passes (a pair may repeat).
        ``docs``/``atoms``: the atoms the mentions hold; ``texts``: (folded, joined) per mention;
        ``presence``: the same atoms as a matrix, for the leaves' second needs."""
        leaves = self.leaf_list
        if not leaves:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        # a spelled-out key present: the pattern matches (no regex)
        owner, at = expand(self.spelled_ptr, atoms)
        found_docs, found_atoms = [docs[owner]], [self.leaf_atom[self.spelled_leaf[at]]]
        # the exact test where the needed atoms are present (every mention for a leaf without):
        # for a spelled-out pattern only in mentions with words beyond ASCII
        owner, at = expand(self.first_ptr, atoms)
        pair_leaf, pair_doc = self.first_leaf[at], docs[owner]
        wanted = self.second_column[pair_leaf]
        keep = (wanted < 0) | presence.holds(pair_doc, np.maximum(wanted, 0))
        spelled = self.is_spelled[pair_leaf]
        if spelled.any():
            ascii_only = np.fromiter(map(str.isascii, map(itemgetter(1), texts)), bool, len(texts))
            keep &= ~(spelled & ascii_only[pair_doc])
        pair_leaf, pair_doc = pair_leaf[keep], pair_doc[keep]
        if len(self.unconditional):
            every = np.arange(len(texts), dtype=np.int64)
            pair_leaf = np.concatenate([pair_leaf, np.repeat(self.unconditional, len(texts))])
            pair_doc = np.concatenate([pair_doc, np.tile(every, len(self.unconditional))])
        passed = []
        for i, d in zip(pair_leaf.tolist(), pair_doc.tolist(), strict=True):
            leaf = leaves[i]
            if leaf.search is not None:
                ok = leaf.search(texts[d][1]) is not None
            else:
                assert leaf.test is not None
                ok = leaf.needle in texts[d][0] and leaf.test(prepared(d))
            passed.append(ok)
        tested = np.array(passed, dtype=bool)
        found_docs.append(pair_doc[tested])
        found_atoms.append(self.leaf_atom[pair_leaf[tested]])
        return np.concatenate(found_docs), np.concatenate(found_atoms)
