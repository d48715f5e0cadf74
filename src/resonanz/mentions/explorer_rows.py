"""Explorer list rows (:class:`MentionSummary`) for a list of mention ids, in that order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from resonanz.clock import ensure_utc
from resonanz.mentions.explorer_plan import ENGAGEMENT_POSTGRESQL, ENGAGEMENT_SQLITE
from resonanz.mentions.explorer_schemas import MentionSummary

SNIPPET_CHARS = 280


def _number(value: Any) -> float:
    return int(value) if isinstance(value, Decimal) and value == value.to_integral_value() else float(value or 0)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The text, cut at a word boundary before ``limit`` characters (plain text; escape when shown)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


_COLUMNS = (
    "m.id, m.platform, m.kind, m.source_id, s.name, m.author_id, a.handle, a.name, m.published_at, m.title, m.text, "
    "m.url, m.lang, m.sentiment, m.intent, m.needs_response, m.risk_score, {engagement}, m.parent_id, m.duplicate_of_id"
)
_SQL = (
    "SELECT {columns} FROM mention AS m LEFT OUTER JOIN source AS s ON s.id = m.source_id "
    "LEFT OUTER JOIN author AS a ON a.id = m.author_id WHERE m.id IN ({marks})"
)


def _published(value: Any) -> datetime:
    """SQLite's stored text ('2026-03-01 12:00:00.000000', naive UTC) or PostgreSQL's aware value."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return ensure_utc(value)


def summaries(session: Session, ids: Sequence[int]) -> list[MentionSummary]:
    """One list row per id (ids that do not exist are left out), in the order of ``ids``.

    One driver-level query (a page of 50 rows through SQLAlchemy's result processing and model
    validation cost more than SQLite's reading them); the values are the database's own, so the
    rows are built without validation. Engagement is computed by the database (the sort's own
    expression) instead of parsing every row's metrics JSON."""
    if not ids:
        return []
    sqlite = session.get_bind().dialect.name == "sqlite"
    columns = _COLUMNS.format(
        engagement=(ENGAGEMENT_SQLITE if sqlite else ENGAGEMENT_POSTGRESQL).replace("metrics", "m.metrics")
    )
    sql = _SQL.format(columns=columns, marks=", ".join(("?" if sqlite else "%s") for _ in ids))
    cur = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql, [int(i) for i in ids])
        rows = cur.fetchall()
    finally:
        cur.close()
    by_id = {}
    construct = MentionSummary.model_construct
    for r in rows:
        by_id[r[0]] = construct(
            id=r[0], platform=r[1], kind=r[2], source_id=r[3], source_name=r[4], author_id=r[5], author_handle=r[6],
            author_name=r[7], published_at=_published(r[8]), title=r[9], snippet=snippet(r[10] or ""), url=r[11],
            lang=r[12], sentiment=r[13], intent=r[14], needs_response=None if r[15] is None else bool(r[15]),
            risk=r[16], engagement=_number(r[17]), parent_id=r[18], duplicate_of_id=r[19],
        )  # fmt: skip
    return [by_id[i] for i in ids if i in by_id]
