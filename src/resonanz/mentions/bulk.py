"""Driver-level bulk writes for the ingest hot path (only :mod:`resonanz.mentions.ingest` uses them).

SQLAlchemy's executemany spends more time per row on parameter processing than SQLite spends
storing it, so new mentions go straight to the driver, inside the caller's transaction: one
``executemany`` on SQLite and one ``COPY`` on PostgreSQL. Values are converted here exactly as the
column types would convert them (the SQLite datetime text format, JSON text), so rows written
either way read back the same through the ORM.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, text

from resonanz.mentions.models import ANALYSIS_COLUMNS, Mention
from resonanz.mentions.prepared import PUBLISHED_AT, ROW_COLUMNS, ROW_FIELDS, Prepared, dumps, sqlite_datetime

__all__ = ["COLUMNS", "MentionWriter", "bump_authors", "dumps", "sqlite_datetime"]

mention_t = cast(Table, Mention.__table__)
COLUMNS = tuple(c.name for c in mention_t.columns if c.name not in ANALYSIS_COLUMNS)
#: The order rows are written in: what the store loop knows, then the prepared item's first fields.
_ROW = ("id", "source_id", "author_id", "parent_id", "duplicate_of_id", "fetched_at", "updated_at", "revision")
_ORDER = (*_ROW, *ROW_COLUMNS)
assert sorted(_ORDER) == sorted(COLUMNS), "every mention column but the analysis ones is written"
_SQLITE_INSERT = f"INSERT INTO mention ({', '.join(_ORDER)}) VALUES ({', '.join('?' for _ in _ORDER)})"
_PG_COPY = f"COPY mention ({', '.join(_ORDER)}) FROM STDIN"


def _dbapi(conn: Connection) -> Any:
    """The driver connection under ``conn`` (same transaction)."""
    return conn.connection.dbapi_connection


class MentionWriter:
    """Collects new mention rows and writes them in one go."""

    def __init__(self, conn: Connection, *, now: datetime) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        # PostgreSQL's COPY takes aware datetimes as they are; SQLite needs the stored text form
        # (the worker made it for published_at: Prepared.published_text).
        self.now: Any = sqlite_datetime(now) if self.sqlite else now
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self, p: Prepared, id: int, source_id: int | None, author_id: int | None, parent_id: int | None,
        duplicate_of_id: int | None,
    ) -> None:  # fmt: skip
        """Queue ``p`` as a new row (positional arguments: this runs once per new mention)."""
        now = self.now
        head = (id, source_id, author_id, parent_id, duplicate_of_id, now, now, 1)
        if self.sqlite:
            self.rows.append(head + p[:ROW_FIELDS])
        else:  # COPY takes the aware datetime, not SQLite's text
            self.rows.append(head + p[:PUBLISHED_AT] + (p.published_at,) + p[PUBLISHED_AT + 1 : ROW_FIELDS])

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
