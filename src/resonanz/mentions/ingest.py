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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, tuple_, update
from sqlalchemy.orm import Session

from resonanz.mentions import search_index
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.schemas import MentionIn
from resonanz.mentions.text import content_hash, digest

CHUNK = 500
#: Texts shorter than this are too generic ("Danke!", "+1") to call a repost of each other.
MIN_DUPLICATE_TEXT = 24

mention_t = Mention.__table__
author_t = Author.__table__


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


def revision_hash(item: MentionIn) -> str:
    """Everything whose change makes a re-pulled item an edit (engagement counts do not)."""
    author = item.author.handle if item.author else None
    return digest(
        item.title,
        item.text,
        item.html,
        item.url,
        author,
        item.parent_external_id,
        item.published_at.isoformat(),
    )


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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


def _upsert_authors(session: Session, items: Sequence[MentionIn], now: datetime) -> dict[tuple[str, str], int]:
    wanted: dict[tuple[str, str], MentionIn] = {}
    for item in items:
        if item.author is not None:
            wanted[(item.platform, item.author.handle)] = item
    if not wanted:
        return {}
    conn = session.connection()
    found: dict[tuple[str, str], tuple[int, str | None, int | None]] = {}
    for chunk in _chunks(list(wanted)):
        rows = conn.execute(
            select(author_t.c.id, author_t.c.platform, author_t.c.handle, author_t.c.name, author_t.c.followers).where(
                tuple_(author_t.c.platform, author_t.c.handle).in_(chunk)
            )
        )
        for r in rows:
            found[(r.platform, r.handle)] = (r.id, r.name, r.followers)
    missing = [key for key in wanted if key not in found]
    ids = allocate_ids(session, "author", len(missing))
    result = {key: val[0] for key, val in found.items()}
    if missing:
        new_rows = []
        for key, new_id in zip(missing, ids, strict=True):
            a = wanted[key].author
            assert a is not None
            new_rows.append(
                {
                    "id": new_id, "platform": key[0], "handle": key[1], "name": a.name, "url": a.url,
                    "followers": a.followers, "mention_count": 0, "first_seen_at": now, "last_seen_at": now,
                }
            )  # fmt: skip
            result[key] = new_id
        conn.execute(author_t.insert(), new_rows)
    changed = []
    for key, (aid, name, followers) in found.items():
        a = wanted[key].author
        assert a is not None
        if (a.name and a.name != name) or (a.followers is not None and a.followers != followers):
            changed.append({"b_id": aid, "name": a.name or name, "followers": a.followers})
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
    found: dict[tuple[str, str], Any] = {}
    for chunk in _chunks(keys):
        rows = conn.execute(
            select(
                mention_t.c.id, mention_t.c.platform, mention_t.c.external_id, mention_t.c.revision_hash,
                mention_t.c.metrics, mention_t.c.revision,
            ).where(tuple_(mention_t.c.platform, mention_t.c.external_id).in_(chunk))
        )  # fmt: skip
        for r in rows:
            found[(r.platform, r.external_id)] = r
    return found


def _originals(session: Session, hashes: Sequence[str]) -> dict[str, int]:
    conn = session.connection()
    found: dict[str, int] = {}
    for chunk in _chunks(hashes):
        rows = conn.execute(
            select(mention_t.c.content_hash, func.min(mention_t.c.id))
            .where(mention_t.c.content_hash.in_(chunk), mention_t.c.duplicate_of_id.is_(None))
            .group_by(mention_t.c.content_hash)
        )
        found.update({r[0]: int(r[1]) for r in rows})
    return found


