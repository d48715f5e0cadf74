"""How the :class:`~resonanz.listening.query.match.Matcher` finds the queries of a mention with one
Aho–Corasick pass.

A mention's words stand in :attr:`~resonanz.listening.query.match.PreparedDoc.joined` with one
space around each (``" die deutsche bahn "``), so every text leaf of a query is a substring *key*:

- a word ``w`` is the key ``" w "`` (a whole word, never part of one);
- a phrase is ``" a b c "`` (its words at consecutive positions);
- a prefix pattern ``stem*`` is ``" stem"`` (a word starting with the stem).

All keys of all active queries go into one automaton (:mod:`ahocorasick`, in C); one pass over
``joined`` gives the set of keys present (as small ints, "atoms"). Each query is then *planned*:

- its triggers: one or two atoms that every match contains (None: the query is checked always);
- decided: the query is an atom or an OR of atoms, so a present trigger *is* a match;
- otherwise a check ``(atoms present, doc) -> bool``, generated as one Python function that reads
  the atom set for every word, phrase and prefix, compares the plain fields, and calls the exact
  closures of :mod:`.compile` only for what atoms cannot answer (``?`` wildcards, NEAR positions,
  hashtags, handles, sites, names).

The plan says the same as :func:`resonanz.listening.query.compile.compile_query`'s test (the
tests hold the two together); it is only faster, because the word lookups happened in C.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resonanz.listening.query import ast
from resonanz.listening.query.compile import near_positions_test, node_test
from resonanz.mentions.tokens import words

if TYPE_CHECKING:
    from resonanz.listening.query.match import PreparedDoc

#: a plan's check: the atoms present in the mention, the mention -> does the query match?
Check = Callable[[set[int], "PreparedDoc"], bool]

#: fields that compare a stored column as it is: read straight from the Doc in generated code
PLAIN_FIELDS = ("lang", "platform", "sentiment", "intent")
#: atoms that are not words: the mention's text (title or body) contains this character, without
#: which it has no hashtag or handle. Keys with a newline, which ``joined`` never holds.
HASH_MARK, AT_MARK = "\n#", "\n@"
MARKS = {HASH_MARK: "#", AT_MARK: "@"}


class Atoms:
    """Keys (substrings of ``joined``) numbered in the order they are first used."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def id(self, key: str) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids)
        return found


def leaf_key(node: ast.Node) -> str | None:
    """The key that is present in ``joined`` exactly when this leaf matches (None: no such key)."""
    if isinstance(node, ast.Term):
        return f" {node.word} "
    if isinstance(node, ast.Phrase):
        return " " + " ".join(node.words) + " "
    if isinstance(node, ast.Pattern) and node.is_prefix:
        return " " + node.pattern[:-1]
    return None


def pattern_pieces(node: ast.Pattern) -> list[str]:
    """Substrings of ``joined`` that every word matching a ``?`` pattern puts there: the literal
    start after a space (``" orga"`` for ``orga?isation``), the literal end before a space
    (``"isation "``, unless the pattern ends in ``*``) and longer literal runs in between. Short
    runs are left out: a two-letter key would be found in most mentions and only cost time."""
    parts = node.pattern.rstrip("*").split("?")
    found = []
    if len(parts[0]) >= 2:
        found.append(" " + parts[0])
    found += [part for part in parts[1:-1] if len(part) >= 3]
    if len(parts) > 1 and not node.pattern.endswith("*") and len(parts[-1]) >= 2:
        found.append(parts[-1] + " ")
    elif len(parts) > 1 and len(parts[-1]) >= 3:
        found.append(parts[-1])
    return found


#: keys that must all be present for a query to be worth checking (one or two)
Trigger = tuple[str, ...]
#: an AND or NEAR pairs the triggers of two operands only while there are at most this many pairs
MAX_PAIRS = 16


def _key_rank(key: str) -> tuple[int, str]:
    """Longer keys first (rarer, so they let fewer mentions through); then by text, so a plan
    does not depend on set order."""
    return (-len(key), key)


def _merge(first: Trigger, second: Trigger) -> Trigger:
    """Both triggers required: the two best of their keys (any subset of required keys is still
    required, so dropping the rest only lets more mentions through to the check)."""
    return tuple(sorted(set(first) | set(second), key=_key_rank)[:2])


def _rank(option: frozenset[Trigger]) -> tuple[int, int, int, int]:
    """Lower is better: few triggers, pairs over single keys, whole words over stems, long keys."""
    return (
        len(option),
        -min(len(t) for t in option),
        sum(not k.endswith(" ") for t in option for k in t),
        -min(len(k) for t in option for k in t),
    )


