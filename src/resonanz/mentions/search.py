"""Full-text search over mentions, the same behaviour on SQLite (FTS5) and PostgreSQL (tsvector).

The user's text is folded exactly like the index (:func:`resonanz.mentions.text.fold`), split into
words, and every word must occur (AND). ``"quoted words"`` must occur as a phrase and a trailing
``*`` matches a prefix (``bahn*``). This is the simple search box; the boolean listening-query
language is its own package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, Select, column, select, text
from sqlalchemy.orm import Session

from resonanz.errors import InputError
from resonanz.mentions.models import Mention
from resonanz.mentions.text import fold

_TERM = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # more than one: a phrase
    prefix: bool = False


def parse_search(query: str) -> list[Term]:
    """Split a search box text into terms; raise InputError when nothing searchable is left."""
    if query.count('"') % 2:
        column = query.rfind('"') + 1
        raise InputError('unbalanced double quote: close the phrase with another "', location=f"column {column}")
    terms: list[Term] = []
    for match in _TERM.finditer(query):
        phrase, word = match.groups()
        if phrase is not None:
            words = tuple(_WORD.findall(fold(phrase)))
            if words:
                terms.append(Term(words))
            continue
        prefix = word.endswith("*")
        for w in _WORD.findall(fold(word)):
            terms.append(Term((w,), prefix=False))
        if prefix and terms and len(terms[-1].words) == 1:
            terms[-1] = Term(terms[-1].words, prefix=True)
    if not terms:
        raise InputError("the search has no words to look for", location="query")
    return terms


def _fts5_query(terms: list[Term]) -> str:
    parts = []
    for term in terms:
        quoted = '"' + " ".join(term.words) + '"'
        parts.append(quoted + ("*" if term.prefix else ""))
    return " AND ".join(parts)


def _tsquery(terms: list[Term]) -> str:
    parts = []
    for term in terms:
        words = [w + (":*" if term.prefix and i == len(term.words) - 1 else "") for i, w in enumerate(term.words)]
        parts.append("(" + " <-> ".join(words) + ")" if len(words) > 1 else words[0])
    return " & ".join(parts)


def search_statement(session: Session, query: str) -> Select[Mention]:
    """A SELECT of the mentions matching ``query`` (no order or limit applied)."""
    terms = parse_search(query)
    if session.get_bind().dialect.name == "sqlite":
        ids = text("SELECT rowid FROM mention_fts WHERE mention_fts MATCH :q").bindparams(q=_fts5_query(terms))
    else:
        ids = text("SELECT mention_id FROM mention_search WHERE vector @@ to_tsquery('simple', :q)").bindparams(
            q=_tsquery(terms)
        )
    return select(Mention).where(Mention.id.in_(ids.columns(column("id", Integer))))


def search_mentions(
    session: Session,
    *,
    query: str,
    limit: int = 20,
    before: tuple[datetime, int] | None = None,
) -> list[Mention]:
    """Matching mentions, newest first; ``before`` is the keyset cursor (published_at, id)."""
    stmt = search_statement(session, query)
    if before is not None:
        published, mid = before
        stmt = stmt.where(
            (Mention.published_at < published) | ((Mention.published_at == published) & (Mention.id < mid))
        )
    stmt = stmt.order_by(Mention.published_at.desc(), Mention.id.desc()).limit(limit)
    return list(session.scalars(stmt))
