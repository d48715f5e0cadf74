"""Driver-level bulk writes for the ingest hot path (only :mod:`resonanz.mentions.ingest` uses them).

SQLAlchemy's executemany spends more time per row on parameter processing than SQLite spends
storing it, so new mentions go straight to the driver, inside the caller's transaction: one
``executemany`` on SQLite and one ``COPY`` on PostgreSQL. Values are converted here exactly as the
column types would convert them (the SQLite datetime text format, JSON text), so rows written
either way read back the same through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, text

from resonanz.mentions.models import ANALYSIS_COLUMNS, Mention
from resonanz.mentions.prepared import Prepared, dumps

__all__ = ["COLUMNS", "MentionWriter", "bump_authors", "dumps", "sqlite_datetime"]

mention_t = cast(Table, Mention.__table__)
COLUMNS = tuple(c.name for c in mention_t.columns if c.name not in ANALYSIS_COLUMNS)
_SQLITE_INSERT = f"INSERT INTO mention ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
_PG_COPY = f"COPY mention ({', '.join(COLUMNS)}) FROM STDIN"


def sqlite_datetime(value: datetime) -> str:
    """The text SQLAlchemy stores for a :class:`~resonanz.db.types.UTCDateTime` on SQLite
    ('2026-03-01 12:00:00.000000', naive UTC), without its per-value processor chain."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; use resonanz.clock.now()")
    if value.tzinfo is UTC:  # parsed times are UTC already: cut "+00:00" off instead of converting
        return value.isoformat(" ", "microseconds")[:-6]
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _dbapi(conn: Connection) -> Any:
    """The driver connection under ``conn`` (same transaction)."""
    return conn.connection.dbapi_connection


class MentionWriter:
    """Collects new mention rows (in :data:`COLUMNS` order) and writes them in one go."""

    def __init__(self, conn: Connection, *, now: datetime) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        # PostgreSQL's COPY takes aware datetimes as they are; SQLite needs the stored text form.
        self.when: Callable[[datetime], Any] = sqlite_datetime if self.sqlite else (lambda v: v)
        self.now = self.when(now)
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self,
        p: Prepared,
        *,
        id: int,
        source_id: int | None,
        author_id: int | None,
        parent_id: int | None,
        duplicate_of_id: int | None,
    ) -> None:
        now = self.now
        self.rows.append(
            (
                id, p.platform, p.external_id, source_id, p.kind, p.url, author_id, p.parent_external_id,
                parent_id, p.thread, self.when(p.published_at), now, now, p.title, p.text, p.html, p.language_hint,
                p.media, p.metrics, p.raw, p.content_hash, p.revision_hash, duplicate_of_id, 1,
            )
        )  # fmt: skip

    def flush(self) -> None:
        if not self.rows:
            return
        dbapi = _dbapi(self.conn)
        if self.sqlite:
            cur = dbapi.cursor()
            try:
                cur.executemany(_SQLITE_INSERT, self.rows)
            finally:
                cur.close()
        else:
            with dbapi.cursor() as cur, cur.copy(_PG_COPY) as copy:
                for row in self.rows:
                    copy.write_row(row)
        self.rows = []


def bump_authors(conn: Connection, counts: dict[int, int], *, now: datetime) -> None:
    """``mention_count += n`` and ``last_seen_at = now`` for each author id in ``counts``."""
    if conn.dialect.name == "sqlite":
        stamp = sqlite_datetime(now)
        cur = _dbapi(conn).cursor()
        try:
            cur.executemany(
                "UPDATE author SET mention_count = mention_count + ?, last_seen_at = ? WHERE id = ?",
                [(n, stamp, author_id) for author_id, n in counts.items()],
            )
        finally:
            cur.close()
        return
    conn.execute(
        text(
            "UPDATE author SET mention_count = author.mention_count + v.n, last_seen_at = :now "
            "FROM unnest(CAST(:ids AS integer[]), CAST(:ns AS integer[])) AS v(id, n) WHERE author.id = v.id"
        ),
        {"ids": list(counts), "ns": list(counts.values()), "now": now},
    )
