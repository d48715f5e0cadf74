"""The query tree. Words are stored folded and split into index words
(:func:`resonanz.mentions.tokens.words`), so two spellings of one query ("Straße", "STRASSE")
give the same tree, and :func:`to_text` prints one normalised form of it.

Nodes are frozen and hashable: equal queries compare equal, and a tree can be a dict key.
"""

from __future__ import annotations

from dataclasses import dataclass

#: fields and the values they accept (None: any value)
FIELDS: dict[str, frozenset[str] | None] = {
    "lang": None,
    "source": None,
    "platform": None,
    "author": None,
    "sentiment": frozenset({"positive", "negative", "neutral"}),
    "intent": frozenset({"complaint", "question", "praise", "suggestion", "other"}),
    "has": frozenset({"link", "hashtag", "mention"}),
    "site": None,
}


@dataclass(frozen=True, slots=True)
class Term:
    """One word."""

    word: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more words in this order, next to each other."""

    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One word with wildcards: ``?`` is exactly one character, a trailing ``*`` any rest."""

    pattern: str  # folded, with "?" and at most one trailing "*"

    @property
    def literal_prefix(self) -> str:
        """The characters before the first wildcard: every match starts with them."""
        cut = min((i for i in (self.pattern.find("?"), self.pattern.find("*")) if i >= 0), default=len(self.pattern))
        return self.pattern[:cut]

    @property
    def is_prefix(self) -> bool:
        """Only a trailing ``*``: the index can answer it exactly."""
        return "?" not in self.pattern and self.pattern.endswith("*")


@dataclass(frozen=True, slots=True)
class Field:
    """``name:value`` on a column or an entity of the mention (value folded)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Hashtag:
    """``#tag``: the mention uses this hashtag (tag folded, without '#')."""

    tag: str


@dataclass(frozen=True, slots=True)
class Handle:
    """``@name``: the mention mentions this account (folded, without the first '@')."""

    handle: str


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """``left NEAR/n right``: at most ``distance`` words between the two; ``ordered`` (ONEAR):
    left comes first. Each side is a term, phrase, pattern, or an Or of those."""

    left: Node
    right: Node
    distance: int
    ordered: bool


Node = Term | Phrase | Pattern | Field | Hashtag | Handle | Not | And | Or | Near
#: what may stand on either side of NEAR/ONEAR (or an Or of them)
TEXT_LEAVES = (Term, Phrase, Pattern)


def _quote(words: tuple[str, ...]) -> str:
    return '"' + " ".join(words) + '"'


def _field_value(value: str) -> str:
    return _quote((value,)) if (not value or any(c in value for c in ' "()')) else value


def to_text(node: Node, *, parent: int = 0) -> str:
    """The normalised query text: explicit AND, folded words, parentheses only where needed.
    Parsing it again gives the same tree."""
    # precedence levels: OR 1, AND 2, NEAR 3, NOT 4
    if isinstance(node, Term):
        return node.word
    if isinstance(node, Phrase):
        return _quote(node.words)
    if isinstance(node, Pattern):
        return node.pattern
    if isinstance(node, Field):
        return f"{node.name}:{'@' if node.name == 'author' else ''}{_field_value(node.value)}"
    if isinstance(node, Hashtag):
        return "#" + node.tag
    if isinstance(node, Handle):
        return "@" + node.handle
    if isinstance(node, Not):
        return "NOT " + to_text(node.child, parent=4)
    if isinstance(node, Near):
        op = f"{'ONEAR' if node.ordered else 'NEAR'}/{node.distance}"
        text = f"{to_text(node.left, parent=3)} {op} {to_text(node.right, parent=3)}"
        return f"({text})" if parent >= 3 else text
    level, joiner = (2, " AND ") if isinstance(node, And) else (1, " OR ")
    text = joiner.join(to_text(child, parent=level) for child in node.children)
    # an AND inside an OR gets parentheses too: not needed, but nobody has to recall precedence
    return f"({text})" if parent >= level or (level == 2 and parent) else text


def leaves(node: Node) -> list[Node]:
    """Every leaf of the tree, left to right."""
    if isinstance(node, (And, Or)):
        return [leaf for child in node.children for leaf in leaves(child)]
    if isinstance(node, Not):
        return leaves(node.child)
    if isinstance(node, Near):
        return [*leaves(node.left), *leaves(node.right)]
    return [node]
