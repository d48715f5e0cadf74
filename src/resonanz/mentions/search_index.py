"""The full-text index, one implementation per engine behind two functions.

Only :mod:`resonanz.mentions.ingest` writes it; :mod:`resonanz.mentions.search` reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from resonanz.mentions.text import fold


def index_body(title: str | None, body: str) -> str:
    return fold(f"{title}\n{body}" if title else body)


def write(session: Session, rows: Sequence[tuple[int, str | None, str]], *, replace: bool) -> None:
    """Index ``(mention_id, title, text)`` rows; ``replace`` when the mentions were indexed before."""
    if not rows:
        return
    params = [{"id": mid, "body": index_body(title, body)} for mid, title, body in rows]
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        if replace:
            conn.execute(text("DELETE FROM mention_fts WHERE rowid = :id"), [{"id": p["id"]} for p in params])
        conn.execute(text("INSERT INTO mention_fts (rowid, body) VALUES (:id, :body)"), params)
    else:
        conn.execute(
            text(
                "INSERT INTO mention_search (mention_id, vector) VALUES (:id, to_tsvector('simple', :body)) "
                "ON CONFLICT (mention_id) DO UPDATE SET vector = excluded.vector"
            ),
            params,
        )


def delete(session: Session, mention_ids: Sequence[int]) -> None:
    if not mention_ids:
        return
    conn = session.connection()
    table, column = ("mention_fts", "rowid") if conn.dialect.name == "sqlite" else ("mention_search", "mention_id")
    conn.execute(text(f"DELETE FROM {table} WHERE {column} = :id"), [{"id": i} for i in mention_ids])
