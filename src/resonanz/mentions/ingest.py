"""Store normalised mentions in batches: the hot path of every pull, import and webhook.

One call of :func:`store_batch` runs a fixed number of set-based statements per batch, never one
round trip per item, and bypasses the ORM unit of work (it would cost more than the database).
Ids are allocated up front (``MAX(id)`` under SQLite's single write lock, the sequence on
PostgreSQL) so mentions, the search index and thread links are written with plain executemany.

Semantics, keyed by ``(platform, external_id)``:

* unknown key -> **new** row; if its text was already seen (same ``content_hash``, any source)
  the row is linked to the first one through ``duplicate_of_id`` and counted as **duplicate**;
* known key, content changed -> **updated** in place (``revision`` + 1, index refreshed);
* known key, content unchanged -> **unchanged** (engagement metrics are still refreshed);
* the same key twice in one batch -> the last one wins, the others count as **duplicate**.

New rows go in through the driver, not SQLAlchemy's executemany (whose per-row parameter
processing cost more than SQLite's own work): ``executemany`` on SQLite, ``COPY`` on PostgreSQL.
Lookups filter on ``platform = ? AND key IN (...)`` so both engines use the unique indexes (a
row-value ``(platform, key) IN (...)`` made PostgreSQL scan the whole table for every batch).
"""

from __future__ import annotations

import functools
import json
import operator
from collections import namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, Connection, Table, bindparam, func, text, update
from sqlalchemy.orm import Session

from resonanz.mentions import bulk, search_index
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.prepared import MIN_DUPLICATE_TEXT, Prepared, loads, prepare, revision_hash
from resonanz.mentions.schemas import MentionIn

__all__ = [
    "MIN_DUPLICATE_TEXT",
    "AuthorCache",
    "IngestCounts",
    "StoreResult",
    "revision_hash",
    "store_batch",
    "store_prepared",
]

CHUNK = 500

mention_t = cast(Table, Mention.__table__)
author_t = cast(Table, Author.__table__)


@dataclass
class IngestCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate: int = 0
    rejected: int = 0

    def add(self, other: IngestCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _by_platform(keys: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    platforms = set(map(_first, keys))
    if len(platforms) == 1:  # the usual case (one source, one platform): no loop in Python
        return {platforms.pop(): list(map(_second, keys))}
    grouped: dict[str, list[str]] = {}
    for platform, key in keys:
        grouped.setdefault(platform, []).append(key)
    return grouped


_first = operator.itemgetter(0)
_second = operator.itemgetter(1)


def _pg_each(conn: Connection, inner: str, values: Sequence[str], **params: Any) -> Iterable[Any]:
    """Run ``inner`` (SQL naming the key ``k.v``) once per value, in one round trip.

    The ``OFFSET 0`` fence makes PostgreSQL plan one index probe per key. A plain ``IN (...)``
    leaves the choice to the statistics, and during a bulk load into a fresh table they say
    "empty": the planner then scans every row of the platform for each batch, and an import
    slows down quadratically until autovacuum catches up.
    """
    sql = f"SELECT m.* FROM unnest(CAST(:keys AS text[])) AS k(v) CROSS JOIN LATERAL ({inner} OFFSET 0) AS m"
    return conn.execute(text(sql), {"keys": list(values), **params})


def _lookup(
    conn: Connection,
    table: Table,
    key: Column[Any],
    columns: Sequence[Column[Any]],
    keys: Sequence[tuple[str, str]],
    *,
    orphans_only: bool = False,
) -> Iterable[Any]:
    """Rows of ``table`` whose ``(platform, key)`` is in ``keys`` (``orphans_only``: and whose
    ``parent_id`` is not set), by index on both engines."""
    for platform, values in _by_platform(keys).items():
        if conn.dialect.name == "postgresql":
            names = ", ".join(c.name for c in columns)
            cond = " AND parent_id IS NULL" if orphans_only else ""
            inner = f"SELECT {names} FROM {table.name} WHERE platform = :platform AND {key.name} = k.v{cond}"
            yield from _pg_each(conn, inner, values, platform=platform)
            continue
        # SQLite: the driver directly. SQLAlchemy re-renders an expanding IN of 500 parameters
        # on every call, which cost more than SQLite's 500 index probes.
        row_type = _row_type(tuple(c.name for c in columns))
        head = f"SELECT {', '.join(row_type._fields)} FROM {table.name} WHERE platform = ? AND {key.name} IN "
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for chunk in _chunks(values):
                sql = head + "(" + ",".join("?" * len(chunk)) + ")" + (" AND parent_id IS NULL" if orphans_only else "")
                yield from map(row_type._make, cur.execute(sql, (platform, *chunk)).fetchall())
        finally:
            cur.close()


@functools.cache
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names)


def allocate_ids(session: Session, table_name: str, count: int) -> list[int]:
    """Reserve ``count`` primary keys for ``table_name`` inside the current write transaction."""
    if count == 0:
        return []
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        # Safe: BEGIN IMMEDIATE (see db.engine) makes this transaction the only writer.
        top = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table_name}")).scalar_one()
        return list(range(int(top) + 1, int(top) + 1 + count))
    rows = conn.execute(
        text(f"SELECT nextval(pg_get_serial_sequence('{table_name}', 'id')) FROM generate_series(1, :n)"),
        {"n": count},
    )
    return [int(r[0]) for r in rows]


