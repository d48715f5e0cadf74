"""The mentions explorer: search, filter, sort and page through mentions; one mention in detail.

The web page, the JSON API and the CLI all read through here::

    page = list_page(session, query=ExplorerQuery(q="bahn*", langs=["de"]), after=None, limit=50)
    more = list_page(session, query=same_query, after=page.next_cursor, limit=50)

Pages are keyset pages on ``(published_at, id)`` (``(engagement, id)`` for that sort), so page 50
costs what page 1 costs; ``next_cursor`` is opaque and signed (:mod:`resonanz.mentions.cursor`).
How a page is found fast at a million mentions is :mod:`resonanz.mentions.explorer_plan`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, or_, select
from sqlalchemy.orm import Session

from resonanz.db.engine import begin_read_only
from resonanz.errors import InputError
from resonanz.mentions import cursor
from resonanz.mentions.explorer_detail import get_detail
from resonanz.mentions.explorer_plan import Plan
from resonanz.mentions.explorer_rows import summaries
from resonanz.mentions.explorer_schemas import (
    MAX_LIMIT,
    AuthorCard,
    ExplorerPage,
    ExplorerQuery,
    MentionDetail,
    MentionSummary,
)
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.search import _fts5_query, _tsquery, parse_search

__all__ = [
    "AuthorCard",
    "ExplorerPage",
    "ExplorerQuery",
    "MentionDetail",
    "MentionSummary",
    "count",
    "get_detail",
    "list_page",
    "resolve_author",
]

mention_t = cast(Table, Mention.__table__)


def resolve_author(session: Session, author: str) -> list[int]:
    """Author ids for a handle (``@anna`` and ``anna`` alike, on every platform) or an id."""
    handle = author.removeprefix("@")
    handles = {author, handle, "@" + handle}
    clauses: list[ColumnElement[bool]] = [Author.handle.in_(sorted(handles))]
    if handle.isdigit() and len(handle) < 18:
        clauses.append(Author.id == int(handle))
    return sorted(session.scalars(select(Author.id).where(or_(*clauses))))


def _plan(session: Session, query: ExplorerQuery) -> Plan | None:
    """The query resolved for the planner; None when it cannot match anything (an unknown author)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    dims: list[tuple[str, list[Any]]] = []
    if query.author is not None:
        ids = resolve_author(session, query.author)
        if not ids:
            return None
        dims.append(("author_id", ids))
    for column, values in (
        ("source_id", query.source_ids),
        ("intent", query.intents),
        ("platform", query.platforms),
        ("sentiment", query.sentiments),
        ("lang", query.langs),
    ):
        if values:
            dims.append((column, list(values)))
    match = None
    if query.q is not None:
        try:
            terms = parse_search(query.q)
        except InputError as exc:
            raise InputError(exc.reason, location=f"q, {exc.location}" if exc.location else "q") from None
        match = _fts5_query(terms) if sqlite else _tsquery(terms)
    plan = Plan(sqlite=sqlite, sort=query.sort, dims=dims, since=query.since, until=query.until, match=match)
    plan.query_ids = list(query.query_ids)
    return plan


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT} (got {limit})", location="limit")


def _decode_after(after: str, query: ExplorerQuery) -> tuple[Any, int]:
    key = cursor.decode(after, query.fingerprint())
    bad = InputError("the cursor is not valid here; start again from the first page", location="after")
    if len(key) != 2 or not isinstance(key[1], int):
        raise bad
    if query.sort == "engagement":
        if not isinstance(key[0], int | float) or isinstance(key[0], bool):
            raise bad
        return key[0], key[1]
    try:
        return datetime.fromisoformat(key[0]), key[1]
    except (TypeError, ValueError):
        raise bad from None


def _encode_key(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):  # SQLite's stored datetime text
        return datetime.fromisoformat(value + "+00:00").isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def list_page(session: Session, *, query: ExplorerQuery, after: str | None, limit: int) -> ExplorerPage:
    """One page of mentions matching ``query``, after the row ``after`` points at (None: the first).

    Raises InputError for a limit outside 1..200 (location "limit"), a bad or foreign cursor
    ("after") and a search without words or with an open quote ("q, column N"). Reads in a
    read-only transaction when none is open (on SQLite, pages do not queue for the write lock).
    """
    _check_limit(limit)
    begin_read_only(session)
    plan = _plan(session, query)
    if after is not None:
        position = _decode_after(after, query)
        if plan is not None:
            plan.after = position
    if plan is None:
        return ExplorerPage(items=[], next_cursor=None, limit=limit)
    rows = plan.page_ids(session, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = summaries(session, [mid for mid, _ in rows])
    next_cursor = None
    if more:
        last_id, last_key = rows[-1]
        next_cursor = cursor.encode(query.fingerprint(), [_encode_key(last_key), last_id])
    return ExplorerPage(items=items, next_cursor=next_cursor, limit=limit)


def count(session: Session, *, query: ExplorerQuery, cap: int = 10_000) -> int:
    """How many mentions match, counted up to ``cap`` (a result equal to ``cap`` means "at least")."""
    if cap < 1:
        raise InputError("cap must be positive", location="cap")
    begin_read_only(session)
    plan = _plan(session, query)
    return 0 if plan is None else plan.count(session, cap)
