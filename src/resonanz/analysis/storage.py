"""Driver-level writes of analysis results (the runner's hot path).

Going through SQLAlchemy cost more per row (parameter processing, JSON encoding with the standard
library) than the database spends storing it, as on the ingest path (see mentions/bulk.py): rows
go to the driver inside the caller's transaction, converted the way the column types would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from resonanz.mentions.bulk import sqlite_datetime
from resonanz.mentions.prepared import dumps


def _cursor_params(session: Session) -> tuple[Any, str, bool]:
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    return conn.connection.dbapi_connection, "?" if sqlite else "%s", sqlite


def insert_results(
    session: Session, rows: Sequence[tuple[int, str, str, int, dict[str, Any]]], *, now: datetime
) -> None:
    """``(mention_id, stage, version, revision, result)`` rows into ``analysis_result``."""
    if not rows:
        return
    dbapi, p, sqlite = _cursor_params(session)
    stamp: Any = sqlite_datetime(now) if sqlite else now
    json_param = p if sqlite else f"{p}::jsonb"
    sql = (
        "INSERT INTO analysis_result (mention_id, stage, version, revision, result, created_at) "
        f"VALUES ({p}, {p}, {p}, {p}, {json_param}, {p})"
    )
    params = [(m, s, v, r, dumps(result), stamp) for m, s, v, r, result in rows]
    cur = dbapi.cursor()
    try:
        cur.executemany(sql, params)
    finally:
        cur.close()


def update_mentions(session: Session, updates: Sequence[dict[str, Any]]) -> None:
    """Set projected columns: one executemany per distinct set of columns (a batch has a handful)."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for values in updates:
        keys = tuple(sorted(k for k in values if k != "id"))
        groups.setdefault(keys, []).append((*(values[k] for k in keys), values["id"]))
    if not groups:
        return
    dbapi, p, _ = _cursor_params(session)
    cur = dbapi.cursor()
    try:
        for keys, params in groups.items():
            # the column names come from PROJECTED_COLUMNS (a fixed set), never from input
            assignments = ", ".join(f"{k} = {p}" for k in keys)
            cur.executemany(f"UPDATE mention SET {assignments} WHERE id = {p}", params)
    finally:
        cur.close()
