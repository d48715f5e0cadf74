"""Writing the audit log. Every ``do_*`` action that changes state calls :func:`do_record` in the
same transaction, so a change and its audit row are committed (or rolled back) together."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from resonanz.audit.models import AuditEvent
from resonanz.clock import now

#: Keys that must never reach an audit row, whatever a caller passes in ``before``/``after``.
SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "csrf_secret", "secret", "raw_token"})


class Actor(Protocol):
    """Who acts: anything with a ``user_id`` (a signed-in Principal). ``None`` means the system or
    the command line."""

    @property
    def user_id(self) -> int: ...


def _clean(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v for k, v in values.items() if k not in SECRET_KEYS}


def do_record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: int | str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one row (flushed, committed by the caller's transaction). Secret-looking keys are
    dropped as a last line of defence; callers should not pass them in the first place."""
    event = AuditEvent(
        at=now(),
        actor_user_id=actor.user_id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=_clean(before),
        after=_clean(after),
        ip=ip,
    )
    session.add(event)
    session.flush()
    return event
