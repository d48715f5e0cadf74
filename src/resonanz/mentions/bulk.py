"""Driver-level bulk writes for the ingest hot path (only :mod:`resonanz.mentions.ingest` uses them).

SQLAlchemy's executemany spends more time per row on parameter processing than SQLite spends
storing it, so new mentions go straight to the driver, inside the caller's transaction: one
``executemany`` on SQLite and one ``COPY`` on PostgreSQL. Values are converted here exactly as the
column types would convert them (the SQLite datetime text format, JSON text), so rows written
either way read back the same through the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, Connection, Table, text

from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import MentionIn

mention_t = cast(Table, Mention.__table__)
COLUMNS = tuple(c.name for c in mention_t.columns)
_SQLITE_INSERT = f"INSERT INTO mention ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
_PG_COPY = f"COPY mention ({', '.join(COLUMNS)}) FROM STDIN"


def _dbapi(conn: Connection) -> Any:
    """The driver connection under ``conn`` (same transaction)."""
    return conn.connection.dbapi_connection


def _processor(conn: Connection, column: Column[Any]) -> Callable[[Any], Any]:
    """The bind conversion SQLAlchemy would apply to ``column`` on this connection's dialect."""
    proc = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return proc if proc is not None else (lambda v: v)


class MentionWriter:
    """Collects new mention rows (in :data:`COLUMNS` order) and writes them in one go."""

    def __init__(self, conn: Connection, *, now: datetime) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        # PostgreSQL's COPY takes aware datetimes as they are; SQLite needs the stored text form.
        self.when = _processor(conn, mention_t.c.published_at) if self.sqlite else (lambda v: v)
        self.now = self.when(now)
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self,
        m: MentionIn,
        *,
        id: int,
        source_id: int | None,
        author_id: int | None,
        parent_id: int | None,
        thread: str,
        content_hash: str,
        revision_hash: str,
        duplicate_of_id: int | None,
    ) -> None:
        now = self.now
        self.rows.append(
            (
                id, m.platform, m.external_id, source_id, str(m.kind), m.url, author_id, m.parent_external_id,
                parent_id, thread, self.when(m.published_at), now, now, m.title, m.text, m.html, m.language_hint,
                json.dumps(m.media), json.dumps(m.metrics), json.dumps(m.raw), content_hash, revision_hash,
                duplicate_of_id, 1,
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
        stamp = _processor(conn, mention_t.c.published_at)(now)
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