def _parents(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    conn = session.connection()
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(keys):
        rows = conn.execute(
            select(mention_t.c.id, mention_t.c.platform, mention_t.c.external_id).where(
                tuple_(mention_t.c.platform, mention_t.c.external_id).in_(chunk)
            )
        )
        found.update({(r.platform, r.external_id): r.id for r in rows})
    return found


@dataclass
class StoreResult:
    counts: IngestCounts
    #: mention id per input item, in input order (the surviving row for in-batch duplicates)
    ids: list[int]


def store_batch(session: Session, items: Sequence[MentionIn], *, source_id: int | None, now: datetime) -> StoreResult:
    """Insert or update ``items`` in the session's transaction (the caller commits)."""
    counts = IngestCounts()
    if not items:
        return StoreResult(counts, [])
    last_index: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        last_index[(item.platform, item.external_id)] = index
    counts.duplicate += len(items) - len(last_index)
    unique = [items[i] for i in sorted(last_index.values())]

    authors = _upsert_authors(session, unique, now)
    existing = _existing(session, [(m.platform, m.external_id) for m in unique])
    fresh = [m for m in unique if (m.platform, m.external_id) not in existing]
    new_ids = allocate_ids(session, "mention", len(fresh))
    key_to_id: dict[tuple[str, str], int] = {k: r.id for k, r in existing.items()}
    key_to_id.update({(m.platform, m.external_id): i for m, i in zip(fresh, new_ids, strict=True)})

    hashes = {id(m): content_hash(m.text, m.title) for m in unique}
    dup_candidates = [hashes[id(m)] for m in fresh if len(m.text) >= MIN_DUPLICATE_TEXT]
    originals = _originals(session, sorted(set(dup_candidates))) if dup_candidates else {}
    parent_keys = [
        (m.platform, m.parent_external_id)
        for m in unique
        if m.parent_external_id and (m.platform, m.parent_external_id) not in key_to_id
    ]
    parent_ids = dict(key_to_id)
    if parent_keys:
        parent_ids.update(_parents(session, sorted(set(parent_keys))))

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    metric_updates: list[dict[str, Any]] = []
    reindex_new: list[tuple[int, str | None, str]] = []
    reindex_changed: list[tuple[int, str | None, str]] = []
    author_counts: dict[int, int] = {}
    for m in unique:
        key = (m.platform, m.external_id)
        mid = key_to_id[key]
        rev = revision_hash(m)
        author_id = authors.get((m.platform, m.author.handle)) if m.author else None
        parent_id = parent_ids.get((m.platform, m.parent_external_id)) if m.parent_external_id else None
        thread = m.thread_external_id or m.parent_external_id or m.external_id
        chash = hashes[id(m)]
        row = {
            "platform": m.platform, "external_id": m.external_id, "kind": str(m.kind), "url": m.url,
            "author_id": author_id, "parent_external_id": m.parent_external_id, "parent_id": parent_id,
            "thread_external_id": thread, "published_at": m.published_at, "fetched_at": now, "updated_at": now,
            "title": m.title, "text": m.text, "html": m.html, "language_hint": m.language_hint,
            "media": m.media, "metrics": m.metrics, "raw": m.raw, "content_hash": chash, "revision_hash": rev,
        }  # fmt: skip
        old = existing.get(key)
        if old is None:
            original = originals.get(chash) if len(m.text) >= MIN_DUPLICATE_TEXT else None
            if original is None and len(m.text) >= MIN_DUPLICATE_TEXT:
                originals[chash] = mid
            row.update(id=mid, source_id=source_id, duplicate_of_id=original, revision=1)
            inserts.append(row)
            reindex_new.append((mid, m.title, m.text))
            if author_id is not None:
                author_counts[author_id] = author_counts.get(author_id, 0) + 1
            if original is None:
                counts.new += 1
            else:
                counts.duplicate += 1
        elif old.revision_hash != rev:
            row.update(b_id=mid, revision=old.revision + 1)
            updates.append(row)
            reindex_changed.append((mid, m.title, m.text))
            counts.updated += 1
        else:
            counts.unchanged += 1
            if m.metrics and _as_dict(old.metrics) != m.metrics:
                metric_updates.append({"b_id": mid, "metrics": m.metrics})

    conn = session.connection()
    if inserts:
        conn.execute(mention_t.insert(), inserts)
        search_index.write(session, reindex_new, replace=False)
    if updates:
        cols = [c for c in updates[0] if c not in ("b_id", "platform", "external_id")]
        conn.execute(
            update(mention_t).where(mention_t.c.id == bindparam("b_id")).values({c: bindparam(c) for c in cols}),
            updates,
        )
        search_index.write(session, reindex_changed, replace=True)
    if metric_updates:
        conn.execute(
            update(mention_t).where(mention_t.c.id == bindparam("b_id")).values(metrics=bindparam("metrics")),
            metric_updates,
        )
    if author_counts:
        conn.execute(
            update(author_t)
            .where(author_t.c.id == bindparam("b_id"))
            .values(mention_count=author_t.c.mention_count + bindparam("n"), last_seen_at=now),
            [{"b_id": k, "n": v} for k, v in author_counts.items()],
        )
    if inserts:
        _adopt_orphans(session, inserts)
    ids = [key_to_id[(m.platform, m.external_id)] for m in items]
    return StoreResult(counts, ids)


def _adopt_orphans(session: Session, inserts: Sequence[dict[str, Any]]) -> None:
    """Link replies stored before their parent arrived (a comments feed pulled before the posts)."""
    by_platform: dict[str, list[str]] = {}
    for row in inserts:
        by_platform.setdefault(row["platform"], []).append(row["external_id"])
    conn = session.connection()
    parent = mention_t.alias("p")
    for platform, ext_ids in by_platform.items():
        for chunk in _chunks(ext_ids):
            conn.execute(
                update(mention_t)
                .where(
                    mention_t.c.parent_id.is_(None),
                    mention_t.c.platform == platform,
                    mention_t.c.parent_external_id.in_(chunk),
                )
                .values(
                    parent_id=select(parent.c.id)
                    .where(parent.c.platform == mention_t.c.platform)
                    .where(parent.c.external_id == mention_t.c.parent_external_id)
                    .scalar_subquery()
                )
            )


def _as_dict(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