class AuthorCache:
    """Authors already written by this import, ``(platform, handle) -> (id, name, followers)``
    as stored: an import sees the same authors in batch after batch, and looking them all up
    again cost more than the rest of the author work.

    Entries written in the open transaction are staged; :meth:`commit` keeps them once it
    committed, :meth:`rollback` drops them. Bounded: it starts over past ``limit`` entries.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.known: dict[tuple[str, str], tuple[int, str | None, int | None]] = {}
        self.staged: dict[tuple[str, str], tuple[int, str | None, int | None]] = {}

    def get(self, key: tuple[str, str]) -> tuple[int, str | None, int | None] | None:
        return self.staged.get(key) or self.known.get(key)

    def commit(self) -> None:
        if len(self.known) + len(self.staged) > self.limit:
            self.known.clear()
        self.known.update(self.staged)
        self.staged.clear()

    def rollback(self) -> None:
        self.staged.clear()


def _upsert_authors(
    session: Session, items: Sequence[Prepared], now: datetime, cache: AuthorCache | None
) -> dict[tuple[str, str], int]:
    wanted: dict[tuple[str, str], Prepared] = {}
    for item in items:
        if item.handle is not None:
            wanted[(item.platform, item.handle)] = item
    if not wanted:
        return {}
    conn = session.connection()
    found: dict[tuple[str, str], tuple[int, str | None, int | None]] = {}
    unknown = list(wanted)
    if cache is not None:
        unknown = []
        staged, known = cache.staged.get, cache.known.get
        for key in wanted:
            hit = staged(key) or known(key)  # AuthorCache.get, without a method call per author
            if hit is None:
                unknown.append(key)
            else:
                found[key] = hit
    if unknown:
        cols = (author_t.c.id, author_t.c.platform, author_t.c.handle, author_t.c.name, author_t.c.followers)
        for r in _lookup(conn, author_t, author_t.c.handle, cols, unknown):
            found[(r.platform, r.handle)] = (r.id, r.name, r.followers)
    missing = [key for key in wanted if key not in found]
    ids = allocate_ids(session, "author", len(missing))
    result = {key: val[0] for key, val in found.items()}
    if missing:
        new_rows = []
        for key, new_id in zip(missing, ids, strict=True):
            a = wanted[key]
            new_rows.append(
                {
                    "id": new_id, "platform": key[0], "handle": key[1], "name": a.author_name, "url": a.author_url,
                    "followers": a.followers, "mention_count": 0, "first_seen_at": now, "last_seen_at": now,
                }
            )  # fmt: skip
            result[key] = new_id
            if cache is not None:
                cache.staged[key] = (new_id, a.author_name, a.followers)
        conn.execute(author_t.insert(), new_rows)
    changed = []
    for key, (aid, name, followers) in found.items():
        a = wanted[key]
        if (a.author_name and a.author_name != name) or (a.followers is not None and a.followers != followers):
            changed.append({"b_id": aid, "name": a.author_name or name, "followers": a.followers})
            if cache is not None:
                cache.staged[key] = (aid, a.author_name or name, followers if a.followers is None else a.followers)
    if changed:
        conn.execute(
            update(author_t)
            .where(author_t.c.id == bindparam("b_id"))
            .values(name=bindparam("name"), followers=func.coalesce(bindparam("followers"), author_t.c.followers)),
            changed,
        )
    return result


def _existing(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    conn = session.connection()
    cols = (
        mention_t.c.id, mention_t.c.platform, mention_t.c.external_id, mention_t.c.revision_hash,
        mention_t.c.metrics, mention_t.c.revision,
    )  # fmt: skip
    return {(r.platform, r.external_id): r for r in _lookup(conn, mention_t, mention_t.c.external_id, cols, keys)}


def _originals(session: Session, hashes: Sequence[str]) -> dict[str, int]:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        inner = "SELECT k.v AS content_hash, min(id) AS id FROM mention WHERE content_hash = k.v AND duplicate_of_id IS NULL"  # noqa: E501
        return {r.content_hash: int(r.id) for r in _pg_each(conn, inner, hashes) if r.id is not None}
    # The driver directly, as in _lookup (SQLAlchemy re-rendered the expanding IN every time).
    found: dict[str, int] = {}
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for chunk in _chunks(hashes):
            sql = (
                "SELECT content_hash, MIN(id) FROM mention WHERE duplicate_of_id IS NULL AND content_hash IN ("
                + ",".join("?" * len(chunk))
                + ") GROUP BY content_hash"
            )
            found.update({h: int(i) for h, i in cur.execute(sql, tuple(chunk)).fetchall()})
    finally:
        cur.close()
    return found


def _parents(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    conn = session.connection()
    cols = (mention_t.c.id, mention_t.c.platform, mention_t.c.external_id)
    return {(r.platform, r.external_id): r.id for r in _lookup(conn, mention_t, mention_t.c.external_id, cols, keys)}


@dataclass
class StoreResult:
    counts: IngestCounts
    #: mention id per input item, in input order (the surviving row for in-batch duplicates)
    ids: list[int]


def store_batch(session: Session, items: Sequence[MentionIn], *, source_id: int | None, now: datetime) -> StoreResult:
    """Insert or update ``items`` in the session's transaction (the caller commits)."""
    return store_prepared(session, [prepare(m) for m in items], source_id=source_id, now=now)


