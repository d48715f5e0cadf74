"""Reading the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.audit.models import AuditEvent


def list_events(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: int | str | None = None,
    action: str | None = None,
    actor_user_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """Newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if object_type is not None:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == str(object_id))
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if actor_user_id is not None:
        stmt = stmt.where(AuditEvent.actor_user_id == actor_user_id)
    return session.scalars(stmt).all()
