"""Tokens -> tree, by recursive descent. Precedence, tightest first: NOT, NEAR/ONEAR, AND (also
implicit: words side by side), OR. ``a b OR c`` is ``(a AND b) OR c``; ``NOT a b`` is
``(NOT a) AND b``.

Grammar::

    query   := or EOF
    or      := and ("OR" and)*
    and     := near (["AND"] near)*
    near    := unary [("NEAR/n" | "ONEAR/n") unary]
    unary   := "NOT" unary | primary
    primary := "(" or ")" | WORD | "PHRASE" | FIELD | #TAG | @HANDLE

Checks that need the whole tree (limits, a query that is only NOT, NEAR's operands) run here too,
so :func:`parse` either returns a usable tree or raises :class:`QuerySyntaxError` with a column.
"""

from __future__ import annotations

from resonanz.listening.query import ast
from resonanz.listening.query.errors import QuerySyntaxError
from resonanz.listening.query.lexer import Kind, Token, tokenize
from resonanz.mentions.text import fold
from resonanz.mentions.tokens import words

MAX_DEPTH = 20
MAX_TERMS = 200
#: NEAR with OR groups on both sides becomes one NEAR per pair; at most this many
MAX_NEAR_PAIRS = 64
MIN_WILDCARD_LETTERS = 2

