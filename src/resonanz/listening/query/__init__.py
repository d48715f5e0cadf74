"""The listening query language: text -> tokens (:mod:`.lexer`) -> tree (:mod:`.parser`, :mod:`.ast`)
-> a test function (:mod:`.compile`) -> many queries checked at once (:mod:`.match`, with one
Aho–Corasick pass over every query's words: :mod:`.scan`). Pure: no database, no I/O. A stored
query keeps only its text; everything else is rebuilt from it with :func:`compile_query`."""

from __future__ import annotations

from resonanz.listening.query.ast import Node, to_text
from resonanz.listening.query.compile import CompiledQuery, compile_query
from resonanz.listening.query.errors import QuerySyntaxError
from resonanz.listening.query.match import Doc, Matcher, PreparedDoc
from resonanz.listening.query.parser import parse

__all__ = [
    "CompiledQuery",
    "Doc",
    "Matcher",
    "Node",
    "PreparedDoc",
    "QuerySyntaxError",
    "compile_query",
    "parse",
    "to_text",
]
