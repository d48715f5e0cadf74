"""Query text -> tokens, each with its 1-based column, so every later error can point at it.

Operators are upper case (``AND``, ``OR``, ``NOT``, ``NEAR/3``, ``ONEAR/3``): lower-case "and",
"or", "not" are words people search for. Characters that mean something in other query or regex
languages (``[ ] { } \\ ^ $ | ~``) and a leading ``-`` are refused with a hint rather than
silently dropped, so a pasted regex or Google query does not quietly mean something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from resonanz.listening.query.ast import FIELDS
from resonanz.listening.query.errors import QuerySyntaxError

MAX_LENGTH = 4000
MAX_NEAR = 100

_FOREIGN = set("[]{}\\^$|~")
_NEAR = re.compile(r"(O?NEAR)(?:/(.*))?\Z")
_FIELD = re.compile(r"([A-Za-z]+):(.*)\Z", re.S)


class Kind(StrEnum):
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    NEAR = "NEAR"
    WORD = "word"
    PHRASE = "phrase"
    FIELD = "field"
    HASHTAG = "hashtag"
    MENTION = "mention"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    column: int  # 1-based
    text: str = ""  # the word, the phrase's inside, the field's value, the tag or handle
    name: str = ""  # the field's name
    distance: int = 0  # NEAR/n
    ordered: bool = False  # ONEAR


def _phrase_end(query: str, start: int) -> int:
    """Index of the closing quote of the phrase opened at ``start``."""
    end = query.find('"', start + 1)
    if end < 0:
        raise QuerySyntaxError(
            "this phrase is never closed", column=start + 1, query=query, hint='add a closing " after it'
        )
    return end


def tokenize(query: str) -> list[Token]:
    """The tokens of ``query``, ending with an END token; raises QuerySyntaxError."""
    if len(query) > MAX_LENGTH:
        raise QuerySyntaxError(
            f"the query is {len(query):,} characters long",
            column=MAX_LENGTH + 1,
            query=query[: MAX_LENGTH + 20],
            hint=f"at most {MAX_LENGTH:,} are allowed; split it into several queries",
        )
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char == "(":
            tokens.append(Token(Kind.LPAREN, i + 1))
            i += 1
        elif char == ")":
            tokens.append(Token(Kind.RPAREN, i + 1))
            i += 1
        elif char == '"':
            end = _phrase_end(query, i)
            tokens.append(Token(Kind.PHRASE, i + 1, query[i + 1 : end]))
            i = end + 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '()"':
                j += 1
            chunk = query[i:j]
            if j < n and query[j] == '"' and chunk.endswith(":") and _FIELD.match(chunk):  # field:"quoted value"
                end = _phrase_end(query, j)
                tokens.append(_field(query, i, chunk[:-1], query[j + 1 : end]))
                i = end + 1
                continue
            tokens.append(_word(query, i, chunk))
            i = j
    tokens.append(Token(Kind.END, n + 1))
    return tokens


def _word(query: str, start: int, chunk: str) -> Token:
    column = start + 1
    if chunk in ("AND", "OR", "NOT"):
        return Token(Kind(chunk), column)
    if chunk in ("&&", "||"):
        word = "AND" if chunk == "&&" else "OR"
        raise QuerySyntaxError(f"{chunk!r} is not an operator here", column=column, query=query, hint=f"write {word}")
    near = _NEAR.match(chunk)
    if near:
        return _near(query, column, near.group(1), near.group(2))
    for offset, char in enumerate(chunk):
        if char in _FOREIGN:
            raise QuerySyntaxError(
                f"{char!r} has no meaning in a query",
                column=column + offset,
                query=query,
                hint=f'put the text in quotes to search for it: "{chunk}"',
            )
    if chunk.startswith("-") and len(chunk) > 1:
        raise QuerySyntaxError(
            "a leading '-' does not exclude a word here", column=column, query=query, hint=f"write NOT {chunk[1:]}"
        )
    field = _FIELD.match(chunk)
    if field:
        return _field(query, start, field.group(1), field.group(2))
    if chunk.startswith("#"):
        if len(chunk) == 1:
            raise QuerySyntaxError("'#' needs a hashtag after it", column=column, query=query, hint="e.g. #bahn")
        return Token(Kind.HASHTAG, column, chunk[1:])
    if chunk.startswith("@"):
        if len(chunk) == 1:
            raise QuerySyntaxError("'@' needs an account name after it", column=column, query=query, hint="e.g. @db")
        return Token(Kind.MENTION, column, chunk[1:])
    return Token(Kind.WORD, column, chunk)


def _near(query: str, column: int, op: str, number: str | None) -> Token:
    example = f"{op}/3"
    if number is None or number == "":
        raise QuerySyntaxError(  # the caret goes under the "/" (or under NEAR when it has none)
            f"{op}/ needs a number", column=column + (len(op) if number is not None else 0), query=query,
            hint=f"at most how many words may lie between, e.g. {example}",
        )  # fmt: skip
    num_column = column + len(op) + 1
    if not number.isdigit():
        raise QuerySyntaxError(
            f"{op}/ needs a number, not {number!r}", column=num_column, query=query, hint=f"e.g. {example}"
        )
    distance = int(number)
    if not 1 <= distance <= MAX_NEAR:
        raise QuerySyntaxError(
            f"{op}/{number} is out of range",
            column=num_column,
            query=query,
            hint=f"use 1 to {MAX_NEAR} words; for words side by side use a phrase in quotes",
        )
    return Token(Kind.NEAR, column, distance=distance, ordered=op == "ONEAR")


def _field(query: str, start: int, name: str, value: str) -> Token:
    column = start + 1
    key = name.lower()
    if key not in FIELDS:
        raise QuerySyntaxError(
            f"unknown field {name!r}",
            column=column,
            query=query,
            hint=f"fields are {', '.join(sorted(FIELDS))}; put text with ':' in quotes to search for it",
        )
    if not value:
        raise QuerySyntaxError(
            f"{key}: needs a value", column=column + len(name) + 1, query=query, hint=f"e.g. {_EXAMPLES[key]}"
        )
    return Token(Kind.FIELD, column, value, name=key)


_EXAMPLES = {
    "lang": "lang:de",
    "source": "source:presse",
    "platform": "platform:mastodon",
    "author": "author:@anna",
    "sentiment": "sentiment:negative",
    "intent": "intent:complaint",
    "has": "has:link",
    "site": "site:example.com",
}