def triggers(node: ast.Node) -> frozenset[Trigger] | None:
    """When a mention may match this node: at least one trigger has all its keys present in
    ``joined`` (None: no such set, the node is checked for every mention).

    Words, phrases and prefixes trigger on their own key, a ``?`` pattern on its two longest
    literal pieces, a hashtag or handle on its longest word with a '#' or '@' in the text,
    ``has:link`` on ``http``, ``https`` or ``www``, ``has:hashtag``/``has:mention`` on the mark;
    an OR on any of its operands' triggers; an AND or NEAR on pairs made from two of its operands
    (``nordwelle kaputt``: both words), so a query over a common brand name is not checked for
    every mention naming the brand."""
    key = leaf_key(node)
    if key is not None:
        return frozenset({(key,)})
    if isinstance(node, ast.Pattern):
        pieces = sorted(pattern_pieces(node), key=_key_rank)[:2]
        return frozenset({tuple(pieces)}) if pieces else None
    if isinstance(node, (ast.Hashtag, ast.Handle)):
        mark = HASH_MARK if isinstance(node, ast.Hashtag) else AT_MARK
        parts = words(node.tag if isinstance(node, ast.Hashtag) else node.handle)
        return frozenset({(f" {max(parts, key=len)} ", mark) if parts else (mark,)})
    if isinstance(node, ast.Field):
        if node.name == "has" and node.value == "link":
            return frozenset({(" http ",), (" https ",), (" www ",)})
        if node.name == "has":
            return frozenset({(HASH_MARK if node.value == "hashtag" else AT_MARK,)})
        return None
    if isinstance(node, ast.Not):
        return None
    if isinstance(node, (ast.Near, ast.And)):
        children = (node.left, node.right) if isinstance(node, ast.Near) else node.children
        options = sorted((t for t in map(triggers, children) if t), key=_rank)
        if not options:
            return None
        if len(options) == 1 or len(options[0]) * len(options[1]) > MAX_PAIRS:
            return options[0]
        return frozenset(_merge(a, b) for a in options[0] for b in options[1])
    assert isinstance(node, ast.Or), node
    union: set[Trigger] = set()
    for child in node.children:
        found = triggers(child)
        if found is None:
            return None
        union |= found
    return frozenset(union)


@dataclass(frozen=True, slots=True)
class Plan:
    """One query, ready for the matcher."""

    #: atom ids, one or two per trigger (the rarer-looking key first); None: checked always
    triggers: frozenset[tuple[int, ...]] | None
    decided: bool  # a present trigger is a match: no check runs
    check: Check


def plan(tree: ast.Node, atoms: Atoms) -> Plan:
    """The query's triggers and check; every key it reads is numbered in ``atoms``."""
    found = triggers(tree)
    numbered = frozenset(tuple(atoms.id(k) for k in t) for t in found) if found is not None else None
    leaves = tree.children if isinstance(tree, ast.Or) else (tree,)
    decided = numbered is not None and all(leaf_key(leaf) is not None for leaf in leaves)
    return Plan(numbered, decided, _Codegen(atoms).function(tree))


class _Codegen:
    """The query as one Python function ``check(A, d)``: ``return (3 in A and (17 in A or not
    d.doc.lang == c0))``. One call per candidate query instead of a closure call per node. Atom
    ids are ints we numbered; every other value is bound by name (``c0`` …), never pasted into
    the code."""

    def __init__(self, atoms: Atoms) -> None:
        self.atoms = atoms
        self.names: dict[str, object] = {}

    def const(self, value: object) -> str:
        name = f"c{len(self.names)}"
        self.names[name] = value
        return name

    def expr(self, node: ast.Node) -> str:
        key = leaf_key(node)
        if key is not None:
            return f"({self.atoms.id(key)} in A)"
        if isinstance(node, ast.Field) and node.name in PLAIN_FIELDS:
            return f"(d.doc.{node.name} == {self.const(node.value)})"
        # '#tag' (or '@name') as a substring of the folded text before the mention's hashtags
        # (handles) are listed: folding is per character, so a mention whose hashtags hold
        # fold(tag) has '#' + fold(tag) in its folded text; most mentions with the word and some
        # '#' have no such hashtag, and listing hashtags reads the raw text with two regexes
        if isinstance(node, ast.Hashtag):
            needle, tag = self.const("#" + node.tag), self.const(node.tag)
            return f"({self.atoms.id(HASH_MARK)} in A and {needle} in d.folded and {tag} in d.hashtags)"
        if isinstance(node, ast.Handle):
            names = "handles" if "@" in node.handle else "handle_names"
            needle = self.const("@" + node.handle)
            return (
                f"({self.atoms.id(AT_MARK)} in A and {needle} in d.folded and {self.const(node.handle)} in d.{names})"
            )
        if isinstance(node, ast.Not):
            return f"(not {self.expr(node.child)})"
        if isinstance(node, (ast.And, ast.Or)):
            joiner = " and " if isinstance(node, ast.And) else " or "
            return "(" + joiner.join(self.expr(c) for c in node.children) + ")"
        if isinstance(node, ast.Pattern):
            # every literal piece present (atom lookups) before the regex runs over the words
            pieces = "".join(f"{self.atoms.id(k)} in A and " for k in pattern_pieces(node))
            return f"({pieces}{self.const(node_test(node))}(d))"
        if isinstance(node, ast.Near):
            # both sides present (atom lookups) before any word positions are listed
            near = self.const(near_positions_test(node))
            return f"({self.expr(node.left)} and {self.expr(node.right)} and {near}(d))"
        return f"{self.const(node_test(node))}(d)"

    def function(self, tree: ast.Node) -> Check:
        source = f"def check(A, d):\n    return {self.expr(tree)}\n"
        namespace: dict[str, object] = dict(self.names)
        exec(compile(source, "<listening query>", "exec"), namespace)  # noqa: S102 - our own code, values bound by name
        check = namespace["check"]
        assert callable(check)
        return check