def store_prepared(
    session: Session,
    items: Sequence[Prepared],
    *,
    source_id: int | None,
    now: datetime,
    authors: AuthorCache | None = None,
    author_counts: dict[int, int] | None = None,
) -> StoreResult:
    """:func:`store_batch` for items already prepared (:func:`~resonanz.mentions.prepared.prepare`),
    e.g. in an import's worker process. ``authors`` spares looking up authors seen before.

    ``author_counts``: add each author's new mentions there, for the caller to write with
    :func:`~resonanz.mentions.bulk.bump_authors` before it commits (one update per author per
    transaction, not per batch); by default they are written here."""
    counts = IngestCounts()
    if not items:
        return StoreResult(counts, [])
    last_index: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        last_index[(item.platform, item.external_id)] = index
    counts.duplicate += len(items) - len(last_index)
    unique = [items[i] for i in sorted(last_index.values())] if counts.duplicate else list(items)
    keys = [(m.platform, m.external_id) for m in unique]

    author_ids = _upsert_authors(session, unique, now, authors)
    existing = _existing(session, keys)
    fresh = [k for k in keys if k not in existing]
    new_ids = allocate_ids(session, "mention", len(fresh))
    key_to_id: dict[tuple[str, str], int] = {k: r.id for k, r in existing.items()}
    key_to_id.update(zip(fresh, new_ids, strict=True))

    dup_candidates = {m.content_hash for m, k in zip(unique, keys, strict=True) if m.repostable and k not in existing}
    originals = _originals(session, sorted(dup_candidates)) if dup_candidates else {}
    parent_keys = {(m.platform, m.parent_external_id) for m in unique if m.parent_external_id} - key_to_id.keys()
    parent_ids = dict(key_to_id)
    if parent_keys:
        parent_ids.update(_parents(session, sorted(parent_keys)))

    conn = session.connection()
    writer = bulk.MentionWriter(conn, now=now)
    updates: list[dict[str, Any]] = []
    metric_updates: list[dict[str, Any]] = []
    reindex_new: list[tuple[int, str]] = []
    reindex_changed: list[tuple[int, str]] = []
    bump: dict[int, int] = {} if author_counts is None else author_counts
    for m, key in zip(unique, keys, strict=True):
        mid = key_to_id[key]
        author_id = author_ids.get((m.platform, m.handle)) if m.handle is not None else None
        parent_id = parent_ids.get((m.platform, m.parent_external_id)) if m.parent_external_id else None
        old = existing.get(key)
        if old is None:
            original = None
            if m.repostable:
                original = originals.get(m.content_hash)
                if original is None:
                    originals[m.content_hash] = mid
            if parent_id is not None and parent_id > mid:
                # The parent comes later in this batch (feeds list newest first): a foreign key is
                # checked per row on SQLite, so link it after the insert (see _adopt_orphans).
                parent_id = None
            writer.add(m, mid, source_id, author_id, parent_id, original)
            reindex_new.append((mid, m.body))
            if author_id is not None:
                bump[author_id] = bump.get(author_id, 0) + 1
            if original is None:
                counts.new += 1
            else:
                counts.duplicate += 1
        elif old.revision_hash != m.revision_hash:
            updates.append(
                {
                    "b_id": mid, "kind": m.kind, "url": m.url, "author_id": author_id,
                    "parent_external_id": m.parent_external_id, "parent_id": parent_id, "thread_external_id": m.thread,
                    "published_at": m.published_at, "fetched_at": now, "updated_at": now, "title": m.title,
                    "text": m.text, "html": m.html, "language_hint": m.language_hint, "media": loads(m.media),
                    "metrics": loads(m.metrics), "raw": loads(m.raw), "content_hash": m.content_hash,
                    "revision_hash": m.revision_hash, "revision": old.revision + 1,
                }
            )  # fmt: skip
            reindex_changed.append((mid, m.body))
            counts.updated += 1
        else:
            counts.unchanged += 1
            if m.metrics != "{}":
                metrics = loads(m.metrics)
                if _as_dict(old.metrics) != metrics:
                    metric_updates.append({"b_id": mid, "metrics": metrics})

    if writer.rows:
        writer.flush()
        search_index.write_folded(session, reindex_new, replace=False)
    if updates:
        cols = [c for c in updates[0] if c != "b_id"]
        conn.execute(
            update(mention_t).where(mention_t.c.id == bindparam("b_id")).values({c: bindparam(c) for c in cols}),
            updates,
        )
        search_index.write_folded(session, reindex_changed, replace=True)
    if metric_updates:
        conn.execute(
            update(mention_t).where(mention_t.c.id == bindparam("b_id")).values(metrics=bindparam("metrics")),
            metric_updates,
        )
    if bump and author_counts is None:
        bulk.bump_authors(conn, bump, now=now)
    if fresh:
        _adopt_orphans(conn, fresh, key_to_id)
    ids = [key_to_id[(m.platform, m.external_id)] for m in items]
    return StoreResult(counts, ids)


def _adopt_orphans(
    conn: Connection, inserted: Sequence[tuple[str, str]], key_to_id: dict[tuple[str, str], int]
) -> None:
    """Link replies stored before their parent arrived (a comments feed pulled before the posts,
    or a reply listed before its parent in the same batch)."""
    cols = (mention_t.c.id, mention_t.c.platform, mention_t.c.parent_external_id)
    links = [
        {"b_id": r.id, "parent": key_to_id[(r.platform, r.parent_external_id)]}
        for r in _lookup(conn, mention_t, mention_t.c.parent_external_id, cols, inserted, orphans_only=True)
    ]
    if links:
        conn.execute(
            update(mention_t).where(mention_t.c.id == bindparam("b_id")).values(parent_id=bindparam("parent")), links
        )


def _as_dict(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
