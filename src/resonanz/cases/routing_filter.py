"""The filter language of routing rules: the listening query language plus case fields.

A rule is written exactly like a listening query (``intent:complaint AND (rechnung OR abbuchung)``,
``lang:de``, ``platform:email``, ``#outage``, ``NEAR/3`` …) and may also use fields a mention does
not have but a case does:

- ``brand:nordwelle`` — the case's brand (name, folded) or a brand of a query it matched;
- ``query:"Billing complaints"`` — the case matched this listening query (name or id);
- ``priority:high`` or ``priority:>=high`` — the case's priority (low < normal < high < urgent);
- ``reach:>=10000`` (also ``>``, ``<``, ``<=``, ``=``, or a bare number meaning ``>=``) — the
  followers of the case's author;
- ``tag:refund`` / ``topic:refund`` — a tag of the case (folded).

How: the case fields are cut out of the text before the listening parser sees it and stand in the
text as placeholder words of the same length (so the parser's error columns still point at the
user's text); the tree is then compiled piece by piece — the parts without placeholders by the
listening compiler itself (:func:`resonanz.listening.query.compile.compile_tree`), so the rule's
text semantics are the listening semantics, and the placeholders by :func:`_case_test`. Pure: no
database.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from resonanz.listening.query import ast
from resonanz.listening.query.compile import compile_tree
from resonanz.listening.query.errors import QuerySyntaxError
from resonanz.listening.query.match import Doc, PreparedDoc
from resonanz.listening.query.parser import parse
from resonanz.mentions.text import fold

CASE_FIELDS = ("brand", "query", "priority", "reach", "tag", "topic")
PRIORITY_ORDER = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
_CHUNK_FIELD = re.compile(r"([A-Za-z]+):(.*)\Z", re.S)
_COMPARE = re.compile(r"(>=|<=|>|<|=)?\s*(.+)\Z")
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}


@dataclass
class CaseFacts:
    """What a rule can look at in a case: its first mention as a listening :class:`Doc` (or the
    subject when it has none) and the case's own fields (names folded)."""

    doc: Doc
    brands: frozenset[str] = frozenset()
    queries: frozenset[str] = frozenset()  # folded names and ids as text
    priority: str = "normal"
    reach: int = 0
    tags: frozenset[str] = frozenset()
    _prepared: PreparedDoc | None = field(default=None, repr=False)

    @property
    def prepared(self) -> PreparedDoc:
        if self._prepared is None:
            self._prepared = PreparedDoc(self.doc)
        return self._prepared


CaseTest = Callable[[CaseFacts], bool]


@dataclass(frozen=True)
class CompiledFilter:
    text: str
    test: CaseTest
    fields: tuple[str, ...]  # the case fields it uses


def _placeholder(index: int, width: int) -> str:
    # letters only (one index word after folding); digits a-j so the "z" padding is unambiguous
    digits = "".join("abcdefghij"[int(d)] for d in str(index))
    word = f"qxcf{digits}"
    return word + "z" * max(0, width - len(word))


def _case_test(name: str, value: str, *, text: str, column: int) -> CaseTest:
    value = value.strip()
    if name == "priority":
        match = _COMPARE.match(value.lower())
        op, level = (match.group(1) or "=", match.group(2).strip()) if match else ("=", "")
        if level not in PRIORITY_ORDER:
            raise QuerySyntaxError(
                f"unknown priority {level!r}", column=column, query=text, hint="use low, normal, high or urgent"
            )
        rank, compare = PRIORITY_ORDER[level], _OPS[op]
        return lambda f: compare(PRIORITY_ORDER.get(f.priority, 1), rank)
    if name == "reach":
        match = _COMPARE.match(value)
        number = match.group(2).replace("_", "").replace(",", "") if match else ""
        if not match or not number.isdigit():
            raise QuerySyntaxError("reach: needs a number", column=column, query=text, hint="e.g. reach:>=10000")
        limit, compare = int(number), _OPS[match.group(1) or ">="]
        return lambda f: compare(f.reach, limit)
    folded = fold(value).strip()
    if name == "brand":
        return lambda f: folded in f.brands
    if name == "query":
        return lambda f: folded in f.queries
    return lambda f: folded in f.tags  # tag / topic


def _scan(text: str) -> tuple[str, dict[str, CaseTest], list[str]]:
    """Cut the case fields out of ``text`` (outside quoted phrases, as the lexer chunks it)."""
    out: list[str] = []
    tests: dict[str, CaseTest] = {}
    used: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace() or char in "()":
            out.append(char)
            i += 1
            continue
        if char == '"':
            end = text.find('"', i + 1)
            end = n - 1 if end < 0 else end  # the parser reports the open phrase
            out.append(text[i : end + 1])
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in '()"':
            j += 1
        chunk, stop = text[i:j], j
        match = _CHUNK_FIELD.match(chunk)
        if match and match.group(1).lower() in CASE_FIELDS:
            name, value = match.group(1).lower(), match.group(2)
            if not value and j < n and text[j] == '"':  # brand:"Nordwelle Bank"
                end = text.find('"', j + 1)
                if end < 0:
                    raise QuerySyntaxError(
                        "this phrase is never closed", column=j + 1, query=text, hint='add a closing " after it'
                    )
                value, stop = text[j + 1 : end], end + 1
            if not value.strip():
                raise QuerySyntaxError(f"{name}: needs a value", column=i + 1, query=text, hint=f"e.g. {name}:x")
            word = _placeholder(len(tests), stop - i)
            tests[word] = _case_test(name, value, text=text, column=i + 1)
            used.append(name)
            out.append(word)
        else:
            out.append(chunk)
        i = stop
    return "".join(out), tests, used


def _has_placeholder(node: ast.Node, tests: dict[str, CaseTest]) -> bool:
    return any(isinstance(leaf, ast.Term) and leaf.word in tests for leaf in ast.leaves(node))


def _build(node: ast.Node, tests: dict[str, CaseTest], text: str) -> CaseTest:
    if isinstance(node, ast.Term) and node.word in tests:
        return tests[node.word]
    if not _has_placeholder(node, tests):
        compiled = compile_tree(node)
        return lambda f: compiled.test(f.prepared)
    if isinstance(node, ast.Not):
        inner = _build(node.child, tests, text)
        return lambda f: not inner(f)
    if isinstance(node, ast.And):
        parts = tuple(_build(child, tests, text) for child in node.children)
        return lambda f: all(part(f) for part in parts)
    if isinstance(node, ast.Or):
        parts = tuple(_build(child, tests, text) for child in node.children)
        return lambda f: any(part(f) for part in parts)
    raise QuerySyntaxError(
        "a case field cannot stand inside NEAR", column=1, query=text, hint="combine case fields with AND/OR"
    )


def compile_filter(text: str) -> CompiledFilter:
    """Parse and compile a rule's filter; raises :class:`QuerySyntaxError` with the column."""
    if not text.strip():
        raise QuerySyntaxError("a rule needs a filter", column=1, query=text, hint="e.g. lang:de AND intent:complaint")
    rewritten, tests, used = _scan(text)
    tree = parse(rewritten)
    return CompiledFilter(text=text, test=_build(tree, tests, text), fields=tuple(used))
