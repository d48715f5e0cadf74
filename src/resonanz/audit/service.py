"""Reading the audit log: filters (who, which action, which object, when) and keyset pages.

Pages go by id, newest first (``before_id``: the last id of the previous page), so a deep page costs
the same as the first and rows written meanwhile never shift what the next page shows. An action
filter ending in ``.`` or ``*`` is a prefix (``case.`` = every case change), otherwise exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from resonanz.audit.models import AuditEvent
from resonanz.errors import InputError

MAX_LIMIT = 500
#: counting stops here (a page says "more than 10,000" rather than scanning the whole log)
COUNT_CAP = 10_000
_S = TypeVar("_S", bound=Select[Any])


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; every field is optional and they combine with AND."""

    actor_user_id: int | None = None
    #: True: only rows without a person (the system, the command line)
    system_only: bool = False
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def check(self) -> AuditFilter:
        """Refuse what cannot be right (an empty window, over-long texts) with the field's name."""
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InputError("'until' must be after 'since'", location="until")
        for name in ("action", "object_type", "object_id"):
            value = getattr(self, name)
            if value is not None and len(value) > 64:
                raise InputError("at most 64 characters", location=name)
        return self


def _where(stmt: _S, f: AuditFilter) -> _S:
    if f.system_only:
        stmt = stmt.where(AuditEvent.actor_user_id.is_(None))
    elif f.actor_user_id is not None:
        stmt = stmt.where(AuditEvent.actor_user_id == f.actor_user_id)
    if f.action:
        if f.action.endswith(("*", ".")):
            prefix = f.action.rstrip("*")
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(AuditEvent.action.like(f"{escaped}%", escape="\\"))
        else:
            stmt = stmt.where(AuditEvent.action == f.action)
    if f.object_type:
        stmt = stmt.where(AuditEvent.object_type == f.object_type)
    if f.object_id:
        stmt = stmt.where(AuditEvent.object_id == f.object_id)
    if f.since is not None:
        stmt = stmt.where(AuditEvent.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEvent.at < f.until)
    return stmt


def page_events(
    session: Session, *, where: AuditFilter | None = None, before_id: int | None = None, limit: int = 50
) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, and the ``before_id`` of the next page (None on the last)."""
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = _where(select(AuditEvent), (where or AuditFilter()).check())
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    rows = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def count_events(session: Session, *, where: AuditFilter | None = None) -> tuple[int, bool]:
    """(count, capped): how many rows match, counted up to :data:`COUNT_CAP`."""
    inner = _where(select(AuditEvent.id), (where or AuditFilter()).check()).limit(COUNT_CAP + 1).subquery()
    total = int(session.scalar(select(func.count()).select_from(inner)) or 0)
    return min(total, COUNT_CAP), total > COUNT_CAP


def action_names(session: Session) -> list[str]:
    """The actions the log holds (for the filter's choices)."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def object_types(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)))


def list_events(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: int | str | None = None,
    action: str | None = None,
    actor_user_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """Newest first (the short form the other areas and their tests use)."""
    where = AuditFilter(
        actor_user_id=actor_user_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
    )
    return page_events(session, where=where, limit=limit)[0]
