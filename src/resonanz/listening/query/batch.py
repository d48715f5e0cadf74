"""Matching a batch of mentions at once: the :class:`~resonanz.listening.query.match.Matcher`'s
fast path for a stream.

Per mention, the matcher's Python work (a set of atoms, a union over trigger tables, a loop over
pair triggers, a sorted list of candidates) cost more than the Aho–Corasick pass that found the
atoms. For a batch it is done once, in numpy, over arrays of ``(mention, atom)`` hits:

1. the joined words of all mentions, one newline between two mentions (no key holds a newline, so
   no key is found across two mentions), go through the automaton in one pass (:mod:`.keyscan`),
   which says each hit's mention, atom and word index;
2. the distinct ``(mention, atom)`` pairs are one sorted array of codes ``mention * atoms + atom``;
3. single-key triggers and pair triggers expand those pairs into ``(mention, query)`` candidates
   through CSR tables (a pair's second key is looked up among the codes by binary search);
4. candidates whose query is decided by its trigger are matches; the others run the query's
   generated check (:mod:`.scan`) with the mention's atoms as a set, exactly as :meth:`match`
   does.

The answer is the same as :meth:`Matcher.match` per mention (tests hold the two together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, contains
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from resonanz.listening.query import ast
from resonanz.listening.query.arrays import Presence, csr, distinct, expand
from resonanz.listening.query.batch_leaves import ExtraAtoms, Literal
from resonanz.listening.query.batch_near import Hits, NearPlan, NearTables, near_holds, near_plan

if TYPE_CHECKING:
    from resonanz.listening.query.match import Doc, Matcher, PreparedDoc


@dataclass(frozen=True, slots=True)
class Formula:
    """A query as literals: all must hold (``conjunctive``), or any of them or its NEAR."""

    literals: list[Literal]
    conjunctive: bool
    near: NearPlan | None = None


def formula(tree: ast.Node, extra: ExtraAtoms) -> Formula | None:
    """The query as a :class:`Formula`, or None for other shapes (left to the generated check)."""
    if isinstance(tree, ast.And):
        found = [lit for child in tree.children if (lit := extra.literal(child)) is not None]
        return Formula(found, True) if len(found) == len(tree.children) else None
    children = tree.children if isinstance(tree, ast.Or) else (tree,)
    literals, nears = [], []
    for child in children:
        lit = extra.literal(child) if not isinstance(child, ast.Near) else None
        if lit is not None:
            literals.append(lit)
        elif isinstance(child, ast.Near) and (plan := near_plan(child, extra.atom_ids)) is not None:
            nears.append(plan)
        else:
            return None
    if len(nears) > 1:
        return None
    return Formula(literals, False, nears[0] if nears else None)


class BatchTables:
    """The matcher's trigger tables and query formulas as arrays (built once per matcher)."""

    def __init__(self, matcher: Matcher[Any]) -> None:
        self.extra = ExtraAtoms(matcher.atom_ids, matcher.atom_count)
        self.queries = len(matcher.keys)
        formulas = [
            formula(tree, self.extra) if check is not None else None
            for tree, check in zip(matcher.trees, matcher.checks, strict=True)
        ]
        self.conjunctive = np.array([f is not None and f.conjunctive for f in formulas], dtype=bool)
        self.disjunctive = np.array([f is not None and not f.conjunctive for f in formulas], dtype=bool)
        #: the NEAR of a disjunctive formula (:mod:`.batch_near`)
        self.near = NearTables([f.near if f else None for f in formulas], matcher.atom_count)
        literals = [(q, f.literals) for q, f in enumerate(formulas) if f]
        self.literal_ptr, self.literal_atom = csr(self.queries, [(q, [a for a, _ in lits]) for q, lits in literals])
        _, present = csr(self.queries, [(q, [int(p) for _, p in lits]) for q, lits in literals])
        self.literal_present = present.astype(bool)
        atoms = self.atoms = self.extra.next
        self.extra.freeze(atoms)
        self.single_ptr, self.single_q = csr(atoms, list(enumerate(matcher.triggered)))
        pairs = list(enumerate(matcher.pairs))
        pair_rows = [(first, [q for _, queries in items for q in queries]) for first, items in pairs]
        second_rows = [(first, [s for s, queries in items for _ in queries]) for first, items in pairs]
        self.pair_ptr, self.pair_q = csr(atoms, pair_rows)
        _, self.pair_second = csr(atoms, second_rows)
        self.always = np.array(sorted(matcher.always), dtype=np.int64)
        self.decided = np.array([check is None for check in matcher.checks], dtype=bool)
        #: queries the batch answers in numpy: decided by a trigger, or a formula
        self.vectorised = self.decided | self.conjunctive | self.disjunctive
        keys = np.empty(len(matcher.keys), dtype=object)
        keys[:] = matcher.keys
        self.keys = keys
        # the atoms a batch asks about per mention (:class:`.arrays.Presence`), as columns
        seconds = self.extra.second[self.extra.second >= 0]
        asked = np.unique(np.concatenate([self.pair_second, self.literal_atom, seconds]))
        self.column = np.full(max(atoms, 1), -1, dtype=np.int64)
        self.column[asked] = np.arange(len(asked))
        self.columns = len(asked)
        self.pair_column = self.column[self.pair_second]
        self.literal_column = self.column[self.literal_atom]
        self.extra.second_column = np.where(self.extra.second >= 0, self.column[self.extra.second], -1)
        #: mentions per numpy pass: the presence matrix stays within PRESENCE_CELLS (and the
        #: arrays within the CPU caches)
        self.batch = max(8, min(1024, PRESENCE_CELLS // max(self.columns, 1)))


def match_prepared(
    matcher: Matcher[Any],
    tables: BatchTables,
    docs: Sequence[Doc | PreparedDoc],
    folded: Sequence[str | None] | None = None,
) -> list[list[Any]]:
    """The keys of the queries each of ``docs`` matches (see the module's docstring). ``folded``:
    per mention, the body ingest already folded, or None."""
    from resonanz.listening.query.match import PreparedDoc, fold_and_join_batch  # match imports this module

    count = len(docs)
    atoms, queries = max(tables.atoms, 1), max(tables.queries, 1)
    # folded and joined strings, no PreparedDoc: a batch of those alive at once costs more in
    # allocation and garbage collection than the matching; one is made only for a check
    if PreparedDoc not in map(type, docs):  # C-level: no generator frame per mention
        plain = cast("list[Doc]", list(docs))
        bodies, joined = fold_and_join_batch(plain, folded)
    else:
        given = folded or [None] * count
        ready = [
            doc if isinstance(doc, PreparedDoc) else PreparedDoc(doc, folded=f)
            for doc, f in zip(docs, given, strict=True)
        ]
        plain = [doc.doc for doc in ready]
        bodies, joined = [doc.folded for doc in ready], [doc.joined for doc in ready]
    texts = list(zip(bodies, joined, strict=True))
    finder = matcher._finder
    if finder is not None:
        hit_docs, hit_atoms, hit_words = finder.hits("\n".join(joined))
        codes_parts = [hit_docs * atoms + hit_atoms]
    else:
        hit_docs = hit_atoms = hit_words = np.zeros(0, dtype=np.int64)
        codes_parts = []
    if matcher._marks:
        raw = list(map(_TEXT, plain))
        titled = np.flatnonzero(np.fromiter(map(bool, map(_TITLE, plain)), dtype=bool, count=count)).tolist()
        for mark, atom in matcher._marks:
            marked = np.fromiter(map(contains, raw, repeat(mark)), dtype=bool, count=count)
            for i in titled:
                marked[i] |= mark in plain[i].title  # type: ignore[operator]
            codes_parts.append(np.flatnonzero(marked) * atoms + atom)
    codes_parts += tables.extra.field_codes(plain, atoms)
    codes = distinct(np.concatenate(codes_parts)) if codes_parts else np.zeros(0, dtype=np.int64)

    made: dict[int, PreparedDoc] = {}

    def prepared(d: int) -> PreparedDoc:
        """The mention prepared for an exact test (made once, only when a test needs it)."""
        doc = made.get(d)
        if doc is None:
            mine = docs[d]
            body, spaced = texts[d]
            doc = made[d] = mine if isinstance(mine, PreparedDoc) else PreparedDoc(plain[d], folded=body, joined=spaced)
        return doc

    # the tested leaves (patterns, hashtags, handles) need the atoms found so far: a second merge
    # the tested leaves (patterns, hashtags, handles) in an array of their own: only formulas
    # look them up, and the few of them are not worth sorting into the codes
    present_docs, present_atoms = codes // atoms, codes % atoms
    presence = Presence(count, tables.columns)
    presence.add(present_docs, tables.column[present_atoms])
    leaf_docs, leaf_atoms = tables.extra.leaf_hits(present_docs, present_atoms, texts, prepared, presence)
    presence.add(leaf_docs, tables.column[leaf_atoms])

    # (mention, query) candidates from single keys, pairs of keys and queries checked always
    owner, at = expand(tables.single_ptr, present_atoms)
    found = [present_docs[owner] * queries + tables.single_q[at]]
    owner, at = expand(tables.pair_ptr, present_atoms)
    if len(at):
        hit = presence.holds(present_docs[owner], tables.pair_column[at])
        found.append(present_docs[owner[hit]] * queries + tables.pair_q[at[hit]])
    if len(tables.always):
        found.append((np.arange(count, dtype=np.int64)[:, None] * queries + tables.always[None, :]).ravel())
    candidates = distinct(np.concatenate(found))
    cand_docs, cand_queries = candidates // queries, candidates % queries

    keep = tables.decided[cand_queries]
    formulas = np.flatnonzero((tables.conjunctive | tables.disjunctive)[cand_queries])
    if len(formulas):
        # a literal holds when its atom is among the mention's codes exactly as it wants it
        rows = cand_queries[formulas]
        owner, at = expand(tables.literal_ptr, rows)
        holds = presence.holds(cand_docs[formulas][owner], tables.literal_column[at])
        holding = np.bincount(owner, weights=holds == tables.literal_present[at], minlength=len(formulas))
        literals = tables.literal_ptr[rows + 1] - tables.literal_ptr[rows]
        keep[formulas] = np.where(tables.conjunctive[rows], holding == literals, holding > 0)
    near = np.flatnonzero(tables.near.is_near[cand_queries] & ~keep)
    if len(near):
        located = Hits.of(hit_docs, hit_atoms, hit_words, tables.near, atoms)
        keep[near] = near_holds(tables.near, located, cand_docs[near], cand_queries[near], atoms)
    checked = np.flatnonzero(~tables.vectorised[cand_queries])
    if len(checked):
        checks = matcher.checks
        bounds = np.searchsorted(present_docs, np.arange(count + 1)).tolist()
        atom_list = present_atoms.tolist()
        sets: dict[int, set[int]] = {}
        results = []
        for d, q in zip(cand_docs[checked].tolist(), cand_queries[checked].tolist(), strict=True):
            present = sets.get(d)
            if present is None:
                present = sets[d] = set(atom_list[bounds[d] : bounds[d + 1]])
            check = checks[q]
            assert check is not None
            results.append(check(present, prepared(d)))
        keep[checked] = results
    kept_docs = cand_docs[keep]
    keys = tables.keys[cand_queries[keep]].tolist()
    cuts = np.searchsorted(kept_docs, np.arange(count + 1)).tolist()
    return list(map(keys.__getitem__, map(slice, cuts[:-1], cuts[1:])))


_TEXT, _TITLE = attrgetter("text"), attrgetter("title")
#: cells (bytes) of a batch's presence matrix at most: 1,024 mentions x 4,096 looked-up atoms
PRESENCE_CELLS = 1 << 22