_STARTS_OPERAND = {Kind.LPAREN, Kind.WORD, Kind.PHRASE, Kind.FIELD, Kind.HASHTAG, Kind.MENTION, Kind.NOT}


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.pos = 0
        self.depth = 0
        self.terms = 0

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def error(self, message: str, column: int, hint: str | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, column=column, query=self.query, hint=hint)

    def at(self, kind: Kind) -> bool:
        """Is the current token of ``kind``? (A call, so type checkers do not carry narrowing of
        ``self.tok`` across the parse calls that move it.)"""
        return self.tokens[self.pos].kind is kind

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def enter(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the query nests deeper than {MAX_DEPTH} levels", column, "flatten the parentheses")

    def count_term(self, column: int) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error(
                f"the query has more than {MAX_TERMS} terms", column, "split it into several queries of one brand"
            )

    # -- grammar ---------------------------------------------------------------------------------
    def parse(self) -> tuple[ast.Node, dict[int, int]]:
        if self.tok.kind is Kind.END:
            raise self.error("the query is empty", 1, "write the words to look for, e.g. bahn OR zug")
        node = self.or_expr()
        # every token that can start or join an operand was consumed: only ')' or the end is left
        if self.tok.kind == Kind.RPAREN:
            raise self.error("this ')' closes nothing", self.tok.column, "remove it or add '(' before")
        return node, {}

    def or_expr(self) -> ast.Node:
        children = [self.and_expr()]
        while self.tok.kind is Kind.OR:
            self.advance()
            children.append(self.and_expr())
        return _flat(ast.Or, children)

    def and_expr(self) -> ast.Node:
        children = [self.near_expr()]
        while True:
            if self.tok.kind is Kind.AND:
                self.advance()
            elif self.tok.kind not in _STARTS_OPERAND:
                break
            children.append(self.near_expr())
        return _flat(ast.And, children)

    def near_expr(self) -> ast.Node:
        left_col = self.tok.column
        left = self.unary()
        if self.tok.kind is not Kind.NEAR:
            return left
        op = self.advance()
        right_col = self.tok.column
        right = self.unary()
        if self.tok.kind is Kind.NEAR:
            raise self.error(
                "NEAR/ONEAR join exactly two terms or phrases",
                self.tok.column,
                "combine several with AND: (a NEAR/3 b) AND (b NEAR/3 c)",
            )
        name = f"{'ONEAR' if op.ordered else 'NEAR'}/{op.distance}"
        left = self.near_side(left, left_col, name)
        right = self.near_side(right, right_col, name)
        pairs = _alternatives(left) * _alternatives(right)
        if pairs > MAX_NEAR_PAIRS:
            raise self.error(
                f"{name} between these OR groups makes {pairs} pairs", op.column, f"at most {MAX_NEAR_PAIRS}"
            )
        return ast.Near(left, right, op.distance, op.ordered)

    def near_side(self, node: ast.Node, column: int, name: str) -> ast.Node:
        if isinstance(node, ast.TEXT_LEAVES):
            return node
        if isinstance(node, ast.Or) and all(isinstance(c, ast.TEXT_LEAVES) for c in node.children):
            return node
        raise self.error(
            f"{name} needs a word, a phrase or an OR group of those on each side",
            column,
            "fields, #tags, NOT and AND cannot stand next to NEAR; put them outside: (a NEAR/3 b) AND lang:de",
        )

    def unary(self) -> ast.Node:
        tok = self.tok
        if tok.kind is Kind.NOT:
            self.advance()
            if self.tok.kind not in _STARTS_OPERAND:
                raise self.error("NOT needs something after it", tok.column, "e.g. bahn NOT streik")
            self.enter(tok.column)
            child = self.unary()
            self.depth -= 1
            return ast.Not(child)
        return self.primary()

    def primary(self) -> ast.Node:
        tok = self.advance()
        kind = tok.kind
        if kind is Kind.LPAREN:
            self.enter(tok.column)
            if self.tok.kind is Kind.RPAREN:
                raise self.error("empty parentheses", tok.column, "put words inside or remove them")
            node = self.or_expr()
            if not self.at(Kind.RPAREN):
                raise self.error("this '(' is never closed", tok.column, "add ')' at the end of the group")
            self.advance()
            self.depth -= 1
            return node
        if kind in (Kind.WORD, Kind.PHRASE, Kind.FIELD, Kind.HASHTAG, Kind.MENTION):
            self.count_term(tok.column)
            return self.leaf(tok)
        if kind == Kind.END:
            raise self.error(
                "the query ends where a word was expected", tok.column, "add a word or remove the operator"
            )
        if kind == Kind.RPAREN:
            raise self.error("')' where a word was expected", tok.column, "a group or operator is empty")
        raise self.error(f"{kind.value} where a word was expected", tok.column, "an operator needs a word on each side")

    def leaf(self, tok: Token) -> ast.Node:
        if tok.kind is Kind.PHRASE:
            found = words(fold(tok.text))
            if not found:
                raise self.error("this phrase has no letters or digits to look for", tok.column)
            return ast.Term(found[0]) if len(found) == 1 else ast.Phrase(tuple(found))
        if tok.kind is Kind.FIELD:
            return self.field(tok)
        if tok.kind is Kind.HASHTAG:
            return ast.Hashtag(self.entity_text(tok, "#"))
        if tok.kind is Kind.MENTION:
            return ast.Handle(self.entity_text(tok, "@"))
        return self.word(tok)

    def entity_text(self, tok: Token, mark: str) -> str:
        value = fold(tok.text)
        if not words(value):
            raise self.error(f"{mark}{tok.text} has no letters or digits", tok.column)
        return value

    def field(self, tok: Token) -> ast.Node:
        value = fold(tok.text).strip()
        if tok.name == "author":
            value = value.removeprefix("@")
        allowed = ast.FIELDS[tok.name]
        if allowed is not None and value not in allowed:
            raise self.error(
                f"{tok.name}:{tok.text} is not a known value",
                tok.column + len(tok.name) + 1,
                f"use one of {', '.join(sorted(allowed))}",
            )
        if not value:
            raise self.error(f"{tok.name}: needs a value", tok.column + len(tok.name) + 1)
        return ast.Field(tok.name, value)

    def word(self, tok: Token) -> ast.Node:
        text = tok.text
        if "*" not in text and "?" not in text:
            found = words(fold(text))
            if not found:
                raise self.error(
                    f"{text!r} has no letters or digits to look for", tok.column, "put punctuation in quotes"
                )
            return ast.Term(found[0]) if len(found) == 1 else ast.Phrase(tuple(found))
        star = text.find("*")
        if star >= 0 and star != len(text) - 1:
            raise self.error("'*' may only end a word", tok.column + star, "e.g. bahn* for Bahn, Bahnhof, Bahnsteig")
        parts = text.rstrip("*").split("?")
        folded = [fold(p) for p in parts]
        for part in folded:
            if part and words(part) != [part]:
                raise self.error(
                    f"wildcards work inside one word, not in {text!r}", tok.column, "write a phrase without wildcards"
                )
        letters = sum(len(p) for p in folded)
        if letters < MIN_WILDCARD_LETTERS:
            raise self.error(
                f"{text!r} has too few letters for a wildcard",
                tok.column,
                f"give at least {MIN_WILDCARD_LETTERS} letters, e.g. ba*; one letter would match almost everything",
            )
        return ast.Pattern("?".join(folded) + ("*" if star >= 0 else ""))


def _flat(cls: type[ast.And] | type[ast.Or], children: list[ast.Node]) -> ast.Node:
    if len(children) == 1:
        return children[0]
    flat: list[ast.Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, cls) else (child,))
    return cls(tuple(flat))


def _alternatives(node: ast.Node) -> int:
    return len(node.children) if isinstance(node, ast.Or) else 1


def _positive(node: ast.Node) -> bool:
    """Can the query match only by what it contains (not by what is absent)?"""
    if isinstance(node, ast.Not):
        return False
    if isinstance(node, ast.And):
        return any(_positive(c) for c in node.children)
    if isinstance(node, ast.Or):
        return all(_positive(c) for c in node.children)
    return True


def parse(query: str) -> ast.Node:
    """The tree of ``query``; raises :class:`QuerySyntaxError` with the column and a hint."""
    node, _ = _Parser(query).parse()
    if not _positive(node):
        column = query.find("NOT") + 1 or 1
        raise QuerySyntaxError(
            "a query cannot consist only of what must be absent",
            column=column,
            query=query,
            hint="say what to look for too, e.g. bahn NOT streik; NOT alone would match almost every mention",
        )
    return node
