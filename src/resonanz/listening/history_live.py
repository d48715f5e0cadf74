"""``query test`` in the live editor on SQLite: two shapes of exact draft that read a mention row per
candidate, answered within the editor's time instead (issue 5: p95 under 200 ms at 1M mentions).

- A draft of columns only (``intent:complaint lang:en``) has no index expression; SQLite takes the
  index of one column and reads the row of every mention with that value for the others (139,000
  rows, 300–380 ms at 1M). ``ix_mention_published`` holds every column such a draft can name, and
  the day: scanning it whole reads no row (90–130 ms at 1M), whatever the values' frequencies.
- A draft whose index expression drives an AND of columns (``alpenblitz lang:de``) reads the row of
  every candidate the index finds (136,000 for ``alpenblitz``, 250 ms). Past
  :data:`~resonanz.listening.service.LIVE_SAMPLE_ROWS` candidates, every k-th candidate (by id, so
  spread over the whole history) is read and the matches among them stand for k each: an estimate,
  as PostgreSQL's page sample gives the editor. The CLI's longer limit still counts exactly.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import ReturnsRows, TextClause
from sqlalchemy.sql.schema import Column

from resonanz.listening.history import SqlPlan, count_index
from resonanz.mentions.models import Mention

#: the covering index of the mention table (``published_at, id`` and the analysis columns)
COVERING_INDEX = "ix_mention_published"
_COVERED = frozenset({"published_at", "id", "lang", "sentiment", "intent", "platform", "source_id", "author_id"})


def covered(where: ColumnElement[bool] | None) -> bool:
    """Whether ``where`` reads only columns of :data:`COVERING_INDEX` (no subquery, no other table)."""
    if where is None:
        return False
    nodes = list(visitors.iterate(where))
    if any(isinstance(node, (TextClause, ReturnsRows)) for node in nodes):  # a subquery: the index
        return False
    columns = [node for node in nodes if isinstance(node, Column)]
    table = Mention.__table__
    return bool(columns) and all(col.table is table and col.name in _COVERED for col in columns)


def through_covering_index(where: ColumnElement[bool]) -> ColumnElement[bool]:
    """``where`` with each column written ``+mention.name``: SQLite uses no index for such a term,
    so the planner scans the one index that holds every column asked for
    (:data:`COVERING_INDEX`) instead of one column's index plus a row per value. SQLAlchemy renders
    no ``INDEXED BY`` hint for SQLite, hence the unary plus."""

    def unindexed(node: Any, **_: Any) -> Any:
        if isinstance(node, Column) and node.table is Mention.__table__:
            return literal_column(f"+{Mention.__tablename__}.{node.name}")
        return None

    swapped = visitors.replacement_traverse(where, {}, unindexed)  # type: ignore[call-overload]
    return cast("ColumnElement[bool]", swapped)


def driver_sample(session: Session, plan: SqlPlan, key: Any, rows: int) -> tuple[int, int, Any] | None:
    """``(candidates, every, statement)`` for a driven draft with more than ``rows`` candidates:
    the statement counts per day the matches among every ``every``-th candidate. None below."""
    assert plan.driver is not None and plan.rest is not None
    candidates = int(
        session.scalar(select(func.count()).select_from(count_index(session, plan.driver).subquery())) or 0
    )
    every = -(-candidates // rows)
    if every <= 1:
        return None
    sampled = Mention.id.in_(count_index(session, plan.driver, every=every))
    stmt = select(key, func.count()).select_from(Mention).where(sampled, plan.rest).group_by(key)
    return candidates, every, stmt
