"""The full-text index, one implementation per engine behind two functions.

Only :mod:`resonanz.mentions.ingest` writes it; :mod:`resonanz.mentions.search` reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from resonanz.mentions.text import fold
from resonanz.mentions.tokens import tsvector_literal


def index_body(title: str | None, body: str) -> str:
    return fold(f"{title}\n{body}" if title else body)


def write(session: Session, rows: Sequence[tuple[int, str | None, str]], *, replace: bool) -> None:
    """Index ``(mention_id, title, text)`` rows; ``replace`` when the mentions were indexed before."""
    write_folded(session, [(mid, index_body(title, body)) for mid, title, body in rows], replace=replace)


def write_folded(session: Session, rows: Sequence[tuple[int, str]], *, replace: bool) -> None:
    """Index ``(mention_id, folded body)`` rows (bodies made by :func:`index_body`).

    One driver-level ``executemany`` on SQLite and one ``unnest`` statement on PostgreSQL: this
    runs for every ingested batch, and SQLAlchemy's per-row parameter handling cost more than
    the index itself.
    """
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if replace:
                cur.executemany("DELETE FROM mention_fts WHERE rowid = ?", [(mid,) for mid, _ in rows])
            cur.executemany("INSERT INTO mention_fts (rowid, body) VALUES (?, ?)", rows)
        finally:
            cur.close()
    else:
        # The words FTS5 sees, as a tsvector literal: PostgreSQL's own parser would make hosts,
        # hyphenated words and numbers of them and shift positions (see mentions/tokens.py).
        conn.execute(
            text(
                "INSERT INTO mention_search (mention_id, vector) "
                "SELECT i, CAST(b AS tsvector) FROM unnest(CAST(:ids AS integer[]), CAST(:bodies AS text[])) "
                "AS t(i, b) ON CONFLICT (mention_id) DO UPDATE SET vector = excluded.vector"
            ),
            {"ids": [mid for mid, _ in rows], "bodies": [tsvector_literal(body) for _, body in rows]},
        )


def delete(session: Session, mention_ids: Sequence[int]) -> None:
    if not mention_ids:
        return
    conn = session.connection()
    table, column = ("mention_fts", "rowid") if conn.dialect.name == "sqlite" else ("mention_search", "mention_id")
    conn.execute(text(f"DELETE FROM {table} WHERE {column} = :id"), [{"id": i} for i in mention_ids])
