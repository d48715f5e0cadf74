"""Streaming matching: every analysed mention checked against all active queries, once.

The analysis runner calls :func:`match_mentions` for each batch right after the batch's results
are stored, in the same transaction, so a mention's matches always agree with the sentiment and
intent a query may test (re-analysis and corrections change them; the batch's old matches are
replaced). The compiled :class:`~resonanz.listening.query.match.Matcher` over all active queries
is kept per process and per database and rebuilt only when the active queries change, which one
aggregate over ``listening_query`` per batch detects (count, newest ``updated_at``, the sums of ids,
versions and text lengths: a save bumps the version and ``updated_at``, a new or removed query the count).

After the matches are written, the ``mentions_matched`` hook runs (rollups, case intake) in the
same transaction; implementations must not commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, delete, func, select, type_coerce
from sqlalchemy import text as sql
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.query import Doc, Matcher, QuerySyntaxError, compile_query
from resonanz.mentions.models import Author, Mention
from resonanz.plugins import get_plugin_manager
from resonanz.sources.models import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveSet:
    """The compiled active queries of one database at one moment."""

    signature: tuple[Any, ...]
    matcher: Matcher[int]
    versions: dict[int, int]


_CACHE: dict[str, ActiveSet] = {}
_LOCK = threading.Lock()


def _signature(session: Session) -> tuple[Any, ...]:
    row = session.execute(
        select(
            func.count(),
            func.max(Query.updated_at),
            func.sum(Query.id),
            func.sum(Query.version),
            func.sum(func.length(Query.text)),
        ).where(Query.active.is_(True))
    ).one()
    return tuple(row)


def active_matcher(session: Session) -> ActiveSet:
    """The matcher over this database's active queries, compiled again only when they changed."""
    key = str(session.get_bind().engine.url)
    signature = _signature(session)
    cached = _CACHE.get(key)
    if cached is not None and cached.signature == signature:
        return cached
    compiled = {}
    versions: dict[int, int] = {}
    for qid, text, version in session.execute(
        select(Query.id, Query.text, Query.version).where(Query.active.is_(True)).order_by(Query.id)
    ):
        try:
            compiled[qid] = compile_query(text)
        except QuerySyntaxError:  # stored before a parser change made it invalid: skip, say so
            log.warning("listening query %s no longer compiles; it matches nothing until edited", qid)
            continue
        versions[qid] = version
    built = ActiveSet(signature, Matcher(compiled), versions)
    with _LOCK:
        _CACHE[key] = built
    return built


def forget_cache() -> None:
    """Drop every compiled matcher (tests; a process that wants to free the memory)."""
    with _LOCK:
        _CACHE.clear()


_DOC_COLUMNS = (
    Mention.id,
    # as stored (no conversion to an aware datetime and back): the match row copies it unchanged
    type_coerce(Mention.published_at, NullType()).label("published_at"),
    Mention.text,
    Mention.title,
    Mention.url,
    Mention.lang,
    Mention.platform,
    Source.name,
    Author.handle,
    Mention.sentiment,
    Mention.intent,
)


def match_mentions(session: Session, *, mention_ids: Sequence[int], folded: Mapping[int, str] | None = None) -> int:
    """Match these mentions against all active queries, store the matches (replacing the batch's
    earlier matches of those queries) and run the ``mentions_matched`` hook; returns how many
    matches were written. ``folded``: mention id -> the index body ingest already folded
    (:func:`resonanz.mentions.search_index.index_body`), so the text is not folded again.

    Matches of inactive queries are left alone: they are history a user may still look at."""
    ids = sorted(set(mention_ids))
    if not ids:
        return 0
    active = active_matcher(session)
    written = 0
    if len(active.matcher):
        written = _store(session, active, ids, folded or {})
    get_plugin_manager().hook.mentions_matched(session=session, mention_ids=ids)
    return written


def _store(session: Session, active: ActiveSet, ids: list[int], folded: Mapping[int, str]) -> int:
    # The delete names the (few) queries to keep instead of the (many) active ones: a long IN
    # list made SQLite slow. The match rows (~10 per mention with 1,000 queries) go to the driver
    # in one executemany (SQLite) or one unnest statement (PostgreSQL), with ``published_at`` as
    # the mention row holds it: SQLAlchemy's per-row parameter handling of that column cost more
    # than matching the mention.
    table = cast(Table, QueryMatch.__table__)
    keep = [q for q in session.scalars(select(Query.id).where(Query.active.is_(False)))]
    conn = session.connection()
    rows: list[tuple[int, int, Any, int]] = []
    matcher, versions = active.matcher, active.versions
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        scope = [table.c.mention_id.in_(chunk), *([table.c.query_id.not_in(keep)] if keep else [])]
        conn.execute(delete(table).where(and_(*scope)))
        stmt = (
            select(*_DOC_COLUMNS)
            .outerjoin(Source, Source.id == Mention.source_id)
            .outerjoin(Author, Author.id == Mention.author_id)
            .where(Mention.id.in_(chunk))
        )
        fetched = conn.execute(stmt).all()
        # one batch per chunk (numpy does the bookkeeping once); the body ingest folded is reused
        docs = [Doc(cols[0] or "", *cols[1:]) for _, _, *cols in fetched]
        bodies = [folded.get(mid) for mid, *_ in fetched]
        for (mid, published, *_), found in zip(fetched, matcher.match_batch(docs, bodies), strict=True):
            rows.extend([(qid, mid, published, versions[qid]) for qid in found])
    if rows:
        _insert(conn, rows)
    return len(rows)


def _insert(conn: Connection, rows: list[tuple[int, int, Any, int]]) -> None:
    """Write ``(query_id, mention_id, published_at as stored in the mention row, query_version)``."""
    if conn.dialect.name == "sqlite":
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.executemany(
                "INSERT INTO query_match (query_id, mention_id, published_at, query_version) VALUES (?, ?, ?, ?)", rows
            )
        finally:
            cur.close()
        return
    queries, mentions, stamps, versions = (list(column) for column in zip(*rows, strict=True))
    conn.execute(
        sql(
            "INSERT INTO query_match (query_id, mention_id, published_at, query_version) "
            "SELECT * FROM unnest(CAST(:q AS integer[]), CAST(:m AS integer[]), CAST(:p AS timestamptz[]), "
            "CAST(:v AS integer[]))"
        ),
        {"q": queries, "m": mentions, "p": stamps, "v": versions},
    )
