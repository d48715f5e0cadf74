"""``NEAR/n`` and ``ONEAR/n`` for a batch of mentions, from the automaton's hits.

The automaton's pass already says where each word, phrase and prefix of a NEAR stands: the index
of the word a hit starts at (the number of spaces before the key's leading space in the mention's
joined words, :mod:`.keyscan`). So a NEAR whose sides are words, phrases and prefixes (or ORs of them) is decided by
comparing those indexes in numpy for all candidates at once, with the same rule as
:func:`resonanz.listening.query.compile.near_positions_test`: a right span starting at most ``n``
words after a left span ends (or, unordered, the other way round). A NEAR with a ``?`` pattern or
inside a larger query stays with the generated check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from resonanz.listening.query import ast
from resonanz.listening.query.arrays import BoolArray, IntArray, ranges
from resonanz.listening.query.scan import leaf_key

if TYPE_CHECKING:
    from collections.abc import Sequence

#: one side of a NEAR: (atom, words after the first) per word, phrase or prefix
Side = list[tuple[int, int]]


def _side(node: ast.Node, atom_ids: dict[str, int]) -> Side | None:
    if isinstance(node, ast.Or):
        found: Side = []
        for child in node.children:
            part = _side(child, atom_ids)
            if part is None:
                return None
            found += part
        return found
    key = leaf_key(node)
    if key is None:
        return None
    return [(atom_ids[key], len(node.words) - 1 if isinstance(node, ast.Phrase) else 0)]


@dataclass(frozen=True, slots=True)
class NearPlan:
    left: Side
    right: Side
    distance: int
    ordered: bool


def near_plan(tree: ast.Node, atom_ids: dict[str, int]) -> NearPlan | None:
    """The query as one NEAR between words, phrases and prefixes, or None for any other shape."""
    if not isinstance(tree, ast.Near):
        return None
    left, right = _side(tree.left, atom_ids), _side(tree.right, atom_ids)
    if left is None or right is None:
        return None
    return NearPlan(left, right, tree.distance, tree.ordered)


def _csr(rows: int, items: Sequence[tuple[int, Side]], column: int) -> tuple[IntArray, IntArray]:
    counts = np.zeros(rows + 1, dtype=np.int64)
    for row, side in items:
        counts[row + 1] = len(side)
    pointers = np.cumsum(counts)
    flat = np.array([pair[column] for _, side in items for pair in side], dtype=np.int64)
    return pointers, flat


class NearTables:
    """Per query: whether it is a plain NEAR, and its sides as CSR arrays."""

    def __init__(self, plans: Sequence[NearPlan | None], atom_count: int) -> None:
        queries = len(plans)
        self.is_near = np.array([p is not None for p in plans], dtype=bool)
        lefts = [(q, p.left) for q, p in enumerate(plans) if p is not None]
        rights = [(q, p.right) for q, p in enumerate(plans) if p is not None]
        self.left_ptr, self.left_atom = _csr(queries, lefts, 0)
        _, self.left_extra = _csr(queries, lefts, 1)
        self.right_ptr, self.right_atom = _csr(queries, rights, 0)
        _, self.right_extra = _csr(queries, rights, 1)
        self.distance = np.array([p.distance if p else 0 for p in plans], dtype=np.int64)
        self.ordered = np.array([bool(p and p.ordered) for p in plans], dtype=bool)
        self.in_near = np.zeros(max(atom_count, 1), dtype=bool)
        for plan in plans:
            if plan is not None:
                self.in_near[[atom for atom, _ in plan.left + plan.right]] = True


@dataclass(frozen=True, slots=True)
class Hits:
    """Every automaton hit of a batch, sorted by ``mention * atoms + atom``, with the index of the
    word it starts at."""

    codes: IntArray
    words: IntArray

    @classmethod
    def of(cls, docs: IntArray, atoms: IntArray, words: IntArray, tables: NearTables, width: int) -> Hits:
        # only the hits of a NEAR's atoms
        mine = tables.in_near[atoms]
        docs, atoms, words = docs[mine], atoms[mine], words[mine]
        codes = docs * width + atoms
        order = np.argsort(codes, kind="stable")
        return cls(codes[order], words[order])


def _spans(
    hits: Hits,
    pointers: IntArray,
    side_atoms: IntArray,
    extras: IntArray,
    docs: IntArray,
    queries: IntArray,
    width: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """``(candidate, first word, last word)`` of every occurrence of a side in its mention."""
    counts = pointers[queries + 1] - pointers[queries]
    owner, at = ranges(pointers[queries], counts)
    wanted = docs[owner] * width + side_atoms[at]
    low = np.searchsorted(hits.codes, wanted, side="left")
    high = np.searchsorted(hits.codes, wanted, side="right")
    which, index = ranges(low, high - low)
    first = hits.words[index]
    return owner[which], first, first + extras[at[which]]


def near_holds(tables: NearTables, hits: Hits, docs: IntArray, queries: IntArray, width: int) -> BoolArray:
    """For each candidate ``(docs[i], queries[i])`` of a plain NEAR query: does it match?"""
    count = len(docs)
    left, l_first, l_last = _spans(hits, tables.left_ptr, tables.left_atom, tables.left_extra, docs, queries, width)
    right, r_first, r_last = _spans(hits, tables.right_ptr, tables.right_atom, tables.right_extra, docs, queries, width)
    # every (left, right) pair of one candidate
    per_candidate = np.bincount(right, minlength=count)
    first_right = np.cumsum(per_candidate) - per_candidate
    pair, r = ranges(first_right[left], per_candidate[left])
    owner = left[pair]
    distance, ordered = tables.distance[queries[owner]], tables.ordered[queries[owner]]
    ls, le, rs, re_ = l_first[pair], l_last[pair], r_first[r], r_last[r]
    near = ((rs > le) & (rs - le - 1 <= distance)) | (~ordered & (ls > re_) & (ls - re_ - 1 <= distance))
    return np.bincount(owner, weights=near, minlength=count) > 0
